//! Issue 11, "Echoed secrets reach messages": a token endpoint that repeats the client secret
//! (or the token, or the Basic credential) in any spelling, at any status, in any field that is
//! quoted, never gets it into `Error`'s Display or Debug, its OAuth details, or
//! `hct_last_error_message()`. Each test is one leak that was seen, against the hostile server
//! on 127.0.0.1.
//!
//! Also here (issue 10 item 6): a fetch on a thread with a 48 KiB stack, with a normal and with
//! a 127-deep answer.

mod hostile;

use std::ffi::{CStr, CString};
use std::ptr;

use base64::Engine as _;
use hctoken::ffi::hct_status::*;
use hctoken::ffi::*;
use hctoken::{Client, ErrorKind};
use hostile::{config, HostileServer, Reply, CLIENT_ID};

/// Characters that change under every encoding: `/` (JSON `\/`, percent), `~` (percent or
/// not), `&`, `<`, `>` (Go's `\u0026 \u003c \u003e`), `é` (`\u00e9`, two percent bytes), `+`
/// and space (`+`, `%20`, `%2B`).
const SECRET: &str = "p/ss~w&rd<é>+1 2";
const TOKEN: &str = "tok-Redaction-7c41a9e2";

fn form(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The Basic credential as hctoken sends it (RFC 6749 section 2.3.1).
fn basic_credential() -> String {
    b64(&format!("{}:{}", form(CLIENT_ID), form(SECRET)))
}

fn json_u_all(text: &str, upper: bool) -> String {
    text.encode_utf16().map(|u| if upper { format!("\\u{u:04X}") } else { format!("\\u{u:04x}") }).collect()
}

fn percent_all(text: &str, upper: bool) -> String {
    text.bytes().map(|b| if upper { format!("%{b:02X}") } else { format!("%{b:02x}") }).collect()
}

/// Every spelling a test sends, and fragments no message may show.
fn forbidden() -> Vec<String> {
    let mut all = vec![
        SECRET.to_owned(),
        form(SECRET),
        form(SECRET).to_lowercase(),
        percent_all(SECRET, false),
        percent_all(SECRET, true),
        json_u_all(SECRET, false),
        b64(SECRET),
        basic_credential(),
        TOKEN.to_owned(),
        // Fragments of the secret and of its encodings, long enough to be telling.
        "ss~w".into(),
        "w&rd".into(),
        "ss%7".into(),
        "ss%7e".into(),
        "rd<".into(),
        "d\\u003c".into(),
        "u00e9".into(),
        "C3%A9".into(),
        "c3%a9".into(),
        b64(SECRET)[..8].to_owned(),
        basic_credential()[..12].to_owned(),
        "Redaction-7c".into(),
    ];
    all.sort();
    all.dedup();
    all
}

fn assert_clean(what: &str, text: &str) {
    for spelling in forbidden() {
        assert!(
            !text.to_lowercase().contains(&spelling.to_lowercase()),
            "{what}: shows {spelling:?}:\n{text}"
        );
    }
}

/// Fetches once through the Rust API and once through the C ABI from a server that always
/// gives `reply`; both must fail with `kind`, say `<redacted>` where the echo was, and show no
/// spelling of the secret. Returns the message.
fn fetch_and_check(what: &str, reply: Reply, kind: ErrorKind, extra: &[(&str, &str)]) -> String {
    let server = HostileServer::always(reply);
    let client = Client::new(&config(&server.url(), SECRET, extra)).unwrap();
    let error = client.token().unwrap_err();
    assert_eq!(error.kind(), kind, "{what}: {error}");
    let everything = format!("{error}\n{error:?}\n{error:#?}\n{:?}", error.oauth_details());
    assert_clean(what, &everything);
    assert!(error.to_string().contains("<redacted>"), "{what}: nothing was redacted (did the echo arrive?): {error}");
    let message = error.to_string();
    // The C ABI reports the same message.
    let ffi = ffi_message(&server.url(), extra);
    assert_eq!(ffi, message, "{what}: the C ABI's message differs");
    drop(client);
    drop(server);
    message
}

fn ffi_message(url: &str, extra: &[(&str, &str)]) -> String {
    unsafe {
        let config = hct_config_new();
        let base = [("profile", "generic"), ("token_url", url), ("client_id", CLIENT_ID), ("client_secret", SECRET), ("auth_method", "post")];
        for (key, value) in base.iter().chain(extra) {
            let (key, value) = (CString::new(*key).unwrap(), CString::new(*value).unwrap());
            assert_eq!(hct_config_set(config, key.as_ptr(), value.as_ptr()), HCT_OK);
        }
        let mut client = ptr::null_mut();
        assert_eq!(hct_client_new(config, &mut client), HCT_OK);
        let mut token = ptr::null_mut();
        assert_ne!(hct_client_get_token(client, &mut token), HCT_OK);
        let message = CStr::from_ptr(hct_last_error_message()).to_string_lossy().into_owned();
        hct_client_free(client);
        hct_config_free(config);
        message
    }
}

fn oauth_error(status: u16, description: &str) -> Reply {
    Reply::json(status, &format!(r#"{{"error":"invalid_client","error_description":"{description}"}}"#))
}

/// The secret written as a JSON string's content (the quote and backslash escapes JSON needs,
/// nothing else).
fn json_plain() -> String {
    serde_json::to_string(SECRET).unwrap().trim_matches('"').to_owned()
}

#[test]
fn a_200_with_an_error_member_echoing_the_secret() {
    for status in [200, 201, 400, 401] {
        let message = fetch_and_check(
            &format!("HTTP {status} error body"),
            oauth_error(status, &format!("client_secret {} is wrong", json_plain())),
            ErrorKind::OAuth,
            &[],
        );
        assert!(message.starts_with("token endpoint refused the request: invalid_client: client_secret <redacted> is wrong"), "{message}");
    }
    // In the error code itself, too.
    fetch_and_check(
        "error code",
        Reply::json(200, &format!(r#"{{"error":"bad_{}"}}"#, json_plain())),
        ErrorKind::OAuth,
        &[],
    );
}

#[test]
fn token_type_echoing_the_secret_or_the_token() {
    let body = format!(r#"{{"access_token":"{TOKEN}","token_type":"{} {TOKEN}","expires_in":60}}"#, json_plain());
    let message = fetch_and_check("token_type", Reply::json(200, &body), ErrorKind::Response, &[]);
    assert!(message.contains("token_type is '<redacted> <redacted>'"), "{message}");
}

#[test]
fn content_type_echoing_the_secret() {
    // A header value is ASCII (the HTTP client drops one with `é`): the secret as a server
    // would put it there, percent-encoded or JSON-escaped.
    let escaped = json_plain().replace('é', "\\u00e9");
    for (status, kind, spelling) in [
        (503, ErrorKind::Http, form(SECRET)),
        (403, ErrorKind::Http, escaped.clone()),
        (200, ErrorKind::Response, form(SECRET).to_lowercase()),
        (200, ErrorKind::Response, escaped),
    ] {
        let reply = Reply::Http {
            status,
            headers: vec![("Content-Type".into(), format!("text/html; charset={spelling}"))],
            body: b"<html>nope</html>".to_vec(),
        };
        let message = fetch_and_check(&format!("Content-Type {spelling} at {status}"), reply, kind, &[("timeout_ms", "3000")]);
        assert!(message.contains("text/html; charset=<redacted>"), "{message}");
    }
}

#[test]
fn location_echoing_the_secret() {
    let reply = Reply::Http {
        status: 302,
        headers: vec![("Location".into(), format!("https://idp.test/cb?secret={}", form(SECRET).to_lowercase()))],
        body: vec![],
    };
    fetch_and_check("Location", reply, ErrorKind::Http, &[]);
}

#[test]
fn json_escapes_php_go_python_and_any_uxxxx() {
    let php = json_plain().replace('/', "\\/");
    let go = SECRET.replace('&', "\\u0026").replace('<', "\\u003c").replace('>', "\\u003e");
    let python = SECRET.replace('é', "\\u00e9");
    let everything_lower = json_u_all(SECRET, false);
    let everything_upper = json_u_all(SECRET, true);
    let mixed: String = SECRET
        .chars()
        .enumerate()
        .map(|(i, c)| if i % 2 == 0 { json_u_all(&c.to_string(), i % 4 == 0) } else { serde_json::to_string(&c.to_string()).unwrap().trim_matches('"').to_owned() })
        .collect();
    let all_of_them = go.replace('/', "\\/").replace('é', "\\u00E9");
    for (what, spelling) in [("php", php), ("go", go), ("python", python), ("all lower", everything_lower), ("all upper", everything_upper), ("mixed", mixed), ("combined", all_of_them)] {
        fetch_and_check(what, oauth_error(401, &format!("got {spelling}")), ErrorKind::OAuth, &[]);
    }
}

#[test]
fn an_echoed_authorization_basic_credential() {
    // The server repeats the header it received; check first that it is what hctoken sends.
    let probe = HostileServer::always(Reply::token(TOKEN, 60));
    Client::new(&config(&probe.url(), SECRET, &[("auth_method", "basic")])).unwrap().token().unwrap();
    let head = probe.seen()[0].head.clone();
    assert!(head.contains(&format!("Basic {}", basic_credential())), "hctoken sent another credential:\n{head}");
    drop(probe);
    for spelling in [
        format!("Authorization: Basic {}", basic_credential()),
        // base64url, unpadded, and PHP's escaped slash
        format!("Basic {}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", form(CLIENT_ID), form(SECRET)))),
        basic_credential().replace('/', "\\/"),
        // The credential without form-encoding.
        b64(&format!("{CLIENT_ID}:{SECRET}")),
    ] {
        fetch_and_check(&spelling, oauth_error(401, &format!("bad credentials in {spelling}")), ErrorKind::OAuth, &[("auth_method", "basic")]);
    }
}

#[test]
fn base64_of_the_secret() {
    let std = b64(SECRET);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SECRET);
    for spelling in [std.clone(), std.trim_end_matches('=').to_owned(), url] {
        fetch_and_check(&spelling, oauth_error(400, &format!("secret (b64) {spelling}")), ErrorKind::OAuth, &[]);
    }
}

#[test]
fn lower_case_percent_hex_and_encoded_tilde() {
    let upper = form(SECRET);
    assert!(upper.contains("%7E"), "the form encoder encodes ~: {upper}");
    for (what, spelling) in [
        ("lower-case hex", upper.to_lowercase()),
        ("%7E", upper.clone()),
        ("%7e", upper.replace("%7E", "%7e")),
        ("~ unencoded", upper.replace("%7E", "~")),
        ("%20 for space", upper.replace('+', "%20")),
        ("every byte", percent_all(SECRET, false)),
    ] {
        fetch_and_check(what, oauth_error(400, &format!("got client_secret={spelling}")), ErrorKind::OAuth, &[]);
    }
}

#[test]
fn a_long_error_description_cut_in_the_middle_of_the_secret() {
    // hctoken quotes at most 300 bytes of a description: put the echo across that cut, at every
    // offset, in a plain and in a percent-encoded spelling.
    for spelling in [SECRET.to_owned(), form(SECRET)] {
        for offset in (270..=300).step_by(3) {
            let lead = "x".repeat(offset);
            let reply = oauth_error(401, &format!("{lead}{}", serde_json::to_string(&spelling).unwrap().trim_matches('"')));
            let server = HostileServer::always(reply);
            let error = Client::new(&config(&server.url(), SECRET, &[])).unwrap().token().unwrap_err();
            let text = format!("{error} {error:?} {:?}", error.oauth_details());
            assert_clean(&format!("cut at {offset}"), &text);
            // Nothing of the echo's start is left at the cut (at most 3 bytes of it).
            let shown = error.oauth_details().unwrap().description.clone().unwrap();
            let after_lead = shown.strip_prefix(lead.as_str()).unwrap_or("").trim_end_matches("...").trim_start_matches("<redacted>");
            assert!(after_lead.len() < 4, "offset {offset}: {shown:?}");
            assert!(shown.len() <= 300 + "<redacted>...".len(), "{}", shown.len());
        }
    }
}

#[test]
fn a_huge_description_is_quoted_in_bounded_length() {
    let reply = oauth_error(401, &format!("{}{}", "y".repeat(100_000), json_plain()));
    let server = HostileServer::always(reply);
    let error = Client::new(&config(&server.url(), SECRET, &[])).unwrap().token().unwrap_err();
    assert!(error.message().len() <= 512, "{} bytes", error.message().len());
    assert_clean("huge", &error.to_string());
}

// ---------------------------------------------------------------------------------------------
// Small stacks (issue 10 item 6)

/// A stack this small crashed a host thread with a 127-deep answer before the fix. With ureq 2
/// a debug build's connect alone needed more than 48 KiB; the HTTP layer of our own fits in
/// 48 KiB in debug and release builds.
const SMALL_STACK: usize = 48 * 1024;

fn fetch_on_a_small_stack(reply: Reply) -> Result<String, hctoken::Error> {
    let server = HostileServer::always(reply);
    let client = Client::new(&config(&server.url(), SECRET, &[])).unwrap();
    // The client is made (and its TLS configuration loaded) on this thread; the fetch runs on
    // the small one.
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn_scoped(scope, || client.token().map(|t| t.as_str().to_owned()))
            .unwrap()
            .join()
            .expect("the fetch thread crashed")
    });
    drop(server);
    outcome
}

#[test]
fn a_fetch_on_a_small_stack_succeeds_and_refuses_deep_json_cleanly() {
    assert_eq!(fetch_on_a_small_stack(Reply::token(TOKEN, 60)).unwrap(), TOKEN);
    let deep = format!(r#"{{"access_token":"{TOKEN}","x":{}1{}}}"#, "[".repeat(127), "]".repeat(127));
    let error = fetch_on_a_small_stack(Reply::json(200, &deep)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Response, "{error}");
    let deep_object = format!(r#"{{"access_token":"{TOKEN}","x":{}1{}}}"#, r#"{"a":"#.repeat(127), "}".repeat(127));
    assert_eq!(fetch_on_a_small_stack(Reply::json(200, &deep_object)).unwrap_err().kind(), ErrorKind::Response);
}
