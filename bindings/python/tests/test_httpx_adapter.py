"""hctoken.httpx.BearerAuth against the emulator's protected resource, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, List

import httpx
from stub_http import StubServer
from token_server import TokenServer

import hctoken
import hctoken.httpx


class CountingTransport(httpx.HTTPTransport):
    """Records the Authorization header of every request that goes out on the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: List[str] = []

    def handle_request(self, request: Any) -> Any:
        self.sent.append(request.headers.get("Authorization", ""))
        return super().handle_request(request)


class CountingAsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: List[str] = []

    async def handle_async_request(self, request: Any) -> Any:
        self.sent.append(request.headers.get("Authorization", ""))
        return await super().handle_async_request(request)


def test_adds_the_bearer_token(client: hctoken.Client, server: TokenServer) -> None:
    transport = CountingTransport()
    with httpx.Client(
        auth=hctoken.httpx.BearerAuth(client), transport=transport, timeout=10
    ) as http:
        answer = http.get(server.url("/api/resource"))

    assert answer.status_code == 200
    assert answer.json() == {"ok": True}
    assert transport.sent == [f"Bearer {client.token()}"]
    assert server.token_requests() == 1


def test_a_stale_token_is_renewed_and_the_request_retried_once(
    client: hctoken.Client, server: TokenServer
) -> None:
    transport = CountingTransport()
    with httpx.Client(
        auth=hctoken.httpx.BearerAuth(client), transport=transport, timeout=10
    ) as http:
        assert http.get(server.url("/api/resource")).status_code == 200
        stale = client.token()
        server.revoke()
        answer = http.get(server.url("/api/resource"))

    fresh = client.token()
    assert answer.status_code == 200
    assert fresh != stale
    assert [r.status_code for r in answer.history] == [401]
    assert transport.sent == [f"Bearer {stale}", f"Bearer {stale}", f"Bearer {fresh}"]
    assert server.token_requests() == 2


def test_a_resource_that_always_refuses_gets_exactly_one_retry(
    client: hctoken.Client, server: TokenServer, start_stub: Callable[..., StubServer]
) -> None:
    always_401 = start_stub(401)
    transport = CountingTransport()
    with httpx.Client(
        auth=hctoken.httpx.BearerAuth(client), transport=transport, timeout=10
    ) as http:
        answer = http.post(always_401.url("/submit"), content=b"payload")

    assert answer.status_code == 401
    assert len(transport.sent) == 2
    assert [headers.get("Content-Length") for headers in always_401.requests] == ["7", "7"]
    assert server.token_requests() == 2


def test_async_client_renews_a_stale_token_once(
    client: hctoken.Client, server: TokenServer
) -> None:
    transport = CountingAsyncTransport()

    async def scenario() -> Any:
        auth = hctoken.httpx.BearerAuth(client)
        async with httpx.AsyncClient(auth=auth, transport=transport, timeout=10) as http:
            assert (await http.get(server.url("/api/resource"))).status_code == 200
            server.revoke()
            return await http.get(server.url("/api/resource"))

    answer = asyncio.run(scenario())

    assert answer.status_code == 200
    assert len(answer.history) == 1
    assert len(transport.sent) == 3
    assert server.token_requests() == 2
