#!/usr/bin/env bash
# Runs every benchmark of issue 7 and prints their medians and ratios as Markdown tables
# (docs/benchmarks.md holds one such run and says what each figure means).
#
#   scripts/bench.sh        # about 8 minutes on a 2-core machine, most of it compiling
#
# It builds the release shared library (the benchmarks load it as a C host would), installs the
# Python peers (authlib, requests-oauthlib) into a virtual environment under target/, runs the
# criterion and custom benchmarks under benches/ (which start their own token servers on
# 127.0.0.1), strips a copy of the library to weigh it, and prints the report, also written to
# target/hctoken-bench/report.md. Benchmarks are not tests: nothing here fails on a slow figure.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/target/hctoken-bench"
venv="$PWD/target/bench-venv"
mkdir -p "$out"
# Other work on the machine skews every figure; the report shows the load at start and end.
cut -d' ' -f1 /proc/loadavg > "$out/loadavg-start.txt"

echo "== release library"
cargo build --release --lib

echo "== Python peers (virtual environment in target/bench-venv)"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check authlib requests requests-oauthlib

# The Python binding is used from the source tree, on the library just built.
export HCT_BENCH_PYTHON="$venv/bin/python"
export HCTOKEN_LIBRARY="$PWD/target/release/libhctoken.so"
export PYTHONPATH="$PWD/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
export HCT_BENCH_OUT="$out"

echo "== benchmarks (log in target/hctoken-bench/cargo-bench.log)"
cargo bench \
    --bench cached_get --bench contention --bench refresh_window \
    --bench stampede --bench fetch_cost --bench memory 2>&1 | tee "$out/cargo-bench.log"

echo "== stripped library"
cp target/release/libhctoken.so "$out/libhctoken.stripped.so"
strip "$out/libhctoken.stripped.so"

echo
python3 scripts/bench_report.py --criterion target/criterion --results "$out" \
    --library target/release/libhctoken.so --stripped "$out/libhctoken.stripped.so" | tee "$out/report.md"
