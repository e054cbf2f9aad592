#!/usr/bin/env python3
"""Python side of the fetch and cached-token benchmarks (issue 7), against the token server that
benches/fetch_cost.rs starts (it runs this script with --token-url).

Measures, on the same server and in the same run:
  * hctoken through its Python binding (bindings/python): fetch (invalidate + token) and the
    cached token();
  * authlib (requests client): client-credentials fetch_token, and its cached-token access
    (ensure_active_token, then token["access_token"], what a caller does before each request);
  * requests-oauthlib: client-credentials fetch_token.
Each peer keeps one session (keep-alive), as the Rust side does. Writes medians (ns) as JSON.

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
from typing import Callable, Dict

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
WARMUP_FETCHES = 30
FETCHES = 400
CACHED_BATCH = 20_000
CACHED_BATCHES = 15


def median_per_call(call: Callable[[], object], count: int) -> float:
    """Median of `count` individually timed calls, in ns (for calls of many microseconds)."""
    for _ in range(WARMUP_FETCHES):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples)


def median_batched(call: Callable[[], object]) -> float:
    """Median over batches of the mean time per call, in ns (for sub-microsecond calls, where
    timing each call would mostly measure the timer)."""
    for _ in range(CACHED_BATCH):
        call()
    samples = []
    for _ in range(CACHED_BATCHES):
        started = time.perf_counter_ns()
        for _ in range(CACHED_BATCH):
            call()
        samples.append((time.perf_counter_ns() - started) / CACHED_BATCH)
    return statistics.median(samples)


def bench_hctoken(token_url: str) -> Dict[str, float]:
    import hctoken

    client = hctoken.Client("generic", token_url=token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert len(client.token()) > 1000

    def fetch() -> str:
        client.invalidate()
        return client.token()

    results = {"fetch_ns": median_per_call(fetch, FETCHES), "cached_ns": median_batched(client.token)}
    client.close()
    return results


def bench_authlib(token_url: str) -> Dict[str, float]:
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        token_endpoint=token_url,
        token_endpoint_auth_method="client_secret_basic",
        grant_type="client_credentials",
    )

    def fetch() -> str:
        return session.fetch_token(token_url, grant_type="client_credentials")["access_token"]

    fetch_ns = median_per_call(fetch, FETCHES)

    def cached() -> str:
        session.ensure_active_token()
        return session.token["access_token"]

    assert len(cached()) > 1000
    results = {"fetch_ns": fetch_ns, "cached_ns": median_batched(cached)}
    session.close()
    return results


def bench_requests_oauthlib(token_url: str) -> Dict[str, float]:
    # oauthlib refuses plain http unless told that this is a local test; the server is loopback.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    from oauthlib.oauth2 import BackendApplicationClient
    from requests_oauthlib import OAuth2Session

    session = OAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))

    def fetch() -> str:
        # With a secret and no include_client_id, the credentials go in an HTTP Basic header.
        token = session.fetch_token(token_url=token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        return token["access_token"]

    assert len(fetch()) > 1000
    results = {"fetch_ns": median_per_call(fetch, FETCHES)}
    session.close()
    return results


def versions() -> Dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("authlib", "requests-oauthlib", "oauthlib", "requests"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    results = {
        "versions": versions(),
        "hctoken": bench_hctoken(args.token_url),
        "authlib": bench_authlib(args.token_url),
        "requests_oauthlib": bench_requests_oauthlib(args.token_url),
    }
    import hctoken

    results["hctoken_library"] = hctoken.library_path()
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)
    hct = results["hctoken"]
    print(f"python peers (median; ratio = peer / hctoken-from-Python), results in {args.out}:")
    print(f"  hctoken binding      fetch {hct['fetch_ns'] / 1e3:8.1f} us   cached {hct['cached_ns']:8.0f} ns")
    auth = results["authlib"]
    print(
        f"  authlib              fetch {auth['fetch_ns'] / 1e3:8.1f} us ({auth['fetch_ns'] / hct['fetch_ns']:.1f}x)"
        f"   cached {auth['cached_ns']:8.0f} ns ({auth['cached_ns'] / hct['cached_ns']:.1f}x)"
    )
    ro = results["requests_oauthlib"]
    print(f"  requests-oauthlib    fetch {ro['fetch_ns'] / 1e3:8.1f} us ({ro['fetch_ns'] / hct['fetch_ns']:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
