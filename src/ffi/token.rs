//! hct_token: one issued token handed to a C caller with what the server said about it, and
//! hct_client_get, the call with choices (flags, a timeout of its own) that returns one.

use std::ffi::{c_char, CString};
use std::ptr;
use std::time::Duration;

use super::boundary::{arg_ref, check_out, guard, guard_value, guard_void};
use super::{hct_client, hct_status};
use crate::client::GetOptions;
use crate::error::Error;

/// hct_client_get flag: never fetch. A valid cached token (fresh or in its refresh window) is
/// returned; when none is cached, HCT_ERR_NO_TOKEN and no request is made.
pub const HCT_GET_CACHED_ONLY: u32 = 1u32;

/// hct_client_get flag: inside the refresh window, return the still-valid token at once and
/// leave the early refresh to another caller (one that calls without this flag). With no valid
/// token cached the call fetches as usual (unless HCT_GET_CACHED_ONLY is set too).
pub const HCT_GET_NO_EARLY_REFRESH: u32 = 2u32;

const KNOWN_FLAGS: u32 = HCT_GET_CACHED_ONLY | HCT_GET_NO_EARLY_REFRESH;

/// An issued token and what the server said about it, from hct_client_get. Read it with the
/// hct_token_ functions and free it with hct_token_free (which wipes the token). Immutable: any
/// number of threads may read one at once.
pub struct hct_token {
    /// The token and a terminating NUL; wiped when dropped.
    value: Vec<u8>,
    scope: CString,
    token_type: CString,
    expires_in_ms: i64,
}

impl Drop for hct_token {
    fn drop(&mut self) {
        crate::secret::wipe(&mut self.value);
    }
}

/// Text from the server as C text; NULs were dropped when it was parsed (response.rs).
fn c_text(text: &str) -> CString {
    CString::new(text).unwrap_or_default()
}

/// Gets a valid access token as hct_client_get_token does, with choices, and what the server
/// said about it.
///
/// flags: 0, or HCT_GET_CACHED_ONLY and/or HCT_GET_NO_EARLY_REFRESH ORed together; any other
/// bit gives HCT_ERR_INVALID_ARGUMENT (a flag from a newer header is never silently ignored).
/// timeout_ms: 0 means the client's timeout_ms; otherwise the whole call, waiting for another
/// thread's fetch included, returns within timeout_ms (then HCT_ERR_TIMEOUT). An early refresh
/// that runs out of time still returns the valid cached token.
///
/// Returns HCT_ERR_NO_TOKEN for HCT_GET_CACHED_ONLY with no valid token cached, and the
/// statuses of hct_client_get_token otherwise.
/// Ownership: on HCT_OK, *out_token is a new hct_token the caller frees with hct_token_free; on
/// error it is set to NULL.
/// Threads: any number at once on the same client. fork: as hct_client_get_token.
#[no_mangle]
pub unsafe extern "C" fn hct_client_get(
    client: *const hct_client,
    flags: u32,
    timeout_ms: u32,
    out_token: *mut *mut hct_token,
) -> hct_status {
    guard(|| {
        check_out(out_token, "out_token")?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out_token = ptr::null_mut() };
        // SAFETY: checked for NULL; a live client by the caller's contract.
        let client = unsafe { arg_ref(client, "client") }?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(Error::invalid_argument(format!(
                "flags has unknown bits 0x{:x} (known: HCT_GET_CACHED_ONLY 1, HCT_GET_NO_EARLY_REFRESH 2)",
                flags & !KNOWN_FLAGS
            )));
        }
        let options = GetOptions {
            cached_only: flags & HCT_GET_CACHED_ONLY != 0,
            no_early_refresh: flags & HCT_GET_NO_EARLY_REFRESH != 0,
            timeout: (timeout_ms != 0).then(|| Duration::from_millis(u64::from(timeout_ms))),
        };
        let token = client.inner.with_cached_token(options, |cached, remaining| {
            let token = cached.token.expose();
            let mut value = Vec::with_capacity(token.len() + 1);
            value.extend_from_slice(token.as_bytes());
            value.push(0);
            hct_token {
                value,
                scope: c_text(&cached.scope),
                token_type: c_text(&cached.token_type),
                expires_in_ms: i64::try_from(remaining.as_millis()).unwrap_or(i64::MAX),
            }
        })?;
        // SAFETY: as above.
        unsafe { *out_token = Box::into_raw(Box::new(token)) };
        Ok(())
    })
}

const EMPTY: &std::ffi::CStr = c"";

/// The bare access token (no "Bearer "), NUL-terminated; "" for a NULL token.
///
/// Ownership: the token's; valid until hct_token_free. Threads: any.
#[no_mangle]
pub unsafe extern "C" fn hct_token_value(token: *const hct_token) -> *const c_char {
    guard_value(EMPTY.as_ptr(), || {
        // SAFETY: NULL or a live hct_token by the caller's contract.
        match unsafe { token.as_ref() } {
            Some(token) => token.value.as_ptr().cast(),
            None => EMPTY.as_ptr(),
        }
    })
}

/// The token's length in bytes, without the NUL; 0 for a NULL token.
///
/// Threads: any.
#[no_mangle]
pub unsafe extern "C" fn hct_token_length(token: *const hct_token) -> usize {
    // SAFETY: NULL or a live hct_token by the caller's contract.
    guard_value(0, || unsafe { token.as_ref() }.map_or(0, |token| token.value.len() - 1))
}

/// How many milliseconds the token stays valid, counted from when hct_client_get handed it out
/// (it does not count down: subtract the time since then). 0 for a NULL token.
///
/// Threads: any.
#[no_mangle]
pub unsafe extern "C" fn hct_token_expires_in_ms(token: *const hct_token) -> i64 {
    // SAFETY: NULL or a live hct_token by the caller's contract.
    guard_value(0, || unsafe { token.as_ref() }.map_or(0, |token| token.expires_in_ms))
}

/// The scope the token endpoint granted, as it sent it (e.g. "external"); "" if it sent none
/// (or for a NULL token).
///
/// Ownership: the token's; valid until hct_token_free. Threads: any.
#[no_mangle]
pub unsafe extern "C" fn hct_token_scope(token: *const hct_token) -> *const c_char {
    // SAFETY: NULL or a live hct_token by the caller's contract.
    guard_value(EMPTY.as_ptr(), || unsafe { token.as_ref() }.map_or(EMPTY.as_ptr(), |token| token.scope.as_ptr()))
}

/// The token type as the token endpoint sent it (some spelling of "bearer": other types are
/// refused); "" if it sent none (or for a NULL token).
///
/// Ownership: the token's; valid until hct_token_free. Threads: any.
#[no_mangle]
pub unsafe extern "C" fn hct_token_type(token: *const hct_token) -> *const c_char {
    // SAFETY: NULL or a live hct_token by the caller's contract.
    guard_value(EMPTY.as_ptr(), || unsafe { token.as_ref() }.map_or(EMPTY.as_ptr(), |token| token.token_type.as_ptr()))
}

/// Wipes the token and frees it with everything it holds. NULL is accepted and ignored.
///
/// Threads: any; each token once, after every other call on it has returned.
#[no_mangle]
pub unsafe extern "C" fn hct_token_free(token: *mut hct_token) {
    guard_void(|| {
        if token.is_null() {
            return;
        }
        // SAFETY: allocated by hct_client_get and, by contract, freed only once.
        drop(unsafe { Box::from_raw(token) });
    });
}
