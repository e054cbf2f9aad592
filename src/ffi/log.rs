//! hct_config_set_log_callback: the library's events (crate::log) to a C function.

use std::ffi::{c_char, c_int, c_void, CString};

use super::boundary::{arg_mut, guard};
use super::{hct_config, hct_status};
use crate::log::{LogLevel, Logger};

/// Level of an event that failed a call: a fetch that failed.
pub const HCT_LOG_ERROR: c_int = 1;
/// Level of an event the program should know about: a retry and why, an early refresh that
/// failed while the valid token kept being served.
pub const HCT_LOG_WARN: c_int = 2;
/// Level of a normal event: a fetch that ended with a token (duration, attempts), a fork noticed.
pub const HCT_LOG_INFO: c_int = 3;
/// Level of a detail: a fetch started, a call answered with a remembered refusal.
pub const HCT_LOG_DEBUG: c_int = 4;

/// Receives one event: userdata as given to hct_config_set_log_callback, a level HCT_LOG_ERROR
/// ... HCT_LOG_DEBUG (more may be added: treat an unknown one as HCT_LOG_DEBUG), and a
/// NUL-terminated UTF-8 message, valid only during the call, that never holds the client
/// secret or a token.
pub type hct_log_callback = Option<unsafe extern "C" fn(userdata: *mut c_void, level: c_int, message: *const c_char)>;

/// The C function and its userdata. The caller of hct_config_set_log_callback promises that
/// both may be used from any thread (see there).
struct CCallback {
    callback: unsafe extern "C" fn(*mut c_void, c_int, *const c_char),
    userdata: *mut c_void,
}

impl CCallback {
    fn call(&self, level: LogLevel, message: &str) {
        // Redacted text has no NUL to cut at, but never trust that to hold.
        let text = CString::new(message.replace('\0', "")).unwrap_or_default();
        // SAFETY: the caller's contract: a callable function, usable from any thread.
        unsafe { (self.callback)(self.userdata, level as c_int, text.as_ptr()) };
    }
}

// SAFETY: the caller's contract (hct_config_set_log_callback) is that the callback may be called
// from any thread with this userdata.
unsafe impl Send for CCallback {}
// SAFETY: as above.
unsafe impl Sync for CCallback {}

/// Sets the function that receives the events of clients made from this configuration (after
/// this call; a client keeps the callback it was made with). NULL callback: no events (the
/// default). Events: a fetch's start (HCT_LOG_DEBUG) and end with its duration, attempts and
/// status (HCT_LOG_INFO for a token, HCT_LOG_ERROR for a failure); each retry and why
/// (HCT_LOG_WARN); an early refresh that failed while the valid token kept being served
/// (HCT_LOG_WARN); a call answered with a remembered refusal (HCT_LOG_DEBUG); a fork noticed
/// at the child's first fetch (HCT_LOG_INFO). A call served from the cache sends nothing.
///
/// The callback is called on the thread whose hct_ call caused the event, during that call,
/// never while the library holds a lock: it may call hctoken, the same client included (e.g.
/// hct_client_stats_json), without deadlock. A failing hct_ call in the callback replaces the
/// thread's hct_last_error_message. Messages pass the client's redactor: no client secret, no
/// token. The callback must not unwind (C++ exceptions, longjmp) out of itself.
///
/// Ownership: userdata stays the caller's; it must stay valid, and the callback callable from
/// any thread, until every client made with it is freed.
/// Threads: one thread at a time per configuration.
#[no_mangle]
pub unsafe extern "C" fn hct_config_set_log_callback(
    config: *mut hct_config,
    callback: hct_log_callback,
    userdata: *mut c_void,
) -> hct_status {
    guard(|| {
        // SAFETY: checked for NULL; validity is the caller's contract.
        let config = unsafe { arg_mut(config, "config") }?;
        let logger = callback.map(|callback| {
            let target = CCallback { callback, userdata };
            Logger::new(move |level: LogLevel, message: &str| target.call(level, message))
        });
        config.inner.set_logger(logger);
        Ok(())
    })
}
