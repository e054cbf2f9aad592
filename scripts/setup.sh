#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust, gcc and Python: valgrind, Mono (C# tests),
# cmake and pkg-config (the consumers of an installed copy, tests/install.rs), and the
# independent OAuth servers (npm, from tests/peers/package-lock.json).
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v valgrind >/dev/null || missing+=(valgrind)
command -v cmake >/dev/null || missing+=(cmake)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v mcs >/dev/null || missing+=(mono-mcs)
command -v mono >/dev/null || missing+=(mono-runtime)
# HttpClient for the C# binding's handler.
ls /usr/lib/mono/4.5/System.Net.Http.dll >/dev/null 2>&1 || missing+=(libmono-system-net-http4.0-cil)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 20.19+ with npm comes with the machine image; Debian's own nodejs is too old for the
# pinned peers, so it is not installed from here.
if ! command -v npm >/dev/null; then
  echo "setup: Node.js 20.19 or later with npm is needed for the conformance peers" >&2
  exit 1
fi
if [[ -f tests/peers/package-lock.json ]]; then
  stamp=tests/peers/node_modules/.hctoken-lock
  if ! cmp -s tests/peers/package-lock.json "$stamp" 2>/dev/null; then
    echo "setup: npm ci in tests/peers"
    npm ci --prefix tests/peers --no-audit --no-fund --loglevel=error
    cp tests/peers/package-lock.json "$stamp"
  fi
fi
echo "setup: ready"
