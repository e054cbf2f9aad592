//! Faults at the token endpoint (issue 6): each misbehaviour gives its documented error kind and
//! a clear message, no fetch outlasts `timeout_ms`, transient failures are retried as README.md
//! says (at most 3 attempts, backoff with jitter, Retry-After honoured), and a still-valid cached
//! token keeps being served while the refresh fails.
//!
//! Every server here is a `HostileServer` on 127.0.0.1, port 0, scripted per request.

mod hostile;

use std::thread;
use std::time::{Duration, Instant};

use hctoken::{Client, ErrorKind, ManualClock};
use hostile::{closed_port, config, HostileServer, Reply, CLIENT_ID};

const SECRET: &str = "faults-secret-7Hq2";
/// Into the refresh window of a 3600 s token (refresh skew 60 s), before it expires.
const INTO_REFRESH_WINDOW: Duration = Duration::from_secs(3550);

fn client(url: &str, timeout_ms: u64) -> Client {
    Client::new(&config(url, SECRET, &[("timeout_ms", &timeout_ms.to_string())])).expect("client")
}

/// A fresh client (nothing cached) fetches from `server` and fails: the error, and how long it
/// took.
fn fetch_fails(server: &HostileServer, timeout_ms: u64) -> (hctoken::Error, Duration) {
    let client = client(&server.url(), timeout_ms);
    let start = Instant::now();
    let error = client.token().expect_err("the fetch must fail");
    let elapsed = start.elapsed();
    assert!(!error.message().contains(SECRET), "{error:?}");
    (error, elapsed)
}

/// The bound every call keeps: `timeout_ms` + 10 %.
fn assert_within_timeout(elapsed: Duration, timeout_ms: u64) {
    assert!(elapsed <= Duration::from_millis(timeout_ms + timeout_ms / 10), "took {elapsed:?} with timeout_ms {timeout_ms}");
}

fn assert_error(error: &hctoken::Error, kind: ErrorKind, words: &[&str]) {
    // Shown with --nocapture: what a person would read.
    println!("{:?}: {}", error.kind(), error.message());
    assert_eq!(error.kind(), kind, "{error:?}");
    for word in words {
        assert!(error.message().contains(word), "{word:?} missing from: {}", error.message());
    }
}

/// A client holds a good 3600 s token, moves into its refresh window, and the refresh meets
/// `fault`: the caller still gets the old token, and the server did see the refresh attempt.
fn cached_token_survives(fault: Reply, timeout_ms: u64) {
    let server = HostileServer::good_then(fault);
    let clock = ManualClock::new();
    let config = config(&server.url(), SECRET, &[("timeout_ms", &timeout_ms.to_string())]);
    let client = Client::with_manual_clock(&config, clock.clone()).unwrap();
    assert_eq!(client.token().unwrap().as_str(), "good-token");
    clock.advance(INTO_REFRESH_WINDOW);
    let start = Instant::now();
    let token = client.token().expect("the still-valid token is served while the refresh fails");
    assert_eq!(token.as_str(), "good-token");
    assert!(server.requests() >= 2, "the refresh was not attempted");
    // The refresh's failure does not stretch beyond the caller's timeout either.
    assert_within_timeout(start.elapsed(), timeout_ms);
    // And calls after it are answered from memory at once (the retry waits REFRESH_RETRY_INTERVAL).
    let before = server.requests();
    assert_eq!(client.token().unwrap().as_str(), "good-token");
    assert_eq!(server.requests(), before);
}

// ---------------------------------------------------------------------------------------------
// Unreachable endpoints

#[test]
fn connection_refused_is_a_network_error() {
    let url = format!("http://127.0.0.1:{}/oauth2/token", closed_port());
    let client = client(&url, 2000);
    let start = Instant::now();
    let error = client.token().unwrap_err();
    assert_error(&error, ErrorKind::Network, &["refused", &url]);
    // Not retried: a refused connection is a definite answer.
    assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
}

#[test]
fn connection_refused_during_a_refresh_keeps_the_cached_token() {
    let server = HostileServer::always(Reply::token("good-token", 3600));
    let clock = ManualClock::new();
    let client = Client::with_manual_clock(&config(&server.url(), SECRET, &[]), clock.clone()).unwrap();
    assert_eq!(client.token().unwrap().as_str(), "good-token");
    drop(server); // nothing listens on the port any more
    clock.advance(INTO_REFRESH_WINDOW);
    assert_eq!(client.token().unwrap().as_str(), "good-token");
    // Once the token has expired, the failure reaches the caller.
    clock.advance(Duration::from_secs(60));
    assert_eq!(client.token().unwrap_err().kind(), ErrorKind::Network);
}

/// `.invalid` never resolves (RFC 6761). The lookup runs in the command-line tool inside a
/// network namespace of its own (`unshare -rn`: loopback only), so the test sends no query to the
/// machine's resolver; there the resolver cannot be reached at all, which must still read as a
/// name that does not resolve.
#[test]
fn a_name_that_does_not_resolve_is_a_network_error() {
    let host = "token-endpoint.hctoken-test.invalid";
    let output = std::process::Command::new("unshare")
        .args(["-rn", env!("CARGO_BIN_EXE_hctoken"), "token", "--profile", "generic", "--client-id", CLIENT_ID])
        .args(["--token-url", &format!("https://{host}/oauth2/token"), "--set", "timeout_ms=3000"])
        .env("HCTOKEN_CLIENT_SECRET", SECRET)
        .output()
        .expect("run `unshare` (util-linux) for a loopback-only network namespace");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("unshare:"), "cannot make a network namespace here: {stderr}");
    assert_eq!(output.status.code(), Some(4), "a network failure is exit status 4 (docs/cli.md): {stderr}");
    assert!(stderr.contains("cannot resolve") && stderr.contains(host), "{stderr}");
    assert!(!stderr.contains(SECRET));
}

// ---------------------------------------------------------------------------------------------
// Servers that are too slow

#[test]
fn a_server_that_never_answers_times_out_on_time() {
    let server = HostileServer::always(Reply::Silent);
    let timeout_ms = 1000;
    let (error, elapsed) = fetch_fails(&server, timeout_ms);
    println!("never-answering server: timeout_ms {timeout_ms}, the fetch failed after {} ms", elapsed.as_millis());
    assert_error(&error, ErrorKind::Timeout, &["timed out", "timeout_ms"]);
    // Never early, and late by at most 10 %.
    assert!(elapsed >= Duration::from_millis(timeout_ms * 9 / 10), "{elapsed:?}");
    assert_within_timeout(elapsed, timeout_ms);
    // A timeout is not retried: the deadline is spent.
    assert_eq!(server.requests(), 1);
}

#[test]
fn while_one_caller_waits_on_a_silent_refresh_the_others_get_the_cached_token_at_once() {
    let server = HostileServer::good_then(Reply::Silent);
    let clock = ManualClock::new();
    let client = Client::with_manual_clock(&config(&server.url(), SECRET, &[("timeout_ms", "1500")]), clock.clone()).unwrap();
    assert_eq!(client.token().unwrap().as_str(), "good-token");
    clock.advance(INTO_REFRESH_WINDOW);
    thread::scope(|scope| {
        let refresher = scope.spawn(|| client.token().map(|t| t.as_str().to_owned()));
        assert!(server.wait_for_requests(2, Duration::from_secs(5)), "the refresh never went out");
        let start = Instant::now();
        assert_eq!(client.token().unwrap().as_str(), "good-token");
        assert!(start.elapsed() < Duration::from_millis(500), "a reader waited on the refresh: {:?}", start.elapsed());
        assert_eq!(refresher.join().unwrap().unwrap(), "good-token");
    });
}

#[test]
fn a_server_that_never_answers_a_refresh_keeps_the_cached_token() {
    cached_token_survives(Reply::Silent, 1000);
}

fn trickled_response() -> Vec<u8> {
    let body = r#"{"access_token":"trickled","token_type":"Bearer","expires_in":3600}"#;
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[test]
fn a_trickling_server_times_out_within_the_deadline() {
    // 20 bytes a second: the response would take several seconds; the deadline is 800 ms.
    let server = HostileServer::always(Reply::Trickle { bytes: trickled_response(), every: Duration::from_millis(50) });
    let (error, elapsed) = fetch_fails(&server, 1000);
    println!("trickling server: timeout_ms 1000, the fetch failed after {} ms", elapsed.as_millis());
    assert_error(&error, ErrorKind::Timeout, &["timed out"]);
    assert_within_timeout(elapsed, 1000);
}

#[test]
fn a_body_trickled_after_prompt_headers_times_out_within_the_deadline() {
    let body = vec![b' '; 4096];
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    // Headers at once, then the body a byte every 5 ms.
    let server = HostileServer::always(Reply::HeadThenTrickle { head, body, every: Duration::from_millis(5) });
    let (error, elapsed) = fetch_fails(&server, 1000);
    println!("trickled body: timeout_ms 1000, the fetch failed after {} ms", elapsed.as_millis());
    assert_error(&error, ErrorKind::Timeout, &["timed out"]);
    assert_within_timeout(elapsed, 1000);
}

#[test]
fn a_trickling_refresh_keeps_the_cached_token() {
    cached_token_survives(Reply::Trickle { bytes: trickled_response(), every: Duration::from_millis(50) }, 1000);
}

// ---------------------------------------------------------------------------------------------
// Transient errors: retried

fn html(status: u16) -> Reply {
    Reply::Http {
        status,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: b"<html><body><h1>Service Unavailable</h1><p>Try again later.</p></body></html>".to_vec(),
    }
}

#[test]
fn transient_statuses_are_retried_three_times_then_reported() {
    for status in [500, 502, 503, 429] {
        let server = HostileServer::always(html(status));
        let (error, elapsed) = fetch_fails(&server, 5000);
        assert_error(&error, ErrorKind::Http, &[&format!("HTTP {status}"), "gave up after 3 attempts"]);
        assert_eq!(server.requests(), 3, "HTTP {status}");
        // Two backoffs of at most 250 ms and 500 ms.
        assert!(elapsed < Duration::from_millis(2000), "HTTP {status}: {elapsed:?}");
    }
}

#[test]
fn a_transient_error_then_success_gives_the_token() {
    let server = HostileServer::start(|n| if n < 2 { html(503) } else { Reply::token("third-time", 3600) });
    let client = client(&server.url(), 5000);
    assert_eq!(client.token().unwrap().as_str(), "third-time");
    assert_eq!(server.requests(), 3);
}

#[test]
fn transient_statuses_during_a_refresh_keep_the_cached_token() {
    for status in [500, 502, 503, 429] {
        cached_token_survives(html(status), 3000);
    }
}

#[test]
fn a_connection_closed_without_an_answer_is_retried_then_a_network_error() {
    let server = HostileServer::always(Reply::HangUp);
    let (error, _) = fetch_fails(&server, 5000);
    assert_error(&error, ErrorKind::Network, &["closed", "after 3 attempts"]);
    assert_eq!(server.requests(), 3);
}

#[test]
fn retry_after_in_seconds_is_honoured() {
    let server = HostileServer::start(|n| {
        if n == 0 {
            html(503).with_header("Retry-After", "1")
        } else {
            Reply::token("after-waiting", 3600)
        }
    });
    let client = client(&server.url(), 5000);
    let start = Instant::now();
    assert_eq!(client.token().unwrap().as_str(), "after-waiting");
    let elapsed = start.elapsed();
    assert_eq!(server.requests(), 2);
    assert!(elapsed >= Duration::from_millis(950), "did not wait for Retry-After: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(3000), "{elapsed:?}");
}

#[test]
fn a_retry_after_past_the_deadline_fails_at_once_and_holds_off_later_fetches() {
    let server = HostileServer::always(
        Reply::json(429, r#"{"message":"slow down"}"#).with_header("Retry-After", "2"),
    );
    let client = client(&server.url(), 1500);
    let start = Instant::now();
    let error = client.token().unwrap_err();
    assert!(start.elapsed() < Duration::from_millis(1000), "slept into the timeout: {:?}", start.elapsed());
    assert_error(&error, ErrorKind::Http, &["HTTP 429", "Retry-After"]);
    assert_eq!(server.requests(), 1);
    // The next fetch, within the 2 s the server asked for, does not send anything.
    let error = client.token().unwrap_err();
    assert_error(&error, ErrorKind::Http, &["429", "Retry-After"]);
    assert_eq!(server.requests(), 1);
    // After it, requests go out again.
    thread::sleep(Duration::from_millis(2100));
    let _ = client.token();
    assert_eq!(server.requests(), 2);
}

#[test]
fn retries_never_outlast_the_overall_timeout() {
    // Each answer takes 150 ms; three attempts plus backoff would take 450 ms or more.
    let server = HostileServer::always(Reply::Delayed(Duration::from_millis(150), Box::new(html(503))));
    let timeout_ms = 400;
    let (error, elapsed) = fetch_fails(&server, timeout_ms);
    println!("slow 503s: timeout_ms {timeout_ms}, gave up after {} ms, {} requests", elapsed.as_millis(), server.requests());
    assert!(matches!(error.kind(), ErrorKind::Http | ErrorKind::Timeout), "{error:?}");
    assert_within_timeout(elapsed, timeout_ms);
}

#[test]
fn errors_that_a_retry_would_not_change_are_not_retried() {
    let cases = [
        Reply::json(400, r#"{"error":"invalid_request"}"#),
        Reply::json(401, r#"{"error":"invalid_client","error_description":"unknown client"}"#),
        Reply::json(404, r#"{"message":"no such path"}"#),
        Reply::json(501, ""),
    ];
    for reply in cases {
        let server = HostileServer::always(reply.clone());
        fetch_fails(&server, 5000);
        assert_eq!(server.requests(), 1, "{reply:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Answers that are not a token

#[test]
fn an_html_page_is_refused_with_the_right_kind() {
    let (error, _) = fetch_fails(&HostileServer::always(html(200)), 2000);
    assert_error(&error, ErrorKind::Response, &["not JSON", "text/html"]);
    let (error, _) = fetch_fails(&HostileServer::always(html(403)), 2000);
    assert_error(&error, ErrorKind::Http, &["HTTP 403", "text/html"]);
    cached_token_survives(html(200), 2000);
}

#[test]
fn truncated_json_is_a_response_error() {
    let cut = Reply::json(200, r#"{"access_token":"abc","token_type":"Bearer","expires_in":36"#);
    let (error, _) = fetch_fails(&HostileServer::always(cut.clone()), 2000);
    assert_error(&error, ErrorKind::Response, &["not JSON"]);
    cached_token_survives(cut, 2000);
}

#[test]
fn a_body_cut_short_of_its_content_length_is_a_network_error() {
    let short = Reply::Raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"access_token\":\"abc\"".to_vec(),
    );
    let server = HostileServer::always(short.clone());
    let (error, _) = fetch_fails(&server, 3000);
    assert_error(&error, ErrorKind::Network, &["closed"]);
    assert_eq!(server.requests(), 3, "a connection cut mid-answer is retried");
    cached_token_survives(short, 3000);
}

#[test]
fn an_empty_body_is_a_response_error() {
    let empty = Reply::json(200, "");
    let (error, _) = fetch_fails(&HostileServer::always(empty.clone()), 2000);
    assert_error(&error, ErrorKind::Response, &["empty body"]);
    cached_token_survives(empty, 2000);
}

#[test]
fn a_body_over_the_cap_is_refused_without_reading_it_all() {
    let huge = format!(r#"{{"access_token":"abc","expires_in":3600,"padding":"{}"}}"#, "x".repeat(1 << 20));
    let declared = Reply::json(200, &huge);
    let (error, _) = fetch_fails(&HostileServer::always(declared.clone()), 5000);
    assert_error(&error, ErrorKind::Response, &["larger than 256 KiB"]);
    // No Content-Length: read until the cap, then stop.
    let mut streamed = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_vec();
    streamed.extend_from_slice(huge.as_bytes());
    let (error, _) = fetch_fails(&HostileServer::always(Reply::Raw(streamed)), 5000);
    assert_error(&error, ErrorKind::Response, &["larger than 256 KiB"]);
    cached_token_survives(declared, 5000);
    // An oversized error page still counts as its status: retried, then reported as HTTP 503.
    let page = Reply::Http { status: 503, headers: vec![("Content-Type".into(), "text/html".into())], body: huge.into_bytes() };
    let server = HostileServer::always(page);
    let (error, _) = fetch_fails(&server, 5000);
    assert_error(&error, ErrorKind::Http, &["HTTP 503", "gave up after 3 attempts"]);
    assert_eq!(server.requests(), 3);
}

#[test]
fn a_token_type_other_than_bearer_is_refused() {
    let mac = Reply::json(200, r#"{"access_token":"abc","token_type":"mac","expires_in":3600}"#);
    let (error, _) = fetch_fails(&HostileServer::always(mac.clone()), 2000);
    assert_error(&error, ErrorKind::Response, &["token_type", "mac", "bearer"]);
    assert!(!error.message().contains("abc"));
    cached_token_survives(mac, 2000);
}

#[test]
fn bad_expires_in_values_are_refused() {
    for value in ["-60", "0", r#""soon""#, "true", r#""""#, "[]"] {
        let reply = Reply::json(200, &format!(r#"{{"access_token":"abc","token_type":"Bearer","expires_in":{value}}}"#));
        let (error, _) = fetch_fails(&HostileServer::always(reply.clone()), 2000);
        assert_eq!(error.kind(), ErrorKind::Response, "expires_in {value}: {error:?}");
        cached_token_survives(reply, 2000);
    }
}

#[test]
fn a_huge_expires_in_is_capped_at_a_day() {
    for value in ["1e12", "99999999999999999999", r#""31536000""#] {
        let reply = Reply::json(200, &format!(r#"{{"access_token":"abc","token_type":"Bearer","expires_in":{value}}}"#));
        let server = HostileServer::always(reply);
        let token = client(&server.url(), 2000).token().unwrap();
        assert!(token.expires_in() <= Duration::from_secs(86_400), "{value}: {:?}", token.expires_in());
        assert!(token.expires_in() > Duration::from_secs(86_000), "{value}: {:?}", token.expires_in());
    }
}

#[test]
fn a_redirect_is_reported_and_not_followed() {
    let target = HostileServer::always(Reply::token("from-the-redirect-target", 3600));
    for status in [301, 302, 303, 307, 308] {
        let redirect = Reply::Http { status, headers: vec![("Location".into(), target.url())], body: Vec::new() };
        let (error, _) = fetch_fails(&HostileServer::always(redirect.clone()), 2000);
        assert_error(&error, ErrorKind::Http, &[&format!("HTTP {status}"), "redirect", "token_url"]);
        cached_token_survives(redirect, 2000);
    }
    assert_eq!(target.requests(), 0, "a redirect was followed");
}

#[test]
fn garbage_instead_of_http_is_a_network_error_not_a_crash() {
    for garbage in [&b"\x16\x03\x01\x02\x00"[..], b"SSH-2.0-OpenSSH_9.2\r\n", b"HTTP/1.1 999999999999 Bad\r\n\r\n", b"\0\0\0\0"] {
        let server = HostileServer::always(Reply::Raw(garbage.to_vec()));
        let (error, _) = fetch_fails(&server, 2000);
        assert!(matches!(error.kind(), ErrorKind::Network | ErrorKind::Http), "{garbage:?}: {error:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Interim answers, keep-alive, fork

#[test]
fn interim_answers_before_the_token_are_skipped() {
    for interim in [
        &b"HTTP/1.1 100 Continue\r\n\r\n"[..],
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
    ] {
        let server = HostileServer::always(Reply::Prefixed(interim.to_vec(), Box::new(Reply::token("after-interim", 3600))));
        let token = client(&server.url(), 2000).token().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(token.as_str(), "after-interim");
        assert_eq!(server.requests(), 1);
    }
    // 101 is not an interim answer to skip: it would switch protocols.
    let server = HostileServer::always(Reply::Raw(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n".to_vec()));
    let (error, _) = fetch_fails(&server, 2000);
    assert_error(&error, ErrorKind::Network, &["101"]);
}

#[test]
fn close_together_fetches_reuse_one_connection() {
    let server = HostileServer::start(|n| Reply::token_kept_alive(&format!("kept-{n}"), 3600));
    let client = client(&server.url(), 2000);
    assert_eq!(client.token().unwrap().as_str(), "kept-0");
    client.invalidate();
    assert_eq!(client.token().unwrap().as_str(), "kept-1");
    client.invalidate();
    assert_eq!(client.token().unwrap().as_str(), "kept-2");
    assert_eq!(server.requests(), 3);
    assert_eq!(server.connections(), 1, "the kept-alive connection was not reused");
}

#[test]
fn a_kept_alive_connection_the_server_closed_is_replaced() {
    // The server closes the connection right after its first answer.
    let server = HostileServer::start(|n| Reply::KeepAlive {
        status: 200,
        body: format!(r#"{{"access_token":"t{n}","token_type":"Bearer","expires_in":3600}}"#).into_bytes(),
        then_close: n == 0,
    });
    let client = client(&server.url(), 2000);
    assert_eq!(client.token().unwrap().as_str(), "t0");
    client.invalidate();
    assert_eq!(client.token().unwrap().as_str(), "t1");
    assert_eq!(server.connections(), 2);
}

#[test]
fn a_request_that_meets_a_stale_kept_alive_connection_is_resent_without_costing_an_attempt() {
    // Request 1 arrives on the kept-alive connection and the server hangs up without answering
    // (it timed the connection out just then). The client sends it again on a new connection;
    // that resend is not one of the 3 attempts, so two 503s later the third attempt succeeds.
    let server = HostileServer::start(|n| match n {
        0 => Reply::token_kept_alive("first", 3600),
        1 => Reply::HangUp,
        2 | 3 => html(503),
        _ => Reply::token("second", 3600),
    });
    let client = client(&server.url(), 5000);
    assert_eq!(client.token().unwrap().as_str(), "first");
    client.invalidate();
    assert_eq!(client.token().unwrap_or_else(|e| panic!("{e:?}")).as_str(), "second");
    assert_eq!(server.requests(), 5);
}

/// After a fetch that left a kept-alive connection, the process forks: the child's fetch opens
/// a connection of its own (never writing to the parent's), and the parent's next fetch still
/// uses its connection.
#[test]
fn a_forked_child_never_uses_the_parents_connection() {
    let server = HostileServer::start(|n| Reply::token_kept_alive(&format!("fork-{n}"), 3600));
    let client = client(&server.url(), 3000);
    assert_eq!(client.token().unwrap().as_str(), "fork-0");
    assert_eq!(server.connections(), 1);
    // SAFETY: the child only fetches with `client` (no lock of another thread is needed: the
    // client is used by this thread alone) and leaves with _exit, running no destructors.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            client.invalidate();
            client.token().map(|t| t.as_str().starts_with("fork-")).unwrap_or(false)
        }));
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for the child we made.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child's fetch failed: status {status}");
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 2, "the child did not open a connection of its own");
    // The parent's connection is intact: its next fetch reuses it.
    client.invalidate();
    assert!(client.token().unwrap().as_str().starts_with("fork-"));
    assert_eq!(server.requests(), 3);
    assert_eq!(server.connections(), 2, "the parent's kept-alive connection was lost");
}

// ---------------------------------------------------------------------------------------------
// A name server that never answers

const SILENT_DNS_CHILD: &str = "HCTOKEN_TEST_SILENT_DNS_CHILD";

/// Inside a network and mount namespace of its own (`unshare -rnm`: loopback only, and a
/// resolv.conf bind-mounted over the machine's), a name server on 127.0.0.1 reads every query
/// and never answers, with `options timeout:30 attempts:5` (150 s of waiting in the resolver).
/// The fetch still ends within timeout_ms + 10 %, as a timeout. The test binary re-runs itself
/// in the namespace to play the child.
#[test]
fn a_name_server_that_never_answers_times_out_on_time() {
    if std::env::var_os(SILENT_DNS_CHILD).is_some() {
        return silent_dns_child();
    }
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new("unshare")
        .args(["-rnm", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(&exe)
        .args(["--exact", "a_name_server_that_never_answers_times_out_on_time", "--nocapture", "--test-threads=1"])
        .env(SILENT_DNS_CHILD, "1")
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            println!("SKIPPED: cannot run unshare ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("unshare:") && !output.status.success() {
        println!("SKIPPED: unshare -rnm is not permitted here: {}", stderr.trim());
        return;
    }
    println!("{stdout}");
    assert!(output.status.success() && stdout.contains("silent-dns: done"), "child failed:\n{stdout}\n{stderr}");
}

fn silent_dns_child() {
    use std::net::{TcpListener, UdpSocket};
    // UDP and TCP port 53 on loopback: read, never answer.
    let udp = UdpSocket::bind("127.0.0.1:53").expect("bind 127.0.0.1:53/udp in the namespace");
    let tcp = TcpListener::bind("127.0.0.1:53").expect("bind 127.0.0.1:53/tcp in the namespace");
    let queries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = queries.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while udp.recv_from(&mut buf).is_ok() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in tcp.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = std::env::temp_dir().join(format!("hctoken-silent-dns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let resolv = dir.join("resolv.conf");
    std::fs::write(&resolv, "nameserver 127.0.0.1\noptions timeout:30 attempts:5\n").unwrap();
    let source = std::ffi::CString::new(resolv.to_str().unwrap()).unwrap();
    let target = std::ffi::CString::new("/etc/resolv.conf").unwrap();
    // SAFETY: valid NUL-terminated paths; a bind mount in our own mount namespace.
    let mounted = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) };
    assert_eq!(mounted, 0, "bind-mount resolv.conf: {}", std::io::Error::last_os_error());

    let url = "https://token.example.invalid/oauth2/token";
    let client = Client::new(&config(url, SECRET, &[("timeout_ms", "2000")])).unwrap();
    for round in 0..2 {
        let start = Instant::now();
        let error = client.token().expect_err("nothing answers");
        let elapsed = start.elapsed();
        println!("silent name server, fetch {round}: {:?} after {} ms: {}", error.kind(), elapsed.as_millis(), error.message());
        assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
        assert!(error.message().contains("resolving"), "{error}");
        assert!(elapsed <= Duration::from_millis(2200), "{elapsed:?}");
        client.invalidate();
    }
    assert!(queries.load(std::sync::atomic::Ordering::SeqCst) > 0, "the resolver never asked our name server");
    let _ = std::fs::remove_dir_all(&dir);
    println!("silent-dns: done");
}

// ---------------------------------------------------------------------------------------------
// A connect that never completes

/// A loopback listener with a backlog of 0 that never accepts: once its queue is full, the
/// kernel drops every further SYN, so a connect hangs as it would towards a black hole.
struct BlackHole {
    fd: libc::c_int,
    port: u16,
    _queued: Vec<std::net::TcpStream>,
}

impl BlackHole {
    fn new() -> Option<BlackHole> {
        // SAFETY: plain socket calls on a descriptor we own; the address structs are zeroed and
        // filled as the kernel expects.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len), 0);
            assert_eq!(libc::listen(fd, 0), 0);
            let mut bound: libc::sockaddr_in = std::mem::zeroed();
            let mut bound_len = len;
            assert_eq!(libc::getsockname(fd, (&mut bound as *mut libc::sockaddr_in).cast(), &mut bound_len), 0);
            let port = u16::from_be(bound.sin_port);
            // Fill the accept queue until a connect no longer completes.
            let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let mut queued = Vec::new();
            for _ in 0..16 {
                match std::net::TcpStream::connect_timeout(&target, Duration::from_millis(300)) {
                    Ok(stream) => queued.push(stream),
                    Err(_) => return Some(BlackHole { fd, port, _queued: queued }),
                }
            }
            libc::close(fd);
            None
        }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        // SAFETY: our descriptor, closed once.
        unsafe { libc::close(self.fd) };
    }
}

#[test]
fn a_connect_that_never_completes_times_out_on_time() {
    let Some(hole) = BlackHole::new() else {
        println!("SKIPPED: this kernel completes every loopback connect (no SYN is dropped)");
        return;
    };
    let url = format!("http://127.0.0.1:{}/oauth2/token", hole.port);
    // Bounded by connect_timeout_ms when it is the shorter...
    let client = Client::new(&config(&url, SECRET, &[("timeout_ms", "3000"), ("connect_timeout_ms", "1000")])).unwrap();
    let start = Instant::now();
    let error = client.token().unwrap_err();
    let elapsed = start.elapsed();
    println!("black-hole connect: connect_timeout_ms 1000, failed after {} ms: {error}", elapsed.as_millis());
    assert_error(&error, ErrorKind::Timeout, &["timed out connecting", "connect_timeout_ms"]);
    assert_within_timeout(elapsed, 1000);
    // ...and by timeout_ms when that is.
    let client = Client::new(&config(&url, SECRET, &[("timeout_ms", "1000"), ("connect_timeout_ms", "5000")])).unwrap();
    let start = Instant::now();
    let error = client.token().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_within_timeout(start.elapsed(), 1000);
}

/// Broken answers that carry the secret (as an echoing server's would) in the places an HTTP
/// client might quote: a header line without a colon, the reason phrase, a huge header. The
/// message never holds a byte of them, and stays short.
#[test]
fn no_byte_of_a_broken_answer_reaches_the_message() {
    let cases = [
        format!("HTTP/1.1 200 OK\r\nX-Echo {SECRET}\r\n\r\n"),
        format!("HTTP/1.1 200 {SECRET}\r\nContent-Length: nope-{SECRET}\r\n\r\n"),
        format!("HTTP/1.1 101 {SECRET}\r\nUpgrade: {SECRET}\r\n\r\n"),
        format!("HTTP/1.1 200 OK\r\nX-Echo: {}\r\n", SECRET.repeat(10_000)),
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{SECRET}\r\n"),
        format!("{SECRET} 200 OK\r\n\r\n"),
    ];
    for raw in cases {
        let server = HostileServer::always(Reply::Raw(raw.clone().into_bytes()));
        let (error, _) = fetch_fails(&server, 2000);
        println!("{:?}: {}", error.kind(), error.message());
        assert!(!error.message().contains(SECRET) && !format!("{error:?}").contains(SECRET), "{error:?}");
        assert!(error.message().len() < 512, "{} bytes", error.message().len());
        assert_eq!(error.kind(), ErrorKind::Network, "{}: {error:?}", &raw[..raw.len().min(60)]);
    }
}
