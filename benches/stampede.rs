//! Cold-cache stampede: 1,000 threads call hct_client_get_token_into at once on a client with an
//! empty cache, against `hctoken serve --latency-ms 50`. Exactly one token request may reach the
//! server, and every caller must be served within 2 x 50 ms. Each round uses a new client.
//!
//! Reports, per round: requests seen by the server, caller latency (from the moment that caller
//! was released to its return) at p50 / p99 / max, and the span from the first release to the
//! last return.

mod support;

use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::c_abi::CClient;
use support::emulator::Emulator;

const LATENCY_MS: u64 = 50;

fn main() {
    let (callers, rounds) = if support::full_run() { (1000, 5) } else { (50, 1) };
    let emulator = Emulator::start(&["--latency-ms", &LATENCY_MS.to_string()]);
    println!("stampede: {callers} callers on an empty cache, server latency {LATENCY_MS} ms, {rounds} rounds");
    let mut results = Vec::new();
    for round in 1..=rounds {
        emulator.reset();
        let client = CClient::new(&emulator.token_url());
        let outcome = stampede(&client, callers);
        let requests = emulator.token_requests();
        let mut latencies: Vec<f64> = outcome.latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let (p50, p99, max) = (
            support::median(&mut latencies),
            support::percentile(&mut latencies, 99.0),
            support::percentile(&mut latencies, 100.0),
        );
        let span = outcome.span.as_secs_f64() * 1e3;
        println!(
            "round {round}: {requests} token request(s); caller latency p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; \
             first release to last return {span:.1} ms; {} distinct token(s)",
            outcome.distinct_tokens
        );
        assert_eq!(requests, 1, "a stampede must make exactly one token request");
        assert_eq!(outcome.distinct_tokens, 1, "every caller must get the one fetched token");
        results.push(json!({"round": round, "requests": requests, "p50_ms": p50, "p99_ms": p99, "max_ms": max, "span_ms": span}));
    }
    let worst = results.iter().map(|r| r["max_ms"].as_f64().unwrap()).fold(0.0, f64::max);
    println!("worst caller latency {worst:.1} ms (limit {} ms)", 2 * LATENCY_MS);
    if support::full_run() {
        support::results::write(
            "stampede",
            &json!({"callers": callers, "latency_ms": LATENCY_MS, "rounds": results, "worst_max_ms": worst}),
        );
    }
}

struct Outcome {
    latencies: Vec<Duration>,
    span: Duration,
    distinct_tokens: usize,
}

fn stampede(client: &CClient, callers: usize) -> Outcome {
    let start_line = Barrier::new(callers);
    let tokens = Mutex::new(std::collections::HashSet::new());
    let (first_start, last_end) = (Mutex::new(None::<Instant>), Mutex::new(None::<Instant>));
    let latencies = std::thread::scope(|scope| {
        let callers: Vec<_> = (0..callers)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, || {
                        let mut buf = vec![0u8; 4096];
                        start_line.wait();
                        let started = Instant::now();
                        let len = client.get_token_into(&mut buf);
                        let ended = Instant::now();
                        let mut first = first_start.lock().unwrap();
                        *first = Some(first.map_or(started, |f| f.min(started)));
                        drop(first);
                        let mut last = last_end.lock().unwrap();
                        *last = Some(last.map_or(ended, |l| l.max(ended)));
                        drop(last);
                        tokens.lock().unwrap().insert(buf[..len].to_vec());
                        ended - started
                    })
                    .expect("spawn a caller thread")
            })
            .collect();
        callers.into_iter().map(|c| c.join().unwrap()).collect::<Vec<_>>()
    });
    let span = last_end.into_inner().unwrap().unwrap() - first_start.into_inner().unwrap().unwrap();
    Outcome { latencies, span, distinct_tokens: tokens.into_inner().unwrap().len() }
}
