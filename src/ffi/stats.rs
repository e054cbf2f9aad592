//! hct_client_stats_json: a client's counters (crate::stats) as one JSON object.

use std::ffi::{c_char, CString};
use std::ptr;

use super::boundary::{arg_ref, check_out, guard, status_of};
use super::hct_client;
use super::hct_status;
use crate::stats::Stats;

/// A client's counters since hct_client_new, as one JSON object (UTF-8, NUL-terminated):
///
///   "token_requests"          requests sent to the token endpoint: every attempt of every
///                             fetch (one that could not connect counts too)
///   "fetches"                 fetches, successful or not (a fetch may make several requests)
///   "failures"                failed fetches by status name, e.g. {"HCT_ERR_TIMEOUT": 2};
///                             statuses with none are left out ({} when none failed)
///   "early_refreshes"         refreshes started in the refresh window while the token was valid
///   "early_refresh_failures"  of those, the ones that failed while the valid token kept being
///                             served
///   "stampede_joins"          calls that waited for another thread's fetch instead of fetching
///   "negative_cache_answers"  calls answered at once with a remembered refusal (no request)
///   "last_fetch_latency_ms"   how long the last fetch took (a number with a fraction), null
///                             before the first
///   "token_seconds_left"      how long the cached token stays valid, in whole seconds rounded
///                             down; null when no valid token is cached
///   "last_error_status"       status name of the last failed fetch, null if none has failed
///
/// Counted on slow paths only: a call answered from the cache (fresh token) counts nowhere, so
/// the cached path writes no shared memory. Each counter is exact; the object is not one
/// instant's snapshot of all of them. Fields may be added in a minor version; none is removed.
///
/// Ownership: on HCT_OK, *out_json is a new string the caller frees with hct_string_free; on
/// error it is set to NULL. Threads: any number at once on the same client (a log callback
/// may call it).
#[no_mangle]
pub unsafe extern "C" fn hct_client_stats_json(client: *const hct_client, out_json: *mut *mut c_char) -> hct_status {
    guard(|| {
        check_out(out_json, "out_json")?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out_json = ptr::null_mut() };
        // SAFETY: checked for NULL; a live client by the caller's contract.
        let client = unsafe { arg_ref(client, "client") }?;
        let json = to_json(&client.inner.stats());
        // JSON text from serde_json never holds a raw NUL (it escapes control characters).
        let json = CString::new(json).map_err(|_| crate::error::Error::new(crate::error::ErrorKind::Internal, "stats JSON held a NUL"))?;
        // SAFETY: as above.
        unsafe { *out_json = json.into_raw() };
        Ok(())
    })
}

/// The status name of an error kind, without its NUL.
fn name(kind: crate::error::ErrorKind) -> &'static str {
    super::status_name(status_of(kind) as i32).trim_end_matches('\0')
}

pub(crate) fn to_json(stats: &Stats) -> String {
    let failures: serde_json::Map<String, serde_json::Value> =
        stats.failures.iter().map(|&(kind, count)| (name(kind).to_owned(), count.into())).collect();
    serde_json::json!({
        "token_requests": stats.token_requests,
        "fetches": stats.fetches,
        "failures": failures,
        "early_refreshes": stats.early_refreshes,
        "early_refresh_failures": stats.early_refresh_failures,
        "stampede_joins": stats.stampede_joins,
        "negative_cache_answers": stats.negative_cache_answers,
        "last_fetch_latency_ms": stats.last_fetch_latency.map(|d| d.as_secs_f64() * 1e3),
        "token_seconds_left": stats.token_left.map(|d| d.as_secs()),
        "last_error_status": stats.last_error.map(name),
    })
    .to_string()
}
