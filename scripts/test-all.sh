#!/usr/bin/env bash
# Every test: Rust (unit, integration, the C programs plain, under valgrind and with
# AddressSanitizer, conformance against independent OAuth servers, an install into a temporary
# prefix built against with pkg-config and CMake), Python, C#, and a fuzz smoke run of every
# fuzz target (FUZZ_SECONDS each, default 60).
# Installs what it needs first (scripts/setup.sh). Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1

failed=()
run() {
  local name=$1
  shift
  echo
  echo "=== $name: $*"
  if "$@"; then
    echo "=== $name: ok"
  else
    echo "=== $name: FAILED"
    failed+=("$name")
  fi
}

# The C tests link target/debug/libhctoken.so, so build it before the tests run.
run build cargo build --all-targets
run rust cargo test --no-fail-fast
run python bash bindings/python/run-tests.sh
run csharp bash bindings/csharp/run-tests.sh
run fuzz bash scripts/fuzz.sh

echo
if ((${#failed[@]})); then
  echo "test-all: FAILED: ${failed[*]}"
  exit 1
fi
echo "test-all: every suite passed"
