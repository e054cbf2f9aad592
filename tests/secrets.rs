//! Secrets (issue 6): the client secret and tokens never show in an error message, a Debug
//! string or a panic message, never travel in a URL, and the memory the library keeps them in is
//! wiped before it is freed.
//!
//! Wiping is checked with a watching global allocator: while a thread has watching on, every
//! block it frees (or that realloc moves) is searched for the recognizable secret and token. The
//! library spawns no threads, so the test thread sees every free the library makes on its
//! behalf. HCT_WATCH_TRACE=1 prints a backtrace for each unwiped block found.

mod hostile;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use hctoken::ffi::hct_status::*;
use hctoken::ffi::*;
use hctoken::{Client, Config, ErrorKind, ManualClock};
use hostile::tls::{Pki, TlsTokenServer};
use hostile::{closed_port, config, HostileServer, Reply};

/// Recognizable, long enough that no other bytes match it by chance, and changed by form
/// encoding (`/`, `~`, `&`, space, `+`), so each form it travels in is told apart. (JSON leaves
/// it as it is: its JSON form is the raw form.)
const SECRET: &str = "SeCrEt/4f1c~9a7e&do not+print";
const TOKEN: &str = "ToKeN-8b2d0e6f-do-not-print";

// ---------------------------------------------------------------------------------------------
// The watching allocator

struct Watching;

thread_local! {
    static WATCH: Cell<bool> = const { Cell::new(false) };
}

/// The forms the secret (and the token) travel in, each counted on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needle {
    /// The secret as configured (and in a JSON body).
    Raw,
    /// Form-urlencoded, as in a `post` body and inside the Basic credential.
    FormEncoded,
    /// The Base64 Basic credential, `base64(form(client_id):form(secret))`.
    Basic,
    /// The first 8 bytes of the raw secret (a truncated copy).
    RawPrefix,
    /// The first 8 bytes of the form-encoded secret.
    FormPrefix,
    /// The access token.
    Token,
}

const FORMS: [Needle; 6] = [Needle::Raw, Needle::FormEncoded, Needle::Basic, Needle::RawPrefix, Needle::FormPrefix, Needle::Token];
/// Shorter prefixes than this are not searched for (they would match ordinary bytes).
const PREFIX_LEN: usize = 8;

/// The bytes searched for, per form (computed once, before any watching: the allocator itself
/// must not allocate).
static NEEDLES: std::sync::OnceLock<[Vec<u8>; 6]> = std::sync::OnceLock::new();
static FREED: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];
/// Blocks with any form of the secret (each block counted once).
static FREED_WITH_ANY_SECRET_FORM: AtomicUsize = AtomicUsize::new(0);

fn needles() -> &'static [Vec<u8>; 6] {
    NEEDLES.get_or_init(|| {
        use base64::Engine as _;
        let form = |t: &str| form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
        let encoded = form(SECRET);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", form(hostile::CLIENT_ID), encoded));
        assert_ne!(encoded, SECRET, "the secret must change under form encoding");
        [
            SECRET.as_bytes().to_vec(),
            encoded.as_bytes().to_vec(),
            basic.into_bytes(),
            SECRET.as_bytes()[..PREFIX_LEN].to_vec(),
            encoded.as_bytes()[..PREFIX_LEN].to_vec(),
            TOKEN.as_bytes().to_vec(),
        ]
    })
}

fn contains(block: &[u8], needle: &[u8]) -> bool {
    block.windows(needle.len()).any(|w| w == needle)
}

impl Watching {
    /// Looks at a block about to be freed (or moved by realloc, which frees the old block).
    unsafe fn inspect(ptr: *mut u8, size: usize) {
        if !WATCH.with(Cell::get) || size < PREFIX_LEN {
            return;
        }
        let Some(needles) = NEEDLES.get() else { return };
        let block = std::slice::from_raw_parts(ptr, size);
        let mut found = [false; 6];
        for (i, needle) in needles.iter().enumerate() {
            found[i] = contains(block, needle);
            if found[i] {
                FREED[i].fetch_add(1, Ordering::SeqCst);
            }
        }
        if found[..5].iter().any(|f| *f) {
            FREED_WITH_ANY_SECRET_FORM.fetch_add(1, Ordering::SeqCst);
        }
        if std::env::var_os("HCT_WATCH_TRACE").is_some() && found.iter().any(|f| *f) {
            WATCH.with(|w| w.set(false));
            let forms: Vec<Needle> = FORMS.iter().zip(found).filter(|(_, f)| *f).map(|(form, _)| *form).collect();
            eprintln!("UNWIPED {size} bytes {forms:?}\n{}", std::backtrace::Backtrace::force_capture());
            WATCH.with(|w| w.set(true));
        }
    }
}

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Self::inspect(ptr, layout.size());
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // realloc may move the block and free the old one, contents and all.
        Self::inspect(ptr, layout.size());
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// Watching is per thread, but the counters are global: one watched test at a time.
static WATCHED: Mutex<()> = Mutex::new(());

/// Blocks freed unwiped on this thread during `body`, per form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts([usize; 6]);

impl Counts {
    fn get(&self, form: Needle) -> usize {
        self.0[FORMS.iter().position(|f| *f == form).unwrap()]
    }
}

fn freed_unwiped_forms(body: impl FnOnce()) -> (Counts, usize) {
    needles();
    let _one_at_a_time = WATCHED.lock().unwrap_or_else(|e| e.into_inner());
    FREED.iter().for_each(|c| c.store(0, Ordering::SeqCst));
    FREED_WITH_ANY_SECRET_FORM.store(0, Ordering::SeqCst);
    WATCH.with(|w| w.set(true));
    body();
    WATCH.with(|w| w.set(false));
    let counts = Counts(std::array::from_fn(|i| FREED[i].load(Ordering::SeqCst)));
    (counts, FREED_WITH_ANY_SECRET_FORM.load(Ordering::SeqCst))
}

/// Blocks freed on this thread during `body` that still held any form of the secret, and the
/// token.
fn freed_unwiped(body: impl FnOnce()) -> (usize, usize) {
    let (counts, any_secret) = freed_unwiped_forms(body);
    (any_secret, counts.get(Needle::Token))
}

#[test]
fn the_watcher_sees_an_unwiped_free() {
    // The instrument itself: a plain String with the secret, freed, is seen.
    let plain = SECRET.to_owned();
    let (secret, _) = freed_unwiped(|| drop(plain));
    assert_eq!(secret, 1);
    let wiped = zeroize::Zeroizing::new(SECRET.to_owned());
    assert_eq!(freed_unwiped(|| drop(wiped)), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// Wiping

#[test]
fn a_config_wipes_its_secret_when_dropped_or_overwritten() {
    let mut config = Config::new();
    config.set("client_secret", SECRET).unwrap();
    assert_eq!(freed_unwiped(|| config.set("client_secret", "another-secret-value").unwrap()), (0, 0));
    config.set("client_secret", SECRET).unwrap();
    let copy = config.clone();
    assert_eq!(freed_unwiped(|| drop(config)), (0, 0));
    assert_eq!(freed_unwiped(|| drop(copy)), (0, 0));
}

#[test]
fn hct_config_free_wipes_the_secret() {
    let key = CString::new("client_secret").unwrap();
    let value = CString::new(SECRET).unwrap();
    unsafe {
        let config = hct_config_new();
        assert_eq!(hct_config_set(config, key.as_ptr(), value.as_ptr()), HCT_OK);
        assert_eq!(freed_unwiped(|| hct_config_free(config)), (0, 0));
    }
}

#[test]
fn hct_string_free_wipes_the_token() {
    let server = HostileServer::always(Reply::token(TOKEN, 3600));
    let config = ffi_config(&server.url());
    unsafe {
        let mut client = ptr::null_mut();
        assert_eq!(hct_client_new(config, &mut client), HCT_OK);
        let mut token: *mut c_char = ptr::null_mut();
        assert_eq!(hct_client_get_token(client, &mut token), HCT_OK);
        assert_eq!(CStr::from_ptr(token).to_str().unwrap(), TOKEN);
        assert_eq!(freed_unwiped(|| hct_string_free(token)), (0, 0));
        hct_client_free(client);
        hct_config_free(config);
    }
}

#[test]
fn an_access_token_handed_out_is_wiped_when_dropped() {
    let server = HostileServer::always(Reply::token(TOKEN, 3600));
    let client = Client::new(&config(&server.url(), SECRET, &[])).unwrap();
    let token = client.token().unwrap();
    let copy = token.clone();
    assert_eq!(freed_unwiped(|| drop(token)), (0, 0));
    assert_eq!(freed_unwiped(|| drop(copy)), (0, 0));
}

#[test]
fn dropping_a_client_wipes_its_secret_and_cached_token() {
    for method in ["post", "json", "basic"] {
        let server = HostileServer::always(Reply::token(TOKEN, 3600));
        let client = Client::new(&config(&server.url(), SECRET, &[("auth_method", method)])).unwrap();
        client.with_token(|t| assert_eq!(t, TOKEN)).unwrap();
        assert_eq!(freed_unwiped(|| client.invalidate()), (0, 0), "{method}: invalidate");
        client.with_token(|t| assert_eq!(t, TOKEN)).unwrap();
        assert_eq!(freed_unwiped(|| drop(client)), (0, 0), "{method}: drop");
    }
}

/// Copies that are freed unwiped, per form, measured over plain http for the whole life of a
/// client with 3 fetches (`cargo test --test secrets -- --nocapture whole_life`). Ceilings, so
/// that a new copy is caught. Columns: Raw, FormEncoded, Basic, RawPrefix, FormPrefix, Token.
/// With the HTTP layer of our own (src/http/) none: the request (body and Basic header) is
/// written from one wiped buffer, answers are read into wiped buffers, and the redactor keeps
/// its spellings in wiped memory. (With ureq 2 it was 4 copies of the Basic credential and up
/// to 2 of the token per fetch, and 2 prefixes of the secret per client.)
const KNOWN_HTTP_COPIES: [(&str, [usize; 6]); 3] = [
    ("post", [0, 0, 0, 0, 0, 0]),
    ("json", [0, 0, 0, 0, 0, 0]),
    ("basic", [0, 0, 0, 0, 0, 0]),
];

/// The whole life of a client: creating it, fetching (request built, sent, answer read and
/// parsed, token cached), refreshing, invalidating, fetching again, freeing. Returns the counts
/// and the number of fetches.
fn whole_life(url: &str, extra: &[(&str, &str)]) -> (Counts, usize) {
    let clock = ManualClock::new();
    let mut fetches = 0;
    let (counts, _) = freed_unwiped_forms(|| {
        let config = config(url, SECRET, extra);
        let client = Client::with_manual_clock(&config, clock.clone()).unwrap();
        drop(config);
        client.with_token(|t| assert_eq!(t, TOKEN)).unwrap();
        clock.advance(std::time::Duration::from_secs(3550));
        client.with_token(|t| assert_eq!(t, TOKEN)).unwrap();
        client.invalidate();
        client.with_token(|t| assert_eq!(t, TOKEN)).unwrap();
        drop(client);
        fetches = 3;
    });
    (counts, fetches)
}

fn print_row(transport: &str, method: &str, fetches: usize, counts: Counts) {
    let cells: Vec<String> = FORMS.iter().map(|f| format!("{f:?} {}", counts.get(*f))).collect();
    println!("{transport} {method}: {fetches} fetches; freed unwiped: {}", cells.join(", "));
}

/// Set HCT_WATCH_TRACE=1 to print a backtrace for every unwiped block.
#[test]
fn a_client_over_its_whole_life_leaves_no_more_copies_than_known() {
    for (method, known) in KNOWN_HTTP_COPIES {
        let server = HostileServer::always(Reply::token(TOKEN, 3600));
        let (counts, fetches) = whole_life(&server.url(), &[("auth_method", method)]);
        assert_eq!(server.requests(), fetches, "{method}");
        print_row("http", method, fetches, counts);
        for (i, form) in FORMS.iter().enumerate() {
            assert!(counts.0[i] <= known[i], "http {method}: {} unwiped blocks with {form:?} (known: {})", counts.0[i], known[i]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Messages, Debug output, panics

fn ffi_config(url: &str) -> *mut hct_config {
    unsafe {
        let config = hct_config_new();
        for (key, value) in [("token_url", url), ("client_id", hostile::CLIENT_ID), ("client_secret", SECRET), ("auth_method", "post")] {
            let (key, value) = (CString::new(key).unwrap(), CString::new(value).unwrap());
            assert_eq!(hct_config_set(config, key.as_ptr(), value.as_ptr()), HCT_OK);
        }
        config
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    assert!(!text.contains(TOKEN), "{what} shows the token: {text}");
    // Nor in the forms they travel in.
    let encoded: String = form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
    assert!(!text.contains(&encoded), "{what} shows the form-encoded secret: {text}");
}

/// Every error path a server can drive, with a server that is as indiscreet as it can be: it
/// repeats the secret and the token in its error text.
#[test]
fn no_error_message_or_debug_output_contains_the_secret_or_token() {
    let echo = format!(r#"{{"error":"invalid_client","error_description":"client_secret {SECRET} is wrong"}}"#);
    let echo_encoded = format!(
        r#"{{"error":"invalid_client","error_description":"got client_secret={}"}}"#,
        form_urlencoded::byte_serialize(SECRET.as_bytes()).collect::<String>()
    );
    let faults = vec![
        Reply::json(401, &echo),
        Reply::json(400, &echo_encoded),
        Reply::Http { status: 503, headers: vec![("Content-Type".into(), format!("text/html; x={SECRET}"))], body: b"<html>".to_vec() },
        Reply::json(500, &echo),
        Reply::json(200, &format!(r#"{{"access_token":"{TOKEN}","token_type":"mac","expires_in":-1}}"#)),
        Reply::json(200, &format!(r#"{{"access_token":"{TOKEN} with a space"}}"#)),
        Reply::json(200, &format!(r#"{{"access_token":"{TOKEN}","expires_in":"{SECRET}"}}"#)),
        Reply::json(200, &format!(r#"{{"access_token":"{TOKEN}""#)),
        Reply::Http { status: 302, headers: vec![("Location".into(), format!("https://x.test/?s={SECRET}"))], body: vec![] },
        Reply::Raw(format!("HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n{{\"access_token\":\"{TOKEN}\"").into_bytes()),
        Reply::HangUp,
    ];
    let mut messages = Vec::new();
    for fault in faults {
        let server = HostileServer::always(fault.clone());
        let client = Client::new(&config(&server.url(), SECRET, &[("timeout_ms", "3000")])).unwrap();
        let error = client.token().unwrap_err();
        messages.push((format!("{fault:?}"), error.kind(), error.message().to_owned(), format!("{error:?}"), error.to_string()));
        assert_clean("client Debug", &format!("{client:?} {}", client.describe()));
    }
    for (fault, kind, message, debug, display) in &messages {
        println!("{kind:?}: {message}");
        assert_clean(&format!("message for {fault}"), message);
        assert_clean("Error Debug", debug);
        assert_clean("Error Display", display);
    }
    // The redirect names its target, but not the secret that a hostile Location carried.
    assert!(messages.iter().any(|(_, kind, _, _, _)| *kind == ErrorKind::OAuth));
}

#[test]
fn messages_through_the_c_abi_are_clean_too() {
    let server = HostileServer::always(Reply::json(
        401,
        &format!(r#"{{"error":"invalid_client","error_description":"bad secret {SECRET}"}}"#),
    ));
    let config = ffi_config(&server.url());
    unsafe {
        let mut client = ptr::null_mut();
        assert_eq!(hct_client_new(config, &mut client), HCT_OK);
        let mut token = ptr::null_mut();
        assert_eq!(hct_client_get_token(client, &mut token), HCT_ERR_OAUTH);
        let message = CStr::from_ptr(hct_last_error_message()).to_string_lossy().into_owned();
        assert!(message.starts_with("token endpoint refused the request: invalid_client: bad secret "), "{message}");
        assert_clean("hct_last_error_message", &message);
        // A bad secret value is refused without repeating it.
        let key = CString::new("client_secret").unwrap();
        let bad = CString::new(format!("{SECRET}\u{1b}[31m")).unwrap();
        assert_eq!(hct_config_set(config, key.as_ptr(), bad.as_ptr()), HCT_ERR_CONFIG);
        assert_clean("config error", &CStr::from_ptr(hct_last_error_message()).to_string_lossy());
        hct_client_free(client);
        hct_config_free(config);
    }
}

#[test]
fn debug_output_of_every_public_type_is_clean() {
    let server = HostileServer::always(Reply::token(TOKEN, 3600));
    let config = config(&server.url(), SECRET, &[]);
    assert_clean("Config Debug", &format!("{config:?} {config:#?}"));
    let client = Client::new(&config).unwrap();
    let token = client.token().unwrap();
    assert_eq!(token.as_str(), TOKEN);
    assert_clean("AccessToken Debug", &format!("{token:?} {token:#?}"));
    assert_clean("Client Debug", &format!("{client:?} {client:#?} {}", client.describe()));
    // Credentials in a token URL are refused, and not repeated.
    let mut bad = Config::new();
    let error = bad.set("token_url", &format!("https://user:{SECRET}@idp.test/token")).unwrap_err();
    assert_clean("token_url error", &format!("{error} {error:?}"));
    // Nor when the URL does not parse as one with credentials (found by fuzz/config).
    for url in [format!("user:{SECRET}@idp.test/token"), format!("https://user:{SECRET}@"), format!("ftp://u:{SECRET}@x/#f")] {
        let error = bad.set("token_url", &url).unwrap_err();
        assert_clean("token_url error", &format!("{error} {error:?}"));
    }
}

#[test]
fn panic_messages_are_clean() {
    let server = HostileServer::always(Reply::json(401, &format!(r#"{{"error":"invalid_client","error_description":"{SECRET}"}}"#)));
    let client = Client::new(&config(&server.url(), SECRET, &[])).unwrap();
    let payloads: Mutex<Vec<String>> = Mutex::default();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {})); // keep the test output quiet; payloads are checked below
    for run in [
        Box::new(|| drop(client.token().unwrap())) as Box<dyn Fn()>,
        Box::new(|| drop(client.token().expect("token"))),
        Box::new(|| panic!("{:?}", client)),
        Box::new(|| assert_eq!(format!("{:?}", Config::new().set("client_secret", &format!("{SECRET}\n"))), "")),
    ] {
        let caught = panic::catch_unwind(AssertUnwindSafe(run)).unwrap_err();
        let text = caught
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| caught.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        payloads.lock().unwrap().push(text);
    }
    panic::set_hook(previous);
    for text in payloads.into_inner().unwrap() {
        assert!(!text.is_empty());
        assert_clean("panic message", &text);
    }
}

// ---------------------------------------------------------------------------------------------
// Never in a URL

#[test]
fn the_secret_never_goes_into_a_url() {
    let server = HostileServer::always(Reply::token(TOKEN, 3600));
    let url = server.url();
    let encoded: String = form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
    let cases: &[&[(&str, &str)]] = &[
        &[("auth_method", "basic")],
        &[("auth_method", "post")],
        &[("auth_method", "json")],
        &[("profile", "change-healthcare-v2"), ("auth_method", "")],
        &[("profile", "change-healthcare-v1"), ("auth_method", "")],
        &[("profile", "optum-v3"), ("auth_method", "")],
        &[("profile", "nikohealth"), ("auth_method", "")],
    ];
    for extra in cases {
        let before = server.requests();
        let client = Client::new(&config(&url, SECRET, extra)).unwrap();
        assert_eq!(client.token().unwrap().as_str(), TOKEN);
        let seen = &server.seen()[before];
        let request_line = seen.head.lines().next().unwrap();
        assert_eq!(request_line, "POST /oauth2/token HTTP/1.1", "{extra:?}");
        let head = seen.head.to_lowercase();
        for form in [SECRET.to_lowercase(), encoded.to_lowercase()] {
            assert!(!head.contains(&form), "{extra:?}: the secret is in the request head");
        }
        // It travels in the body or (Basic) the Authorization header, and only there.
        let in_body = contains(&seen.body, SECRET.as_bytes()) || contains(&seen.body, encoded.as_bytes());
        let basic = seen.head.lines().any(|l| l.to_lowercase().starts_with("authorization: basic "));
        assert!(in_body != basic, "{extra:?}: body {in_body}, basic {basic}");
    }
}

#[test]
fn refused_connections_and_timeouts_do_not_mention_credentials() {
    let url = format!("http://127.0.0.1:{}/oauth2/token", closed_port());
    let error = Client::new(&config(&url, SECRET, &[])).unwrap().token().unwrap_err();
    assert_clean("refused", &format!("{error} {error:?}"));
    let silent = HostileServer::always(Reply::Silent);
    let error = Client::new(&config(&silent.url(), SECRET, &[("timeout_ms", "300")])).unwrap().token().unwrap_err();
    assert_clean("timeout", &format!("{error} {error:?}"));
}

// ---------------------------------------------------------------------------------------------
// The same watcher over HTTPS: rustls' copies, measured

/// Over HTTPS, per client life of 3 fetches (same columns as `KNOWN_HTTP_COPIES`; `cargo test
/// --test secrets -- --nocapture over_https`):
/// * the secret: none (rustls encrypts the request in place in its outgoing record buffer, so
///   no plaintext copy of the body or the Basic header is freed);
/// * the token: 2 per fetch, both inside rustls, which hctoken cannot wipe: its
///   received-plaintext buffer (`ChunkVecBuffer`), freed after hctoken has read the answer, and
///   the incoming record buffer in which records are decrypted in place, freed with the
///   connection. The ceiling allows 3 per fetch, for an answer that arrives in two reads.
const KNOWN_HTTPS_COPIES: [(&str, [usize; 6]); 3] = [
    ("post", [0, 0, 0, 0, 0, 9]),
    ("json", [0, 0, 0, 0, 0, 9]),
    ("basic", [0, 0, 0, 0, 0, 9]),
];

#[test]
fn over_https_a_client_leaves_no_more_copies_than_known() {
    for (method, known) in KNOWN_HTTPS_COPIES {
        let pki = Pki::new(&["127.0.0.1"]);
        let server = TlsTokenServer::serving(&pki, TOKEN, false);
        let ca_file = pki.ca_pem.to_str().unwrap().to_owned();
        let (counts, fetches) = whole_life(&server.url("127.0.0.1"), &[("auth_method", method), ("ca_file", &ca_file)]);
        print_row("https", method, fetches, counts);
        for (i, form) in FORMS.iter().enumerate() {
            assert!(counts.0[i] <= known[i], "https {method}: {} unwiped blocks with {form:?} (known: {})", counts.0[i], known[i]);
        }
    }
}
