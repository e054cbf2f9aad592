//! What every exported function does at the edge: check pointers and text, catch panics, turn
//! errors into a status code plus this thread's last error message.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::hct_status;
use crate::error::{Error, ErrorKind};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub fn status_of(kind: ErrorKind) -> hct_status {
    match kind {
        ErrorKind::InvalidArgument => hct_status::HCT_ERR_INVALID_ARGUMENT,
        ErrorKind::Config => hct_status::HCT_ERR_CONFIG,
        ErrorKind::Network => hct_status::HCT_ERR_NETWORK,
        ErrorKind::Timeout => hct_status::HCT_ERR_TIMEOUT,
        ErrorKind::Tls => hct_status::HCT_ERR_TLS,
        ErrorKind::Http => hct_status::HCT_ERR_HTTP,
        ErrorKind::OAuth => hct_status::HCT_ERR_OAUTH,
        ErrorKind::Response => hct_status::HCT_ERR_RESPONSE,
        ErrorKind::BufferTooSmall => hct_status::HCT_ERR_BUFFER_TOO_SMALL,
        ErrorKind::Internal => hct_status::HCT_ERR_INTERNAL,
    }
}

pub fn set_last_error(error: &Error) {
    // Messages never hold NULs, but a server's error_description could; drop them.
    let text: Vec<u8> = error.message().bytes().filter(|b| *b != 0).collect();
    let message = CString::new(text).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = message);
}

/// This thread's last error message, valid until this thread's next call that fails.
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|slot| slot.borrow().as_ptr())
}

/// Runs `body`, turning its error or panic into a status and this thread's last error.
#[inline]
pub fn guard(body: impl FnOnce() -> Result<(), Error>) -> hct_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => hct_status::HCT_OK,
        Ok(Err(error)) => {
            set_last_error(&error);
            status_of(error.kind())
        }
        Err(_) => {
            set_last_error(&Error::internal(
                "hctoken hit an internal error (a panic was caught); please report it",
            ));
            hct_status::HCT_ERR_INTERNAL
        }
    }
}

/// Runs `body` where there is no status to return (free functions): a panic is swallowed.
pub fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// A shared reference from a caller's pointer, or an error that names the argument.
///
/// # Safety
/// `ptr` must be NULL or point to a live `T`, as the header's contract says.
pub unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: non-NULL pointers are valid by the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
}

/// A mutable reference from a caller's pointer, or an error that names the argument.
///
/// # Safety
/// `ptr` must be NULL or point to a live `T` that no other thread uses during the call.
pub unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: as above, plus exclusivity by contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
}

/// UTF-8 text from a caller's NUL-terminated string.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that lives for the call.
pub unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8 text")))
}

/// Checks an out-pointer before any work is done, so a NULL one costs nothing.
pub fn check_out<T>(ptr: *mut T, name: &str) -> Result<(), Error> {
    if ptr.is_null() {
        Err(Error::invalid_argument(format!("{name} is NULL")))
    } else {
        Ok(())
    }
}
