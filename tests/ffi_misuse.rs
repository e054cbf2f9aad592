//! Misuse of the C ABI (issue 6), called from Rust through `hctoken::ffi`: NULL for every
//! pointer, freeing NULL, a zero-length buffer, text that is not UTF-8. Each gives
//! HCT_ERR_INVALID_ARGUMENT (or is a no-op for the free functions), never a crash. Then the
//! stress test: 8 threads getting tokens through the C functions while another invalidates.

mod hostile;
mod support;

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hctoken::ffi::*;
use hctoken::ffi::hct_status::*;
use hostile::{HostileServer, Reply};
use support::Emulator;

fn last_error() -> String {
    // SAFETY: the library returns a valid NUL-terminated string that lives until our next call.
    unsafe { CStr::from_ptr(hct_last_error_message()) }.to_string_lossy().into_owned()
}

fn text(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// A configuration with every required key, for `url`.
unsafe fn config_for(url: &str) -> *mut hct_config {
    let config = hct_config_new();
    assert!(!config.is_null());
    for (key, value) in [("profile", "generic"), ("token_url", url), ("client_id", "ffi-client"), ("client_secret", "ffi-secret-Qw9"), ("auth_method", "post")] {
        assert_eq!(hct_config_set(config, text(key).as_ptr(), text(value).as_ptr()), HCT_OK, "{key}");
    }
    config
}

unsafe fn client_for(url: &str) -> *mut hct_client {
    let config = config_for(url);
    let mut client = ptr::null_mut();
    assert_eq!(hct_client_new(config, &mut client), HCT_OK, "{}", last_error());
    hct_config_free(config);
    client
}

#[test]
fn null_arguments_are_invalid_arguments_everywhere() {
    let server = HostileServer::always(Reply::token("ffi-token", 3600));
    unsafe {
        let config = config_for(&server.url());
        let key = text("scope");
        let value = text("read");

        assert_eq!(hct_config_set(ptr::null_mut(), key.as_ptr(), value.as_ptr()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("config is NULL"), "{}", last_error());
        assert_eq!(hct_config_set(config, ptr::null(), value.as_ptr()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("key is NULL"), "{}", last_error());
        assert_eq!(hct_config_set(config, key.as_ptr(), ptr::null()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("value is NULL"), "{}", last_error());

        let mut client: *mut hct_client = 0x1 as *mut hct_client; // garbage the call must overwrite
        assert_eq!(hct_client_new(ptr::null(), &mut client), HCT_ERR_INVALID_ARGUMENT);
        assert!(client.is_null(), "out_client is set to NULL on error");
        assert_eq!(hct_client_new(config, ptr::null_mut()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("out_client"), "{}", last_error());

        assert_eq!(hct_client_new(config, &mut client), HCT_OK);
        let mut token: *mut c_char = 0x1 as *mut c_char;
        assert_eq!(hct_client_get_token(ptr::null_mut(), &mut token), HCT_ERR_INVALID_ARGUMENT);
        assert!(token.is_null(), "out_token is set to NULL on error");
        assert_eq!(hct_client_get_token(client, ptr::null_mut()), HCT_ERR_INVALID_ARGUMENT);

        let mut buf = [0 as c_char; 64];
        let mut len = 0usize;
        assert_eq!(hct_client_get_token_into(ptr::null_mut(), buf.as_mut_ptr(), buf.len(), &mut len), HCT_ERR_INVALID_ARGUMENT);
        assert_eq!(hct_client_get_token_into(client, ptr::null_mut(), 64, &mut len), HCT_ERR_INVALID_ARGUMENT);
        // out_len may be NULL.
        assert_eq!(hct_client_get_token_into(client, buf.as_mut_ptr(), buf.len(), ptr::null_mut()), HCT_OK);
        assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "ffi-token");

        assert_eq!(hct_client_invalidate(ptr::null_mut()), HCT_ERR_INVALID_ARGUMENT);

        // The free functions accept NULL and do nothing.
        hct_config_free(ptr::null_mut());
        hct_client_free(ptr::null_mut());
        hct_string_free(ptr::null_mut());

        hct_client_free(client);
        hct_config_free(config);
    }
}

#[test]
fn a_zero_length_buffer_is_an_invalid_argument() {
    let server = HostileServer::always(Reply::token("ffi-token", 3600));
    unsafe {
        let client = client_for(&server.url());
        let mut buf = [0x55 as c_char; 4];
        let mut len = 12345usize;
        assert_eq!(hct_client_get_token_into(client, buf.as_mut_ptr(), 0, &mut len), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("buf_len"), "{}", last_error());
        assert_eq!(buf, [0x55; 4], "the buffer was written");
        assert_eq!(server.requests(), 0, "a zero-length buffer fetched a token");
        hct_client_free(client);
    }
}

#[test]
fn a_buffer_too_small_reports_the_length_and_stays_untouched() {
    let server = HostileServer::always(Reply::token("ffi-token", 3600));
    unsafe {
        let client = client_for(&server.url());
        let token_len = "ffi-token".len();
        let mut buf = [0x55 as c_char; 64];
        let mut len = 0usize;
        // Exactly the token's length leaves no room for the NUL.
        assert_eq!(hct_client_get_token_into(client, buf.as_mut_ptr(), token_len, &mut len), HCT_ERR_BUFFER_TOO_SMALL);
        assert_eq!(len, token_len);
        assert!(buf.iter().all(|b| *b == 0x55), "the buffer was written");
        assert!(last_error().contains(&format!("{}", token_len + 1)), "{}", last_error());
        assert_eq!(hct_client_get_token_into(client, buf.as_mut_ptr(), 1, &mut len), HCT_ERR_BUFFER_TOO_SMALL);
        // One more byte is enough.
        assert_eq!(hct_client_get_token_into(client, buf.as_mut_ptr(), token_len + 1, &mut len), HCT_OK);
        assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "ffi-token");
        assert_eq!(buf[token_len + 1], 0x55, "wrote past the NUL");
        hct_client_free(client);
    }
}

#[test]
fn text_that_is_not_utf8_is_an_invalid_argument() {
    unsafe {
        let config = hct_config_new();
        let bad = CString::new(vec![0xff, 0xfe, b'x']).unwrap();
        let latin1_secret = CString::new(vec![b's', 0xe9, b'c', b'r', 0xe8, b't']).unwrap();
        assert_eq!(hct_config_set(config, bad.as_ptr(), text("x").as_ptr()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("key is not valid UTF-8"), "{}", last_error());
        assert_eq!(hct_config_set(config, text("client_secret").as_ptr(), latin1_secret.as_ptr()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("value is not valid UTF-8"), "{}", last_error());
        // A half UTF-8 sequence at the end, and an overlong encoding of '/'.
        for bytes in [vec![b'a', 0xc3], vec![0xc0, 0xaf]] {
            let value = CString::new(bytes).unwrap();
            assert_eq!(hct_config_set(config, text("scope").as_ptr(), value.as_ptr()), HCT_ERR_INVALID_ARGUMENT);
        }
        hct_config_free(config);
    }
}

#[test]
fn oversized_and_odd_text_is_refused_with_a_bounded_message() {
    unsafe {
        let config = hct_config_new();
        let huge_key = text(&"k".repeat(1 << 20));
        assert_eq!(hct_config_set(config, huge_key.as_ptr(), text("v").as_ptr()), HCT_ERR_CONFIG);
        assert!(last_error().len() < 2000, "the message echoes a megabyte key: {} bytes", last_error().len());
        let huge_value = text(&"9".repeat(1 << 20));
        assert_eq!(hct_config_set(config, text("timeout_ms").as_ptr(), huge_value.as_ptr()), HCT_ERR_CONFIG);
        assert!(last_error().len() < 2000, "{} bytes", last_error().len());
        assert_eq!(hct_config_set(config, text("client_secret").as_ptr(), text("tab\tin-secret").as_ptr()), HCT_ERR_CONFIG);
        assert!(!last_error().contains("in-secret"), "{}", last_error());
        hct_config_free(config);
    }
}

#[test]
fn status_names_are_static_text_for_any_int() {
    for status in [-1, 0, 1, 4, 10, 11, 255, i32::MIN, i32::MAX] {
        let name = unsafe { CStr::from_ptr(hct_status_name(status)) }.to_str().unwrap();
        assert!(name.starts_with("HCT_"), "{status}: {name}");
    }
    assert_eq!(unsafe { CStr::from_ptr(hct_status_name(HCT_ERR_INVALID_ARGUMENT as i32)) }.to_str().unwrap(), "HCT_ERR_INVALID_ARGUMENT");
    assert!(!unsafe { CStr::from_ptr(hct_version()) }.to_bytes().is_empty());
}

#[test]
fn the_last_error_belongs_to_the_thread_that_made_it() {
    unsafe {
        assert_eq!(hct_client_invalidate(ptr::null_mut()), HCT_ERR_INVALID_ARGUMENT);
    }
    let mine = last_error();
    assert!(mine.contains("client is NULL"));
    let other = thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "", "another thread sees this thread's error");
}

#[test]
fn errors_from_the_endpoint_set_null_outputs_and_a_message() {
    let server = HostileServer::always(Reply::json(401, r#"{"error":"invalid_client","error_description":"who are you"}"#));
    unsafe {
        let client = client_for(&server.url());
        let mut token: *mut c_char = 0x1 as *mut c_char;
        assert_eq!(hct_client_get_token(client, &mut token), HCT_ERR_OAUTH);
        assert!(token.is_null());
        assert_eq!(last_error(), "token endpoint refused the request: invalid_client: who are you");
        let mut buf = [0x55 as c_char; 8];
        assert_eq!(hct_client_get_token_into(client, buf.as_mut_ptr(), buf.len(), ptr::null_mut()), HCT_ERR_OAUTH);
        assert_eq!(buf, [0x55; 8]);
        hct_client_free(client);
    }
}

/// The client is shared by raw pointer between threads, as a C program would.
#[derive(Clone, Copy)]
struct SharedClient(*mut hct_client);
// SAFETY: hct_client is documented as safe to use from any number of threads at once.
unsafe impl Send for SharedClient {}
unsafe impl Sync for SharedClient {}

/// 8 threads get tokens through the C ABI (both ways) for a bounded time while another thread
/// invalidates every few milliseconds: no call fails, every token is a real one, and the
/// invalidations cause fresh fetches.
#[test]
fn eight_threads_get_tokens_while_another_invalidates() {
    const READERS: usize = 8;
    const RUN_FOR: Duration = Duration::from_millis(1500);
    let emulator = Emulator::start_with(&["--client-secret", "ffi-secret-Qw9", "--client-id", "ffi-client"]);
    let url = format!("{}/oauth2/token", emulator.url);
    let client = SharedClient(unsafe { client_for(&url) });
    let stop = AtomicBool::new(false);
    let gets = AtomicUsize::new(0);
    let invalidations = AtomicUsize::new(0);
    let failures: std::sync::Mutex<Vec<String>> = Default::default();
    thread::scope(|scope| {
        for reader in 0..READERS {
            let (stop, gets, failures) = (&stop, &gets, &failures);
            scope.spawn(move || {
                let client = client;
                let mut buf = [0 as c_char; 4096];
                let mut round = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    let token = unsafe {
                        if (reader as u64 + round) % 2 == 0 {
                            let mut token = ptr::null_mut();
                            let status = hct_client_get_token(client.0, &mut token);
                            if status != HCT_OK {
                                failures.lock().unwrap().push(format!("get_token: {status:?}: {}", last_error()));
                                continue;
                            }
                            let copy = CStr::from_ptr(token).to_str().unwrap().to_owned();
                            hct_string_free(token);
                            copy
                        } else {
                            let mut len = 0usize;
                            let status = hct_client_get_token_into(client.0, buf.as_mut_ptr(), buf.len(), &mut len);
                            if status != HCT_OK {
                                failures.lock().unwrap().push(format!("get_token_into: {status:?}: {}", last_error()));
                                continue;
                            }
                            let copy = CStr::from_ptr(buf.as_ptr()).to_str().unwrap().to_owned();
                            assert_eq!(copy.len(), len);
                            copy
                        }
                    };
                    // The emulator issues JWTs: three dot-separated parts.
                    if token.split('.').count() != 3 {
                        failures.lock().unwrap().push(format!("not a token: {} bytes", token.len()));
                    }
                    gets.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let (stop, invalidations, failures) = (&stop, &invalidations, &failures);
        scope.spawn(move || {
            let client = client;
            let start = Instant::now();
            while start.elapsed() < RUN_FOR {
                if unsafe { hct_client_invalidate(client.0) } != HCT_OK {
                    failures.lock().unwrap().push(format!("invalidate: {}", last_error()));
                }
                invalidations.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(10));
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
    unsafe { hct_client_free(client.0) };
    let failures = failures.into_inner().unwrap();
    println!(
        "stress: {} gets by {READERS} threads, {} invalidations in {RUN_FOR:?}, {} failures",
        gets.load(Ordering::Relaxed),
        invalidations.load(Ordering::Relaxed),
        failures.len()
    );
    assert!(failures.is_empty(), "{} failures, first: {}", failures.len(), failures[0]);
    assert!(gets.load(Ordering::Relaxed) > READERS, "the readers hardly ran");
    assert!(invalidations.load(Ordering::Relaxed) > 10);
    // The invalidations really sent the readers back to the token endpoint, concurrently.
    let stats = ureq::get(&format!("{}/_hctoken/stats", emulator.url)).call().unwrap().into_string().unwrap();
    let fetches = serde_json::from_str::<serde_json::Value>(&stats).unwrap()["token_requests"].as_u64().unwrap();
    println!("stress: {fetches} token requests reached the emulator");
    assert!(fetches > 10, "{stats}");
    // Single flight: never more fetches than invalidations (plus the first).
    assert!(fetches as usize <= invalidations.load(Ordering::Relaxed) + 1, "{fetches} fetches for {} invalidations", invalidations.load(Ordering::Relaxed));
}

#[test]
fn invalidate_token_checks_its_arguments() {
    let server = HostileServer::always(Reply::token("ffi-token", 3600));
    unsafe {
        let client = client_for(&server.url());
        let token = text("ffi-token");
        assert_eq!(hct_client_invalidate_token(ptr::null_mut(), token.as_ptr()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("client is NULL"), "{}", last_error());
        assert_eq!(hct_client_invalidate_token(client, ptr::null()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("refused_token is NULL"), "{}", last_error());
        let latin1 = CString::new(vec![b'f', 0xe9]).unwrap();
        assert_eq!(hct_client_invalidate_token(client, latin1.as_ptr()), HCT_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("refused_token is not valid UTF-8"), "{}", last_error());
        // Nothing cached yet: nothing to drop, and still HCT_OK.
        assert_eq!(hct_client_invalidate_token(client, token.as_ptr()), HCT_OK);
        assert_eq!(server.requests(), 0);
        hct_client_free(client);
    }
}

/// invalidate_token drops the cached token only when it is the refused one; HCT_OK either way.
#[test]
fn invalidate_token_drops_only_the_refused_token() {
    let server = HostileServer::start(|n| Reply::token(&format!("ffi-token-{n}"), 3600));
    unsafe {
        let client = client_for(&server.url());
        let get = || {
            let mut token = ptr::null_mut();
            assert_eq!(hct_client_get_token(client, &mut token), HCT_OK, "{}", last_error());
            let copy = CStr::from_ptr(token).to_str().unwrap().to_owned();
            hct_string_free(token);
            copy
        };
        let first = get();
        assert_eq!(server.requests(), 1);
        // Another token (an older one, or one of the same length that differs at the end).
        let mut other = first.clone();
        other.pop();
        other.push('x');
        for refused in ["ffi-token-old", other.as_str(), ""] {
            assert_eq!(hct_client_invalidate_token(client, text(refused).as_ptr()), HCT_OK);
            assert_eq!(get(), first, "a token that was not refused was dropped ({refused:?})");
        }
        assert_eq!(server.requests(), 1);
        assert_eq!(hct_client_invalidate_token(client, text(&first).as_ptr()), HCT_OK);
        let second = get();
        assert_ne!(second, first);
        assert_eq!(server.requests(), 2);
        // The same 401 seen again, late: the new token stays.
        assert_eq!(hct_client_invalidate_token(client, text(&first).as_ptr()), HCT_OK);
        assert_eq!(get(), second);
        assert_eq!(server.requests(), 2);
        hct_client_free(client);
    }
}

/// 16 threads that each saw a 401 for the same token call invalidate_token and get again at
/// once: exactly one new token request.
#[test]
fn sixteen_threads_with_one_refused_token_cause_one_fetch() {
    const THREADS: usize = 16;
    let server = HostileServer::start(|n| Reply::token(&format!("ffi-token-{n}"), 3600));
    let client = SharedClient(unsafe { client_for(&server.url()) });
    let get = move || unsafe {
        let client = client;
        let mut token = ptr::null_mut();
        assert_eq!(hct_client_get_token(client.0, &mut token), HCT_OK, "{}", last_error());
        let copy = CStr::from_ptr(token).to_str().unwrap().to_owned();
        hct_string_free(token);
        copy
    };
    let refused = get();
    let barrier = std::sync::Barrier::new(THREADS);
    let renewed: Vec<String> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (barrier, refused) = (&barrier, &refused);
                scope.spawn(move || {
                    let client = client;
                    barrier.wait();
                    assert_eq!(unsafe { hct_client_invalidate_token(client.0, text(refused).as_ptr()) }, HCT_OK);
                    get()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(renewed.iter().all(|t| *t == renewed[0] && *t != refused), "{renewed:?}");
    assert_eq!(server.requests(), 2, "token requests: the first, then exactly one after the 401s");
    unsafe { hct_client_free(client.0) };
}

/// A failing call from a Rust thread-local's destructor (as a C++ thread_local's would be):
/// the status and a message come back, nothing aborts.
#[test]
fn a_thread_local_destructor_can_call_hctoken() {
    struct CallsAtExit(std::sync::mpsc::Sender<(hct_status, String)>);
    impl Drop for CallsAtExit {
        fn drop(&mut self) {
            let status = unsafe { hct_client_invalidate(ptr::null_mut()) };
            let _ = self.0.send((status, last_error()));
        }
    }
    thread_local! {
        static AT_EXIT: std::cell::RefCell<Option<CallsAtExit>> = const { std::cell::RefCell::new(None) };
    }
    let (send, receive) = std::sync::mpsc::channel();
    thread::spawn(move || AT_EXIT.with(|slot| *slot.borrow_mut() = Some(CallsAtExit(send)))).join().unwrap();
    let (status, message) = receive.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(status, HCT_ERR_INVALID_ARGUMENT);
    assert!(message.contains("client is NULL"), "{message}");
}
