//! Many threads on one client, all on the cached path: readers must not serialize, so two
//! threads should get close to twice one thread's throughput on this 2-core machine (beyond two
//! threads there are no more cores; the figures show that nothing collapses).
//!
//! One "iteration" is one get on each of the N threads at once; criterion reports it as a
//! throughput of N gets. Two baselines: `copy_baseline`, the bare 1.2 KB copy with nothing
//! shared (the most two threads can gain on this machine), and `rwlock_baseline`, what a
//! lock-based cache gets (a std RwLock read plus the same copy).

mod support;

use std::hint::black_box;
use std::sync::{Barrier, RwLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};

use support::c_abi::CClient;
use support::token_server::TokenServer;

const THREADS: [usize; 4] = [1, 2, 4, 8];

/// Runs `get` `iters` times on each of `threads` threads started together; the wall time.
fn run_on_threads<F: Fn(&mut [u8]) + Sync>(threads: usize, iters: u64, get: &F) -> Duration {
    let start_line = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut buf = vec![0u8; 4096];
                    start_line.wait();
                    for _ in 0..iters {
                        get(black_box(&mut buf));
                    }
                })
            })
            .collect();
        start_line.wait();
        let started = Instant::now();
        for worker in workers {
            worker.join().unwrap();
        }
        started.elapsed()
    })
}

fn group<F: Fn(&mut [u8]) + Sync>(c: &mut Criterion, name: &str, threads: &[usize], get: F) {
    let mut group = c.benchmark_group(name);
    // Equal samples: each spawns its threads once, so small samples would mostly time spawning.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    for &n in threads {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| b.iter_custom(|iters| run_on_threads(n, iters, &get)));
    }
    group.finish();
}

fn contention(c: &mut Criterion) {
    let server = TokenServer::start();
    let client = CClient::new(&server.token_url());
    client.get_token();

    group(c, "contention_get_token_into", &THREADS, |buf| {
        client.get_token_into(buf);
    });
    group(c, "contention_get_token", &THREADS, |_| {
        client.get_token();
    });
    assert_eq!(server.requests(), 1, "every get after the first must come from the cache");

    // The machine's own ceiling: the same copy from memory no thread writes, with nothing shared
    // at all. Two threads cannot beat this ratio.
    let token = support::jwt::jwt(0, 3600);
    group(c, "contention_copy_baseline", &[1, 2], |buf| {
        let token = black_box(token.as_bytes());
        buf[..token.len()].copy_from_slice(token);
        buf[token.len()] = 0;
    });

    let locked = RwLock::new(support::jwt::jwt(0, 3600));
    group(c, "contention_rwlock_baseline", &[1, 2], |buf| {
        let token = locked.read().unwrap();
        buf[..token.len()].copy_from_slice(token.as_bytes());
        buf[token.len()] = 0;
    });

    if support::full_run() {
        paired(&client, &token);
    }
}

/// The 2-thread / 1-thread ratio measured in alternating pairs of short runs, so that other
/// work on the machine (which comes and goes over seconds) weighs on both sides of each ratio
/// alike; criterion's groups above measure one thread count after the other.
fn paired(client: &CClient, token: &str) {
    const PAIRS: usize = 25;
    const ITERS: u64 = 1_000_000;
    let ratios = |get: &(dyn Fn(&mut [u8]) + Sync)| -> Vec<f64> {
        (0..PAIRS)
            .map(|_| {
                let one = run_on_threads(1, ITERS, &get);
                let two = run_on_threads(2, ITERS, &get);
                // Both threads did ITERS gets in `two`: throughput ratio.
                2.0 * one.as_secs_f64() / two.as_secs_f64()
            })
            .collect()
    };
    let mut library = ratios(&|buf: &mut [u8]| {
        client.get_token_into(buf);
    });
    let mut copy = ratios(&|buf: &mut [u8]| {
        let token = black_box(token.as_bytes());
        buf[..token.len()].copy_from_slice(token);
        buf[token.len()] = 0;
    });
    let summary = |ratios: &mut Vec<f64>| {
        serde_json::json!({
            "median": support::median(ratios),
            "min": support::percentile(ratios, 0.0),
            "max": support::percentile(ratios, 100.0),
        })
    };
    let (library, copy) = (summary(&mut library), summary(&mut copy));
    println!(
        "paired 2-thread / 1-thread throughput ({PAIRS} pairs): hct_client_get_token_into median {:.2}x, bare copy median {:.2}x",
        library["median"].as_f64().unwrap(),
        copy["median"].as_f64().unwrap()
    );
    support::results::write("contention_pairs", &serde_json::json!({"pairs": PAIRS, "get_token_into": library, "copy": copy}));
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = contention
}
criterion_main!(benches);
