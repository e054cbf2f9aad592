#!/usr/bin/env bash
# Tests of the C# binding: builds the Rust library (cargo is a no-op when it is up to date),
# compiles the binding, its test program and the example with Mono's C# compiler, and runs the
# tests with mono against `hctoken serve` instances that the test program starts and stops itself.
# Exits non-zero when anything fails; the last line of the test output is "N passed, N failed".
set -euo pipefail

binding_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$binding_dir/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
out_dir="$target_dir/csharp"

for tool in cargo mcs mono; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bindings/csharp/run-tests.sh: '$tool' is not installed." >&2
        if [ "$tool" != cargo ]; then
            echo "Install Mono's compiler and runtime first, e.g. on Debian or Ubuntu:" >&2
            echo "    sudo apt-get install -y mono-mcs mono-runtime libmono-system-net-http4.0-cil" >&2
        fi
        exit 1
    fi
done

(cd "$repo_root" && cargo build)

mkdir -p "$out_dir"
# -langversion:7.2 keeps the source within what every supported compiler accepts (the .csproj says 7.3).
mcs_flags=(-langversion:7.2 -warn:4 -warnaserror+ -debug -r:System.Net.Http.dll)

mcs "${mcs_flags[@]}" -target:library -out:"$out_dir/HcToken.dll" -doc:"$out_dir/HcToken.xml" \
    $(find "$binding_dir/src" -name '*.cs' | sort)
mcs "${mcs_flags[@]}" -target:exe -out:"$out_dir/HcToken.Tests.exe" -r:"$out_dir/HcToken.dll" \
    "$binding_dir"/tests/*.cs
mcs "${mcs_flags[@]}" -target:exe -out:"$out_dir/HcToken.Example.exe" -r:"$out_dir/HcToken.dll" \
    "$repo_root"/examples/csharp/*.cs

# Mono finds libhctoken.so for DllImport("hctoken") through the loader's search path.
export HCTOKEN_HEADER="$repo_root/include/hctoken.h"  # for the prototypes-against-header test
export LD_LIBRARY_PATH="$target_dir/debug${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec mono --debug "$out_dir/HcToken.Tests.exe" "$target_dir/debug/hctoken" "$out_dir/HcToken.Example.exe"
