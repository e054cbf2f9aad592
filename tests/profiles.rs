//! Every profile end to end against `hctoken serve`, and the cache rules over real HTTP.

mod support;

use std::sync::Barrier;
use std::time::Duration;

use hctoken::{Client, ErrorKind, ManualClock};
use support::{config, profile_paths, Emulator};

#[test]
fn every_profile_gets_a_token_with_its_documented_lifetime() {
    let emulator = Emulator::start();
    let lifetimes = [3600, 3600, 7200, 1200, 3600];
    for ((profile, path), lifetime) in profile_paths().into_iter().zip(lifetimes) {
        let client = Client::new(&config(&emulator, profile, path, &[])).unwrap();
        let token = client.token().unwrap_or_else(|e| panic!("{profile}: {e}"));
        assert!(token.as_str().starts_with("eyJ"), "{profile}");
        let expires_in = token.expires_in().as_secs();
        assert!(expires_in <= lifetime && expires_in >= lifetime - 5, "{profile}: {expires_in}");
    }
    assert_eq!(emulator.token_requests(), 5);
}

#[test]
fn generic_works_with_every_auth_method_and_passes_the_scope() {
    let emulator = Emulator::start();
    for method in ["basic", "post", "json"] {
        let client = Client::new(&config(&emulator, "generic", "/oauth2/token", &[("auth_method", method), ("scope", "claims eligibility")])).unwrap();
        let token = client.token().unwrap_or_else(|e| panic!("{method}: {e}"));
        assert!(!token.as_str().is_empty());
    }
    let refused = Client::new(&config(&emulator, "generic", "/oauth2/token", &[("scope", "forbidden")])).unwrap();
    let err = refused.token().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OAuth);
    assert!(err.message().contains("invalid_scope"), "{err}");
}

#[test]
fn the_cache_answers_repeated_calls_from_memory() {
    let emulator = Emulator::start();
    let client = Client::new(&config(&emulator, "change-healthcare-v2", "/apip/auth/v2/token", &[])).unwrap();
    let first = client.token().unwrap();
    for _ in 0..100 {
        assert_eq!(client.token().unwrap().as_str(), first.as_str());
    }
    assert_eq!(emulator.token_requests(), 1);
}

#[test]
fn invalidate_makes_the_next_call_fetch_a_new_token() {
    let emulator = Emulator::start();
    let client = Client::new(&config(&emulator, "nikohealth", "/api/identity/connect/token", &[])).unwrap();
    let first = client.token().unwrap();
    client.invalidate();
    let second = client.token().unwrap();
    assert_ne!(first.as_str(), second.as_str());
    assert_eq!(emulator.token_requests(), 2);
}

#[test]
fn a_cold_cache_stampede_sends_one_request() {
    let emulator = Emulator::start_with(&["--latency-ms", "200"]);
    let client = Client::new(&config(&emulator, "optum-v3", "/auth/sntl/v1/token", &[])).unwrap();
    let threads = 64;
    let barrier = Barrier::new(threads);
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    client.token().unwrap().as_str().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(tokens.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(emulator.token_requests(), 1);
}

#[test]
fn a_failed_fetch_is_shared_by_every_waiting_caller() {
    let emulator = Emulator::start_with(&["--latency-ms", "200"]);
    let mut bad = config(&emulator, "generic", "/oauth2/token", &[]);
    bad.set("client_secret", "wrong").unwrap();
    let client = Client::new(&bad).unwrap();
    let barrier = Barrier::new(16);
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                barrier.wait();
                assert_eq!(client.token().unwrap_err().kind(), ErrorKind::OAuth);
            });
        }
    });
    assert_eq!(emulator.token_requests(), 1);
}

#[test]
fn the_token_is_refreshed_inside_the_window_and_expiry_follows_the_monotonic_clock() {
    let emulator = Emulator::start();
    let clock = ManualClock::new();
    let client = Client::with_manual_clock(&config(&emulator, "nikohealth", "/api/identity/connect/token", &[]), clock.clone()).unwrap();
    let first = client.token().unwrap();
    // 1200 s token, 60 s skew: fresh until 1140 s.
    clock.advance(Duration::from_secs(1139));
    assert_eq!(client.token().unwrap().as_str(), first.as_str());
    assert_eq!(emulator.token_requests(), 1);
    clock.advance(Duration::from_secs(2));
    let refreshed = client.token().unwrap();
    assert_ne!(refreshed.as_str(), first.as_str());
    assert_eq!(emulator.token_requests(), 2);
    // The wall clock plays no part: only the manual (monotonic) clock moved.
}

#[test]
fn refresh_skew_is_configurable() {
    let emulator = Emulator::start_with(&["--lifetime", "600"]);
    let clock = ManualClock::new();
    let client = Client::with_manual_clock(
        &config(&emulator, "generic", "/oauth2/token", &[("refresh_skew_secs", "120")]),
        clock.clone(),
    )
    .unwrap();
    client.token().unwrap();
    clock.advance(Duration::from_secs(479));
    client.token().unwrap();
    assert_eq!(emulator.token_requests(), 1);
    clock.advance(Duration::from_secs(2));
    client.token().unwrap();
    assert_eq!(emulator.token_requests(), 2);
}

#[test]
fn errors_name_what_went_wrong() {
    let emulator = Emulator::start();
    let mut wrong = config(&emulator, "optum-v3", "/auth/sntl/v1/token", &[]);
    wrong.set("client_secret", "not-the-secret").unwrap();
    let err = Client::new(&wrong).unwrap().token().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OAuth);
    assert_eq!(err.oauth_details().unwrap().error, "invalid_client");
    assert!(!err.message().contains("not-the-secret"));

    let v2_on_a_form_endpoint = config(&emulator, "change-healthcare-v2", "/auth/sntl/v1/token", &[]);
    let err = Client::new(&v2_on_a_form_endpoint).unwrap().token().unwrap_err();
    assert!(err.message().contains("auth_method"), "{err}");

    let wrong_path = config(&emulator, "generic", "/nope", &[]);
    let err = Client::new(&wrong_path).unwrap().token().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Http, "{err}");
    assert!(err.message().contains("404"), "{err}");

    let mut remote_http = hctoken::Config::new();
    for (k, v) in [("token_url", "http://token.example.com/t"), ("client_id", "a"), ("client_secret", "b")] {
        remote_http.set(k, v).unwrap();
    }
    let err = Client::new(&remote_http).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("loopback"));
}

#[test]
fn the_command_line_tool_prints_a_token_with_the_secret_from_the_environment() {
    let emulator = Emulator::start();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hctoken"))
        .args(["token", "--profile", "nikohealth", "--token-url", &emulator.token_url("/api/identity/connect/token")])
        .args(["--client-id", support::CLIENT_ID])
        .env("HCTOKEN_CLIENT_SECRET", support::CLIENT_SECRET)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap();
    assert!(token.trim().starts_with("eyJ"));
}
