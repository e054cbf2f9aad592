//! Result files of the benchmarks that criterion does not run, for scripts/bench_report.py.

use std::path::PathBuf;

/// `HCT_BENCH_OUT`, else target/hctoken-bench.
pub fn dir() -> PathBuf {
    let dir = std::env::var_os("HCT_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/hctoken-bench"));
    std::fs::create_dir_all(&dir).expect("create the benchmark result directory");
    dir
}

/// Writes `value` as `<name>.json` and says where.
pub fn write(name: &str, value: &serde_json::Value) {
    let path = dir().join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).expect("write a result file");
    println!("results written to {}", path.display());
}
