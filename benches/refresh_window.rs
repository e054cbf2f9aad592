//! The refresh window: while one caller refreshes the token (against a server that takes
//! 200 ms to answer), the other callers must keep getting the still-valid token at the cached
//! path's cost, without waiting. The refreshing caller pays for its fetch (bounded by its
//! timeout and by half of the token's remaining validity, here 25 s): its wait is reported.
//!
//! The client runs on a manual clock (hctoken::ManualClock) so the token can be moved into its
//! refresh window at once. Two reader threads (one per core) time every call: first while the
//! token is fresh, then while the refresh is in flight. Each figure includes one clock read of
//! the timing itself, the same in both phases.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::token_server::TokenServer;

const SERVER_LATENCY: Duration = Duration::from_millis(200);
/// How long the readers run in each phase; shorter than the server latency, so the whole
/// second phase falls inside one refresh.
const PHASE: Duration = Duration::from_millis(120);
const READERS: usize = 2;

struct Phase {
    calls: usize,
    p50_ns: f64,
    p99_ns: f64,
    p999_ns: f64,
    max_ns: f64,
    /// Calls that got a token other than the one cached when the phase started.
    other_token: usize,
}

fn main() {
    let server = TokenServer::start();
    let clock = hctoken::ManualClock::new();
    let client = hctoken::Client::with_manual_clock(&support::rust_config(&server.token_url()), clock.clone()).unwrap();
    let old_token = client.token().unwrap().as_str().to_owned();

    let fresh = read_for(&client, PHASE, &old_token);
    // 3550 s into a 3600 s token with the default 60 s skew: valid, and due for refresh.
    clock.advance(Duration::from_secs(3550));
    server.set_latency(SERVER_LATENCY);

    let (refreshing, refresh_time) = std::thread::scope(|scope| {
        let refresher = scope.spawn(|| {
            let started = Instant::now();
            client.with_token(|_| ()).unwrap();
            started.elapsed()
        });
        // The readers start once the refresh request is at the server.
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.requests() < 2 {
            assert!(Instant::now() < deadline, "the refresh request never reached the server");
            std::thread::sleep(Duration::from_micros(200));
        }
        let phase = read_for(&client, PHASE, &old_token);
        (phase, refresher.join().unwrap())
    });
    let new_token = client.token().unwrap().as_str().to_owned();
    assert_ne!(new_token, old_token, "the refresh must replace the token");
    assert_eq!(server.requests(), 2, "one refresh, one request");

    println!("refresh window: {READERS} readers, server latency {} ms, phases of {} ms", SERVER_LATENCY.as_millis(), PHASE.as_millis());
    for (name, phase) in [("fresh token", &fresh), ("during the refresh", &refreshing)] {
        println!(
            "{name:>20}: {} calls, per call p50 {:.0} ns, p99 {:.0} ns, p99.9 {:.0} ns, max {:.1} us; {} got another token",
            phase.calls,
            phase.p50_ns,
            phase.p99_ns,
            phase.p999_ns,
            phase.max_ns / 1e3,
            phase.other_token
        );
    }
    println!("the refreshing caller waited {:.1} ms", refresh_time.as_secs_f64() * 1e3);
    assert_eq!(refreshing.other_token, 0, "during the refresh the readers get the old token");
    if support::full_run() {
        let as_json = |p: &Phase| {
            json!({"calls": p.calls, "p50_ns": p.p50_ns, "p99_ns": p.p99_ns, "p999_ns": p.p999_ns, "max_ns": p.max_ns})
        };
        support::results::write(
            "refresh_window",
            &json!({
                "readers": READERS,
                "server_latency_ms": SERVER_LATENCY.as_millis() as u64,
                "fresh": as_json(&fresh),
                "refreshing": as_json(&refreshing),
                "refresher_ms": refresh_time.as_secs_f64() * 1e3,
            }),
        );
    }
}

/// `READERS` threads get tokens for `duration`, timing each call.
fn read_for(client: &hctoken::Client, duration: Duration, expected: &str) -> Phase {
    let stop = AtomicBool::new(false);
    let per_reader: Vec<(Vec<f64>, usize)> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut buf = vec![0u8; 4096];
                    let mut latencies = Vec::with_capacity(4_000_000);
                    let mut other_token = 0;
                    while !stop.load(Ordering::Relaxed) && latencies.len() < latencies.capacity() {
                        let started = Instant::now();
                        let len = client
                            .with_token(|token| {
                                buf[..token.len()].copy_from_slice(token.as_bytes());
                                token.len()
                            })
                            .unwrap();
                        latencies.push(started.elapsed().as_nanos() as f64);
                        other_token += usize::from(buf[..len] != *expected.as_bytes());
                    }
                    (latencies, other_token)
                })
            })
            .collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let other_token = per_reader.iter().map(|(_, n)| n).sum();
    let mut all: Vec<f64> = per_reader.into_iter().flat_map(|(l, _)| l).collect();
    Phase {
        calls: all.len(),
        p50_ns: support::median(&mut all),
        p99_ns: support::percentile(&mut all, 99.0),
        p999_ns: support::percentile(&mut all, 99.9),
        max_ns: support::percentile(&mut all, 100.0),
        other_token,
    }
}
