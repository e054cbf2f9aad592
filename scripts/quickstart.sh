#!/usr/bin/env bash
# The main job on a fresh machine, with no credentials: build hctoken, start the local token
# server (`hctoken serve`), get a token from C and from the command line, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
rm -f target/serve.url
target/release/hctoken serve --port 0 > target/serve.url 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do [[ -s target/serve.url ]] && break; sleep 0.1; done
base=$(head -1 target/serve.url)
echo "local token server: $base"

cc -std=c11 -Wall -I include examples/c/get_token.c -L target/release -Wl,-rpath,"$PWD/target/release" \
  -lhctoken -o target/get_token
export HCTOKEN_CLIENT_SECRET=test-secret
echo "C example, profile change-healthcare-v2:"
target/get_token change-healthcare-v2 "$base/apip/auth/v2/token" test-client
echo "command line, profile nikohealth:"
token=$(target/release/hctoken token --profile nikohealth --token-url "$base/api/identity/connect/token" \
  --client-id test-client)
echo "Authorization: Bearer ${token:0:12}... (${#token} bytes)"
