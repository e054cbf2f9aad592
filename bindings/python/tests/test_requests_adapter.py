"""hctoken.requests.BearerAuth against the emulator's protected resource."""

from __future__ import annotations

from typing import Any, Callable, List

import pytest
import requests
from stub_http import StubServer
from token_server import TokenServer

import hctoken
import hctoken.requests


class CountingAdapter(requests.adapters.HTTPAdapter):
    """Records the Authorization header of every request that goes out on the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: List[str] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.sent.append(request.headers.get("Authorization", ""))
        return super().send(request, **kwargs)


@pytest.fixture
def session(client: hctoken.Client) -> Any:
    with requests.Session() as session:
        session.mount("http://", CountingAdapter())
        session.auth = hctoken.requests.BearerAuth(client)
        yield session


def test_adds_the_bearer_token(session: Any, client: hctoken.Client, server: TokenServer) -> None:
    answer = session.get(server.url("/api/resource"), timeout=10)

    assert answer.status_code == 200
    assert answer.json() == {"ok": True}
    assert session.get_adapter("http://").sent == [f"Bearer {client.token()}"]
    assert server.token_requests() == 1


def test_a_stale_token_is_renewed_and_the_request_retried_once(
    session: Any, client: hctoken.Client, server: TokenServer
) -> None:
    assert session.get(server.url("/api/resource"), timeout=10).status_code == 200
    stale = client.token()
    server.revoke()

    answer = session.get(server.url("/api/resource"), timeout=10)

    fresh = client.token()
    assert answer.status_code == 200
    assert fresh != stale
    assert [r.status_code for r in answer.history] == [401]
    # First request, then the stale try and its one retry.
    assert session.get_adapter("http://").sent == [
        f"Bearer {stale}",
        f"Bearer {stale}",
        f"Bearer {fresh}",
    ]
    assert server.token_requests() == 2


def test_a_resource_that_always_refuses_gets_exactly_one_retry(
    session: Any, server: TokenServer, start_stub: Callable[..., StubServer]
) -> None:
    always_401 = start_stub(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    answer = session.get(always_401.url("/api/resource"), timeout=10)

    assert answer.status_code == 401
    assert len(answer.history) == 1
    assert len(session.get_adapter("http://").sent) == 2
    assert len(always_401.requests) == 2
    assert server.token_requests() == 2  # the first token, and one after invalidating it


def test_a_post_body_is_sent_again_on_the_retry(
    session: Any, server: TokenServer, start_stub: Callable[..., StubServer]
) -> None:
    always_401 = start_stub(401)
    session.post(always_401.url("/submit"), data=b"payload", timeout=10)

    assert [headers.get("Content-Length") for headers in always_401.requests] == ["7", "7"]
