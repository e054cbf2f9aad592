"""One client shared by many threads: a cold cache costs exactly one token request."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import hctoken

THREADS = 32
CALLS_PER_THREAD = 20


def test_threads_on_a_cold_cache_share_one_token_request(
    start_token_server: Callable[..., TokenServer],
) -> None:
    # A slow answer keeps the first request in flight while the other threads arrive.
    server = start_token_server("--latency-ms", "300")
    start_together = threading.Barrier(THREADS, timeout=30)

    with hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    ) as client:

        def worker(_: int) -> set:
            start_together.wait()
            return {client.token() for _ in range(CALLS_PER_THREAD)}

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            seen = set().union(*pool.map(worker, range(THREADS), timeout=60))

    assert len(seen) == 1
    assert server.token_requests() == 1


def test_close_waits_for_calls_in_flight(start_token_server: Callable[..., TokenServer]) -> None:
    server = start_token_server("--latency-ms", "300")
    client = hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(client.token)
        # Whether close() lands before or during that call, it must neither crash nor free the
        # native client under it: the call either completes or reports the client as closed.
        client.close()
        try:
            assert in_flight.result(timeout=30)
        except ValueError as error:
            assert "closed" in str(error)
    assert client.closed
