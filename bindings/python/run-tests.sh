#!/usr/bin/env bash
# Tests of the Python binding: builds the Rust crate, builds the hctoken wheel with its build
# backend (setuptools-rust, which compiles libhctoken with cargo and bundles it), installs it into
# a fresh virtualenv under target/, and runs pytest there. The exit code is pytest's.
# Extra arguments go to pytest. PYTHON picks the interpreter (default: python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="$root/target/py-venv"
dist="$root/target/py-dist"

echo "== cargo build (debug): target/debug/hctoken for the tests' token server"
cargo build --manifest-path "$root/Cargo.toml"

echo "== fresh virtualenv in $venv"
rm -rf "$venv" "$dist" "$here/build"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install --requirement "$here/requirements-dev.txt"

echo "== wheel built by setuptools-rust, installed into the virtualenv"
# Cargo's dev profile reuses every dependency `cargo build` compiled just above; users get the
# release profile (lto, one codegen unit), which would compile the whole tree a second time.
SETUPTOOLS_RUST_CARGO_PROFILE=dev \
    "${pip[@]}" wheel --no-deps --no-build-isolation --wheel-dir "$dist" "$here"
wheels=("$dist"/hctoken-*.whl)
"${pip[@]}" install --no-index --no-deps "${wheels[0]}"

echo "== pytest"
cd "$here"
unset HCTOKEN_LIBRARY  # test the library bundled in the wheel
export HCTOKEN_BIN="$root/target/debug/hctoken"
export HCTOKEN_WHEEL="${wheels[0]}"
exec "$venv/bin/python" -m pytest -ra tests "$@"
