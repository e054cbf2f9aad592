#!/usr/bin/env python3
"""Python side of the fetch and cached-token benchmarks (issue 7), against the token server that
benches/fetch_cost.rs starts (it runs this script with --token-url).

Measures, on the same server and in the same run:
  * hctoken through its Python binding (bindings/python): fetch (invalidate + token) and the
    cached token();
  * authlib (requests client): client-credentials fetch_token, and its cached-token access
    (ensure_active_token, then token["access_token"], what a caller does before each request);
  * requests-oauthlib: client-credentials fetch_token.
Each keeps one session (keep-alive), as the Rust side does. The libraries take turns, round after
round, so that drift on the machine falls on each alike. Writes medians (ns) as JSON.

The peers are dev-only: scripts/bench.sh installs them into a virtual environment under target/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from typing import Callable, Dict, List

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
WARMUP_ROUNDS = 30
FETCH_ROUNDS = 400
CACHED_BATCH = 10_000
CACHED_ROUNDS = 20
# The benchmark server issues 1,200-byte JWTs; a shorter token means the wrong server.
MIN_TOKEN_LEN = 1200


def interleaved_per_call(calls: Dict[str, Callable[[], object]]) -> Dict[str, float]:
    """Median time of one call of each, in ns, the calls taking turns (for calls of many us)."""
    samples: Dict[str, List[int]] = {name: [] for name in calls}
    for round_ in range(WARMUP_ROUNDS + FETCH_ROUNDS):
        for name, call in calls.items():
            started = time.perf_counter_ns()
            call()
            elapsed = time.perf_counter_ns() - started
            if round_ >= WARMUP_ROUNDS:
                samples[name].append(elapsed)
    return {name: statistics.median(values) for name, values in samples.items()}


def interleaved_batched(calls: Dict[str, Callable[[], object]]) -> Dict[str, float]:
    """Median over batches of the mean time per call, in ns, the batches taking turns (for
    sub-microsecond calls, where timing each call would mostly measure the timer)."""
    samples: Dict[str, List[float]] = {name: [] for name in calls}
    for round_ in range(1 + CACHED_ROUNDS):
        for name, call in calls.items():
            started = time.perf_counter_ns()
            for _ in range(CACHED_BATCH):
                call()
            if round_ > 0:
                samples[name].append((time.perf_counter_ns() - started) / CACHED_BATCH)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    global MIN_TOKEN_LEN
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--min-token-len", type=int, default=MIN_TOKEN_LEN, help="e.g. 0 against hctoken serve")
    args = parser.parse_args()
    MIN_TOKEN_LEN = args.min_token_len
    url = args.token_url

    import hctoken
    from authlib.integrations.requests_client import OAuth2Session as AuthlibSession

    # oauthlib refuses plain http unless told that this is a local test; the server is loopback.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    from oauthlib.oauth2 import BackendApplicationClient
    from requests_oauthlib import OAuth2Session as RequestsOAuthlibSession

    hct = hctoken.Client("generic", token_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    authlib = AuthlibSession(
        CLIENT_ID,
        CLIENT_SECRET,
        token_endpoint=url,
        token_endpoint_auth_method="client_secret_basic",
        grant_type="client_credentials",
    )
    requests_oauthlib = RequestsOAuthlibSession(client=BackendApplicationClient(client_id=CLIENT_ID))

    def hctoken_fetch() -> str:
        hct.invalidate()
        return hct.token()

    def authlib_fetch() -> str:
        return authlib.fetch_token(url, grant_type="client_credentials")["access_token"]

    def requests_oauthlib_fetch() -> str:
        # With a secret and no include_client_id, the credentials go in an HTTP Basic header.
        token = requests_oauthlib.fetch_token(token_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        return token["access_token"]

    def authlib_cached() -> str:
        authlib.ensure_active_token()
        return authlib.token["access_token"]

    fetches = {"hctoken": hctoken_fetch, "authlib": authlib_fetch, "requests_oauthlib": requests_oauthlib_fetch}
    for name, fetch in fetches.items():
        assert len(fetch()) >= MIN_TOKEN_LEN, f"{name} got a short token: is this the benchmark server?"
    fetch_ns = interleaved_per_call(fetches)
    cached_ns = interleaved_batched({"hctoken": hct.token, "authlib": authlib_cached})

    results = {
        "versions": versions(),
        "hctoken_library": hctoken.library_path(),
        "hctoken": {"fetch_ns": fetch_ns["hctoken"], "cached_ns": cached_ns["hctoken"]},
        "authlib": {"fetch_ns": fetch_ns["authlib"], "cached_ns": cached_ns["authlib"]},
        "requests_oauthlib": {"fetch_ns": fetch_ns["requests_oauthlib"]},
    }
    hct.close()
    authlib.close()
    requests_oauthlib.close()
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)

    base = results["hctoken"]
    print(f"python peers (median; ratio = peer / hctoken-from-Python), results in {args.out}:")
    print(f"  hctoken binding      fetch {base['fetch_ns'] / 1e3:8.1f} us   cached {base['cached_ns']:8.0f} ns")
    auth = results["authlib"]
    print(
        f"  authlib              fetch {auth['fetch_ns'] / 1e3:8.1f} us ({auth['fetch_ns'] / base['fetch_ns']:.1f}x)"
        f"   cached {auth['cached_ns']:8.0f} ns ({auth['cached_ns'] / base['cached_ns']:.2f}x)"
    )
    ro = results["requests_oauthlib"]
    print(f"  requests-oauthlib    fetch {ro['fetch_ns'] / 1e3:8.1f} us ({ro['fetch_ns'] / base['fetch_ns']:.1f}x)")
    return 0


def versions() -> Dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("authlib", "requests-oauthlib", "oauthlib", "requests"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


if __name__ == "__main__":
    sys.exit(main())
