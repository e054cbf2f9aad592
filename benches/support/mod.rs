//! What the benchmarks share: a local token server, the ways in to a client (C ABI linked in,
//! the released shared library, Rust), `hctoken serve` as a child process, and result files.
//! Each benchmark uses only part of it.
#![allow(dead_code)]

pub mod c_abi;
pub mod emulator;
pub mod jwt;
pub mod results;
pub mod shared_library;
pub mod token_server;

/// The credentials every benchmark client uses against the local servers.
pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret";

/// A Rust client of the generic profile (HTTP Basic) for `token_url`.
pub fn rust_config(token_url: &str) -> hctoken::Config {
    let mut config = hctoken::Config::new();
    for (key, value) in config_pairs(token_url) {
        config.set(key, &value).expect("a valid benchmark configuration");
    }
    config
}

/// The configuration of every benchmark client, as key/value text.
pub fn config_pairs(token_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("profile", "generic".to_owned()),
        ("token_url", token_url.to_owned()),
        ("client_id", CLIENT_ID.to_owned()),
        ("client_secret", CLIENT_SECRET.to_owned()),
    ]
}

/// The median of some samples (sorted in place).
pub fn median(samples: &mut [f64]) -> f64 {
    percentile(samples, 50.0)
}

/// The `p`th percentile (nearest rank) of some samples (sorted in place).
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Criterion settings of every benchmark: short, so scripts/bench.sh stays within minutes on a
/// 2-core machine, with enough samples for a stable median.
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(50)
}

/// Whether `cargo bench` runs this benchmark (it passes `--bench`); under `cargo test --benches`
/// the custom benchmarks run a small smoke version instead.
pub fn full_run() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}
