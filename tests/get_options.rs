//! `Client::get` and its options (the Rust side of hct_client_get) on a manual clock against
//! the emulator: cached only, no early refresh, the token's scope and type, expires_in.

mod support;

use std::time::Duration;

use hctoken::{Client, ErrorKind, GetOptions, ManualClock};
use support::{config, Emulator};

const CACHED_ONLY: GetOptions = GetOptions { cached_only: true, no_early_refresh: false, timeout: None };
const NO_EARLY_REFRESH: GetOptions = GetOptions { cached_only: false, no_early_refresh: true, timeout: None };

#[test]
fn cached_only_never_fetches() {
    let emulator = Emulator::start();
    let clock = ManualClock::new();
    let client = Client::with_manual_clock(&config(&emulator, "generic", "/oauth2/token", &[]), clock.clone()).unwrap();
    let error = client.get(CACHED_ONLY).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoToken, "{error}");
    assert_eq!(emulator.token_requests(), 0);
    let first = client.get(GetOptions::default()).unwrap();
    assert_eq!(client.get(CACHED_ONLY).unwrap().as_str(), first.as_str());
    // Expired: cached only says so and still fetches nothing.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(client.get(CACHED_ONLY).unwrap_err().kind(), ErrorKind::NoToken);
    assert_eq!(emulator.token_requests(), 1);
}

#[test]
fn no_early_refresh_serves_the_valid_token_in_the_window() {
    let emulator = Emulator::start();
    let clock = ManualClock::new();
    // generic: 3600 s tokens; a 600 s skew puts the window at 3000..3600 s.
    let settings = config(&emulator, "generic", "/oauth2/token", &[("refresh_skew_secs", "600")]);
    let client = Client::with_manual_clock(&settings, clock.clone()).unwrap();
    let first = client.get(GetOptions::default()).unwrap();
    assert_eq!(first.expires_in(), Duration::from_secs(3600));
    clock.advance(Duration::from_secs(3100));
    let served = client.get(NO_EARLY_REFRESH).unwrap();
    assert_eq!(served.as_str(), first.as_str());
    assert_eq!(served.expires_in(), Duration::from_secs(500), "counted from when it was handed out");
    assert_eq!(client.get(CACHED_ONLY).unwrap().as_str(), first.as_str(), "cached only does not refresh either");
    assert_eq!(emulator.token_requests(), 1, "no refresh with no_early_refresh");
    let refreshed = client.get(GetOptions::default()).unwrap();
    assert_ne!(refreshed.as_str(), first.as_str(), "a get without the option refreshes");
    assert_eq!(emulator.token_requests(), 2);
    // Expired and nothing valid cached: no_early_refresh fetches like any get.
    clock.advance(Duration::from_secs(3600));
    let fetched = client.get(NO_EARLY_REFRESH).unwrap();
    assert_ne!(fetched.as_str(), refreshed.as_str());
    assert_eq!(emulator.token_requests(), 3);
}

#[test]
fn the_token_carries_scope_and_type_as_the_server_sent_them() {
    let emulator = Emulator::start();
    let niko = Client::new(&config(&emulator, "nikohealth", "/api/identity/connect/token", &[])).unwrap();
    let token = niko.get(GetOptions::default()).unwrap();
    assert_eq!((token.scope(), token.token_type()), ("external", "Bearer"));
    let v2 = Client::new(&config(&emulator, "change-healthcare-v2", "/apip/auth/v2/token", &[])).unwrap();
    let token = v2.token().unwrap();
    assert_eq!((token.scope(), token.token_type()), ("", "bearer"));
    let debug = format!("{token:?}");
    assert!(!debug.contains(v2.token().unwrap().as_str()), "Debug shows no token: {debug}");
}

#[test]
fn a_per_call_timeout_bounds_the_fetch() {
    let emulator = Emulator::start_with(&["--latency-ms", "3000"]);
    let client = Client::new(&config(&emulator, "generic", "/oauth2/token", &[("timeout_ms", "8000")])).unwrap();
    let timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let error = client.get(GetOptions { timeout: Some(timeout), ..GetOptions::default() }).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(error.message().contains("500 ms"), "the message names this call's timeout: {error}");
    assert!(elapsed <= timeout + timeout / 10, "returned after {elapsed:?}");
}
