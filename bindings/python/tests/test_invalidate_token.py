"""Client.invalidate_token and both adapters' 401 path: a 401 storm costs one token request."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List, Tuple

import httpx
import pytest
import requests
from token_server import TokenServer
from urllib3.util.retry import Retry

import hctoken
import hctoken.httpx
import hctoken.requests

THREADS = 16
# Every request closes its connection: the emulator serves each kept-alive connection on a thread of
# its own for as long as the connection stays open, and when 16 are held open at once (as the gate
# below holds them) a new connection may wait in its queue until one closes.
CLOSE = {"Connection": "close"}
# Only a bound on a broken test: the 16 threads normally meet within milliseconds.
GATE_TIMEOUT_SECS = 30


def test_invalidate_token_drops_only_the_refused_token(
    client: hctoken.Client, server: TokenServer
) -> None:
    first = client.token()

    client.invalidate_token(first + "x")  # another token: the cached one stays
    client.invalidate_token("")
    assert client.token() == first
    assert server.token_requests() == 1

    client.invalidate_token(first)
    second = client.token()
    assert second != first
    assert server.token_requests() == 2

    client.invalidate_token(first)  # refused again, but already replaced: nothing happens
    assert client.token() == second
    assert server.token_requests() == 2


def test_invalidate_token_before_any_token_is_harmless(
    client: hctoken.Client, server: TokenServer
) -> None:
    client.invalidate_token("never-issued")
    assert client.token()
    assert server.token_requests() == 1


def test_invalidate_token_checks_its_argument(client: hctoken.Client) -> None:
    token = client.token()
    with pytest.raises(TypeError, match="str"):
        client.invalidate_token(token.encode())  # type: ignore[arg-type]
    with pytest.raises(hctoken.InvalidArgumentError, match="NUL"):
        client.invalidate_token(token + "\0tail")
    assert client.token() == token


def test_invalidate_token_on_a_closed_client_is_refused(client: hctoken.Client) -> None:
    token = client.token()
    client.close()
    with pytest.raises(ValueError, match="closed"):
        client.invalidate_token(token)


class Gate:
    """Holds the first `THREADS` 401 answers until all of them have arrived, so that every thread
    has seen the 401 for the revoked token before any of them handles it: the worst case for a
    check-then-act 401 handler. Later answers pass straight through."""

    def __init__(self) -> None:
        self._barrier = threading.Barrier(THREADS, timeout=GATE_TIMEOUT_SECS)
        self._lock = threading.Lock()
        self._held = 0
        self.sent: List[str] = []

    def saw(self, authorization: str, status: int) -> None:
        with self._lock:
            self.sent.append(authorization)
            hold = status == 401 and self._held < THREADS
            if hold:
                self._held += 1
        if hold:
            self._barrier.wait()


class GatedAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, gate: Gate) -> None:
        # The emulator closes after "Connection: close" without saying so in its answer, so urllib3
        # may pool that connection and meet it closed on the next send: such a GET is sent again
        # on a new connection (below this adapter, so the gate still sees one send).
        resend_on_a_dropped_connection = Retry(total=2, connect=2, read=2, status=0, redirect=0)
        super().__init__(pool_maxsize=THREADS, max_retries=resend_on_a_dropped_connection)
        self.gate = gate

    def send(self, request: Any, **kwargs: Any) -> Any:
        response = super().send(request, **kwargs)
        self.gate.saw(request.headers.get("Authorization", ""), response.status_code)
        return response


class GatedTransport(httpx.HTTPTransport):
    def __init__(self, gate: Gate) -> None:
        super().__init__(limits=httpx.Limits(max_connections=THREADS))
        self.gate = gate

    def handle_request(self, request: Any) -> Any:
        response = super().handle_request(request)
        self.gate.saw(request.headers.get("Authorization", ""), response.status_code)
        return response


def through_requests(client: hctoken.Client, gate: Gate, url: str) -> Callable[[], Tuple[int, int]]:
    session = requests.Session()
    session.mount("http://", GatedAdapter(gate))
    session.auth = hctoken.requests.BearerAuth(client)
    session.headers.update(CLOSE)

    def get() -> Tuple[int, int]:
        answer = session.get(url, timeout=GATE_TIMEOUT_SECS)
        return answer.status_code, len(answer.history)

    return get


def through_httpx(client: hctoken.Client, gate: Gate, url: str) -> Callable[[], Tuple[int, int]]:
    http = httpx.Client(
        transport=GatedTransport(gate), auth=hctoken.httpx.BearerAuth(client), headers=CLOSE
    )

    def get() -> Tuple[int, int]:
        answer = http.get(url, timeout=GATE_TIMEOUT_SECS)
        return answer.status_code, len(answer.history)

    return get


@pytest.mark.parametrize("adapter", [through_requests, through_httpx], ids=["requests", "httpx"])
def test_sixteen_threads_refused_with_one_token_cause_exactly_one_token_request(
    client: hctoken.Client, server: TokenServer, adapter: Callable[..., Callable[[], Any]]
) -> None:
    stale = client.token()
    server.revoke()
    server.reset()
    gate = Gate()
    get = adapter(client, gate, server.url("/api/resource"))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(lambda _: get(), range(THREADS), timeout=2 * GATE_TIMEOUT_SECS))

    fresh = client.token()
    assert fresh != stale
    assert answers == [(200, 1)] * THREADS  # 200 after one refused try
    assert server.token_requests() == 1
    # Each thread: the revoked token, then one retry, all with the same replacement.
    expected = [f"Bearer {stale}"] * THREADS + [f"Bearer {fresh}"] * THREADS
    assert sorted(gate.sent) == sorted(expected)
