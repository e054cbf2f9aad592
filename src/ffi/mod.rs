//! The C ABI. Thin: every function checks its arguments, catches panics and converts types,
//! then calls the plain Rust in the other modules.
//!
//! Safety contract of every `unsafe extern "C"` function here, stated once rather than on each
//! (the header says it per argument): pointer arguments are NULL or point to live objects of the
//! right type made by this library (or, for text, NUL-terminated strings); a client or config is
//! not freed while another call uses it.
//!
//! Every export's whole body runs inside one of boundary.rs's guards (`guard`, `guard_value`,
//! `guard_void`): no panic unwinds into C, none prints, and recording the error cannot abort.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

mod boundary;
mod log;
mod stats;
mod token;

pub use log::*;
pub use stats::hct_client_stats_json;
pub use token::*;

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use boundary::{arg_mut, arg_ref, arg_str, check_out, guard, guard_value, guard_void};

use crate::client::Client;
use crate::config::Config;
use crate::error::{Error, ErrorKind};

/// A configuration being built with hct_config_set. Use it from one thread at a time.
pub struct hct_config {
    inner: Config,
}

/// A token client. Safe to use from any number of threads at once; free it once, after every
/// other call on it has returned.
pub struct hct_client {
    inner: Client,
}

/// The result of every call that can fail. On anything but HCT_OK, hct_last_error_message()
/// says what went wrong, in words a person can act on.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum hct_status {
    /// Success.
    HCT_OK = 0,
    /// A NULL pointer, text that is not UTF-8, or a zero-length buffer.
    HCT_ERR_INVALID_ARGUMENT = 1,
    /// An unknown key, a bad value, or an incomplete or inconsistent configuration.
    HCT_ERR_CONFIG = 2,
    /// The token endpoint could not be reached (DNS, refused, reset).
    HCT_ERR_NETWORK = 3,
    /// Connecting, or the whole token request, took longer than the configured timeout.
    HCT_ERR_TIMEOUT = 4,
    /// The TLS handshake failed (untrusted certificate, wrong host name, TLS below 1.2).
    HCT_ERR_TLS = 5,
    /// The token endpoint answered with an HTTP error status and no OAuth error body.
    HCT_ERR_HTTP = 6,
    /// The token endpoint refused the request with an OAuth error (RFC 6749 section 5.2). The
    /// message's first line reads "token endpoint refused the request: <error>[: <error_description>]";
    /// a second line starting "hint: " may follow.
    HCT_ERR_OAUTH = 7,
    /// The endpoint answered success, but not with a usable bearer token.
    HCT_ERR_RESPONSE = 8,
    /// The caller's buffer cannot hold the token and its terminating NUL.
    HCT_ERR_BUFFER_TOO_SMALL = 9,
    /// A bug in hctoken; the call had no effect. Please report it.
    HCT_ERR_INTERNAL = 10,
    /// hct_client_get with HCT_GET_CACHED_ONLY found no valid token in the cache; nothing was
    /// fetched. (Appended in 0.1: values never change; treat any unknown non-zero status as a
    /// failure.)
    HCT_ERR_NO_TOKEN = 11,
}

/// The library's version, e.g. "0.1.0".
///
/// Ownership: static text; do not free. Threads: any.
#[no_mangle]
pub extern "C" fn hct_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    guard_value(VERSION.as_ptr().cast(), || VERSION.as_ptr().cast())
}

/// The library's version as a number, HCTOKEN_VERSION_NUMBER of the header it was built with:
/// MAJOR << 16 | MINOR << 8 | PATCH, e.g. 0x000100 for 0.1.0. A program compares it with the
/// header's HCTOKEN_VERSION_NUMBER at start-up to learn that the library it runs with is at
/// least the one it was compiled against.
///
/// Threads: any.
#[no_mangle]
pub extern "C" fn hct_version_number() -> u32 {
    guard_value(VERSION_NUMBER, || VERSION_NUMBER)
}

/// MAJOR << 16 | MINOR << 8 | PATCH from Cargo.toml, as build.rs writes it into the header.
const VERSION_NUMBER: u32 = (version_part(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
    | (version_part(env!("CARGO_PKG_VERSION_MINOR")) << 8)
    | version_part(env!("CARGO_PKG_VERSION_PATCH"));

/// A decimal version part at compile time; more than 255 does not compile.
const fn version_part(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "a version part is decimal");
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    assert!(value <= 255, "a version part above 255 does not fit HCTOKEN_VERSION_NUMBER");
    value
}

/// The name of a status code, e.g. "HCT_ERR_OAUTH"; "HCT_UNKNOWN_STATUS" for a value that is
/// not an hct_status. Takes an int so that any value passed in is safe.
///
/// Ownership: static text; do not free. Threads: any.
#[no_mangle]
pub extern "C" fn hct_status_name(status: c_int) -> *const c_char {
    const UNKNOWN: &str = "HCT_UNKNOWN_STATUS\0";
    guard_value(UNKNOWN.as_ptr().cast(), || status_name(status).as_ptr().cast())
}

/// The C status name of an error kind, without the NUL (for events).
pub(crate) fn status_name_of(kind: ErrorKind) -> &'static str {
    status_name(boundary::status_of(kind) as c_int).trim_end_matches('\0')
}

fn status_name(status: c_int) -> &'static str {
    match status {
        0 => "HCT_OK\0",
        1 => "HCT_ERR_INVALID_ARGUMENT\0",
        2 => "HCT_ERR_CONFIG\0",
        3 => "HCT_ERR_NETWORK\0",
        4 => "HCT_ERR_TIMEOUT\0",
        5 => "HCT_ERR_TLS\0",
        6 => "HCT_ERR_HTTP\0",
        7 => "HCT_ERR_OAUTH\0",
        8 => "HCT_ERR_RESPONSE\0",
        9 => "HCT_ERR_BUFFER_TOO_SMALL\0",
        10 => "HCT_ERR_INTERNAL\0",
        11 => "HCT_ERR_NO_TOKEN\0",
        _ => "HCT_UNKNOWN_STATUS\0",
    }
}

/// The message of the last call on this thread that failed, in UTF-8; "" if none has.
/// It never contains the client secret or a token.
///
/// Calls made while a thread exits (from a pthread-key or C++ thread_local destructor) work as
/// at any other time, messages included: the message is kept under a pthread key of the
/// library's own, freed when the thread ends. Where a message cannot be kept (no memory for
/// the key's slot, or a call from an exit handler after the library's finalizer ran), the
/// failing call still returns its status and this returns the static text
/// "hctoken: no error text is available while this thread exits".
///
/// Ownership: owned by the library; do not free. Valid until this thread's next hct_ call.
/// Threads: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hct_last_error_message() -> *const c_char {
    guard_value(boundary::NO_TEXT_DURING_THREAD_EXIT.as_ptr(), boundary::last_error_ptr)
}

/// A new, empty configuration; NULL only after an internal error (memory exhaustion ends the
/// process instead: see the conventions at the top).
///
/// Ownership: the caller owns it and frees it with hct_config_free (after hct_client_new,
/// which copies what it needs). Threads: use one configuration from one thread at a time.
#[no_mangle]
pub extern "C" fn hct_config_new() -> *mut hct_config {
    // Every export that runs library code needs a configuration or a client first: silence
    // caught panics from here on (boundary.rs, `quiet`).
    guard_value(ptr::null_mut(), || {
        boundary::quiet::install();
        Box::into_raw(Box::new(hct_config { inner: Config::new() }))
    })
}

/// Sets one configuration key to a text value; an empty value resets the key to its default.
/// Keys: profile, token_url, environment, domain, client_id, client_secret, scope, audience,
/// resource, auth_method, refresh_skew_secs, default_lifetime_secs, timeout_ms,
/// connect_timeout_ms, ca_file, proxy, user_agent (see README.md).
///
/// Returns HCT_ERR_CONFIG for an unknown key or a bad value (the message names the key and what
/// it accepts), HCT_ERR_INVALID_ARGUMENT for NULL or non-UTF-8 arguments.
/// Ownership: key and value are only read during the call (a secret value is copied into memory
/// that is zeroed when freed). Threads: one thread at a time per configuration.
#[no_mangle]
pub unsafe extern "C" fn hct_config_set(config: *mut hct_config, key: *const c_char, value: *const c_char) -> hct_status {
    guard(|| {
        // SAFETY: pointers are checked for NULL; validity is the caller's contract.
        let config = unsafe { arg_mut(config, "config") }?;
        let key = unsafe { arg_str(key, "key") }?;
        let value = unsafe { arg_str(value, "value") }?;
        config.inner.set(key, value)
    })
}

/// Frees a configuration (its secret is zeroed first). NULL is accepted and ignored.
///
/// Threads: no other call may be using the configuration.
#[no_mangle]
pub unsafe extern "C" fn hct_config_free(config: *mut hct_config) {
    guard_void(|| {
        if config.is_null() {
            return;
        }
        // SAFETY: allocated by hct_config_new and, by contract, freed only once.
        drop(unsafe { Box::from_raw(config) });
    });
}

/// Checks a configuration and creates a client from it. No network request is made: the first
/// token is fetched by the first hct_client_get_token call.
///
/// Returns HCT_ERR_CONFIG when the configuration is incomplete or inconsistent (the message says
/// what is missing), or refers to a CA file that cannot be read.
/// Ownership: on HCT_OK, *out_client is a new client the caller frees with hct_client_free; on
/// error it is set to NULL. The configuration is copied and may be freed at once.
/// Threads: any; the configuration must not be changed during the call.
#[no_mangle]
pub unsafe extern "C" fn hct_client_new(config: *const hct_config, out_client: *mut *mut hct_client) -> hct_status {
    guard(|| {
        boundary::quiet::install();
        check_out(out_client, "out_client")?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out_client = ptr::null_mut() };
        // SAFETY: checked for NULL; validity is the caller's contract.
        let config = unsafe { arg_ref(config, "config") }?;
        let client = Client::new(&config.inner)?;
        // SAFETY: as above.
        unsafe { *out_client = Box::into_raw(Box::new(hct_client { inner: client })) };
        Ok(())
    })
}

/// Gets a valid access token: from memory while fresh (no lock, no allocation but the copy),
/// otherwise fetched. When many threads need a token at once, one request goes out and the
/// others wait for it and share its result. The token is the bare access token, without
/// "Bearer ".
///
/// A waiting thread waits at most the client's timeout_ms (then HCT_ERR_TIMEOUT), never for ever.
///
/// Ownership: on HCT_OK, *out_token is a new NUL-terminated copy the caller frees with
/// hct_string_free (which wipes it); on error it is set to NULL.
/// Threads: any number at once on the same client.
/// fork: a client made before fork() may be used in the parent and in the child. The child
/// keeps a still-valid cached token, never uses the parent's kept-alive connection, never
/// waits for a fetch that a parent's thread had begun (a fetch in flight at the fork is
/// started afresh in the child) and draws its own retry jitter.
#[no_mangle]
pub unsafe extern "C" fn hct_client_get_token(client: *const hct_client, out_token: *mut *mut c_char) -> hct_status {
    guard(|| {
        check_out(out_token, "out_token")?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out_token = ptr::null_mut() };
        // SAFETY: checked for NULL; a live client by the caller's contract.
        let client = unsafe { arg_ref(client, "client") }?;
        // One allocation of exactly len + 1 bytes: CString::new would grow its buffer for the NUL
        // and then shrink it again in into_raw, two extra trips through the allocator.
        let copy = client.inner.with_token(|token| {
            let mut bytes = Vec::with_capacity(token.len() + 1);
            bytes.extend_from_slice(token.as_bytes());
            bytes.push(0);
            bytes
        })?;
        // Tokens are visible ASCII (response.rs checks), so there is no NUL inside. Not
        // from_vec_with_nul: its NUL scan (core's word-at-a-time memchr) costs ~70 ns on 1.2 KB,
        // as much as the rest of this call.
        debug_assert!(!copy[..copy.len() - 1].contains(&0));
        // SAFETY: exactly one NUL, at the end (pushed above; none in the token).
        let copy = unsafe { CString::from_vec_with_nul_unchecked(copy) };
        // SAFETY: as above.
        unsafe { *out_token = copy.into_raw() };
        Ok(())
    })
}

/// Copies a valid token (as hct_client_get_token gets it) and a terminating NUL into the
/// caller's buffer, without allocating.
///
/// Returns HCT_ERR_BUFFER_TOO_SMALL when buf_len is not more than the token's length; the
/// buffer is then left untouched. HCT_ERR_INVALID_ARGUMENT for a NULL buf or a buf_len of 0.
/// out_len may be NULL; otherwise *out_len is set to the token's length without the NUL, on
/// success and on HCT_ERR_BUFFER_TOO_SMALL (so the caller can size a new buffer).
/// Ownership: the buffer stays the caller's; wipe it when done if the memory is shared.
/// Threads: any number at once on the same client.
#[no_mangle]
pub unsafe extern "C" fn hct_client_get_token_into(
    client: *const hct_client,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> hct_status {
    guard(|| {
        check_out(buf, "buf")?;
        if buf_len == 0 {
            return Err(Error::invalid_argument("buf_len is 0"));
        }
        // SAFETY: checked for NULL; a live client by the caller's contract.
        let client = unsafe { arg_ref(client, "client") }?;
        // The closure returns a small error (the length) and the Error is built outside: moving
        // a Result<Result<(), Error>, Error> (Error is ~80 bytes) through the cached path cost
        // ~15 ns in store-forwarding stalls on its odd-offset copies (perf annotate).
        let copied = client.inner.with_token(|token| {
            let len = token.len();
            if !out_len.is_null() {
                // SAFETY: non-NULL out_len is writable by contract.
                unsafe { *out_len = len };
            }
            if len >= buf_len {
                return Err(len);
            }
            // SAFETY: buf holds buf_len > len bytes by contract; the regions cannot overlap
            // because the token lives in the library's memory.
            unsafe {
                ptr::copy_nonoverlapping(token.as_ptr(), buf.cast::<u8>(), len);
                *buf.add(len) = 0;
            }
            Ok(())
        })?;
        copied.map_err(|len| {
            Error::new(
                ErrorKind::BufferTooSmall,
                format!("the token is {len} bytes and needs a buffer of at least {} bytes", len + 1),
            )
        })
    })
}

/// Drops the cached token, whatever it is, so the next get fetches a new one. Threads that
/// already hold a copy keep it. For a 401 from an API use hct_client_invalidate_token instead:
/// this drops even a token fetched a moment ago by another thread, so N threads that saw the
/// same 401 can cause up to N fetches.
///
/// Threads: any number at once on the same client.
#[no_mangle]
pub unsafe extern "C" fn hct_client_invalidate(client: *const hct_client) -> hct_status {
    guard(|| {
        // SAFETY: checked for NULL; a live client by the caller's contract.
        let client = unsafe { arg_ref(client, "client") }?;
        client.inner.invalidate();
        Ok(())
    })
}

/// Drops the cached token only if it is still refused_token, the token an API just answered 401
/// to; the next get then fetches a new one. If the cache already holds another token (another
/// thread saw the same 401 and a new token was fetched), nothing is dropped. So of many threads
/// that saw a 401 for the same token, exactly one new token request follows. This is what a 401
/// handler should call: `if (api_status == 401) hct_client_invalidate_token(client, token);`.
/// The comparison takes the same time wherever the tokens differ; the swap is atomic.
/// Returns HCT_OK whether or not the token was dropped (both mean "the token you hold is no
/// longer served"); HCT_ERR_INVALID_ARGUMENT for a NULL client or refused_token, or a
/// refused_token that is not UTF-8.
/// Ownership: refused_token is only read during the call.
/// Threads: any number at once on the same client.
#[no_mangle]
pub unsafe extern "C" fn hct_client_invalidate_token(client: *const hct_client, refused_token: *const c_char) -> hct_status {
    guard(|| {
        // SAFETY: checked for NULL; a live client by the caller's contract.
        let client = unsafe { arg_ref(client, "client") }?;
        // SAFETY: checked for NULL; NUL-terminated by the caller's contract.
        let refused_token = unsafe { arg_str(refused_token, "refused_token") }?;
        client.inner.invalidate_if(refused_token);
        Ok(())
    })
}

/// Frees a client and wipes its cached token and secret. NULL is accepted and ignored.
///
/// Threads: call it once, after every other call on this client has returned.
#[no_mangle]
pub unsafe extern "C" fn hct_client_free(client: *mut hct_client) {
    guard_void(|| {
        if client.is_null() {
            return;
        }
        // SAFETY: allocated by hct_client_new and, by contract, freed only once.
        drop(unsafe { Box::from_raw(client) });
    });
}

/// Wipes and frees a string the library returned (a token from hct_client_get_token).
/// NULL is accepted and ignored.
///
/// Threads: any; each string once.
#[no_mangle]
pub unsafe extern "C" fn hct_string_free(s: *mut c_char) {
    guard_void(|| {
        if s.is_null() {
            return;
        }
        // SAFETY: the string came from CString::into_raw in this library, freed only once.
        let owned = unsafe { CString::from_raw(s) };
        let mut bytes = owned.into_bytes_with_nul();
        crate::secret::wipe(&mut bytes);
    });
}
