#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a bounded time and fails on a crash or a property
# violation (issue 11 item 8).
#
#   scripts/fuzz.sh                      # each target for 60 s
#   FUZZ_SECONDS=10 scripts/fuzz.sh      # shorter
#   scripts/fuzz.sh redact response      # only these targets
#
# Needs cargo-fuzz (installed here with `cargo install cargo-fuzz --locked` when missing, a few
# minutes) and a nightly toolchain for the sanitizer flags: the installed nightly when there is
# one, else the stable toolchain with RUSTC_BOOTSTRAP=1. The corpus grows in fuzz/corpus/ (not
# in git), seeded from fuzz/seeds/; a crash is saved under fuzz/artifacts/<target>/ and the
# script exits non-zero. It prints the executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(response config jwt redact)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    echo "== no nightly toolchain: stable with RUSTC_BOOTSTRAP=1"
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

cd fuzz
echo "== building the fuzz targets"
"${fuzz[@]}" build

failed=()
summary=()
for target in "${targets[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    seeds=()
    if [ -d "seeds/$target" ]; then
        seeds=("seeds/$target")
    fi
    log="$(mktemp)"
    echo "== $target for ${seconds} s"
    status=0
    "${fuzz[@]}" run "$target" "$corpus" "${seeds[@]}" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs="$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1 || true)"
    if [ "$status" -ne 0 ]; then
        grep -a -E 'panicked|ERROR|SUMMARY|artifact|Reproduce' -A 3 "$log" | head -n 40 || true
        failed+=("$target")
        summary+=("$target: FAILED (exit $status) after ${execs:-?} executions")
    else
        summary+=("$target: ${execs:-?} executions in ${seconds} s, no failure")
    fi
    rm -f "$log"
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
