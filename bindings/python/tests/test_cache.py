"""The library's cache as seen from Python: reuse, invalidate, and the client's lifetime."""

from __future__ import annotations

import pytest
from token_server import CLIENT_SECRET, TokenServer

import hctoken

CALLS = 50


def test_many_calls_reuse_one_token(client: hctoken.Client, server: TokenServer) -> None:
    tokens = {client.token() for _ in range(CALLS)}

    assert len(tokens) == 1
    assert server.token_requests() == 1


def test_invalidate_makes_the_next_call_fetch_a_new_token(
    client: hctoken.Client, server: TokenServer
) -> None:
    first = client.token()
    assert client.token() == first
    client.invalidate()
    second = client.token()

    assert second != first
    assert client.token() == second
    assert server.token_requests() == 2


def test_invalidate_before_any_token_is_harmless(
    client: hctoken.Client, server: TokenServer
) -> None:
    client.invalidate()
    assert client.token()
    assert server.token_requests() == 1


def test_a_closed_client_refuses_calls_and_closes_twice(client: hctoken.Client) -> None:
    client.token()
    client.close()
    client.close()

    assert client.closed
    with pytest.raises(ValueError, match="closed"):
        client.token()
    with pytest.raises(ValueError, match="closed"):
        client.invalidate()


def test_the_with_block_closes_the_client(server: TokenServer) -> None:
    with hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id="test-client",
        client_secret=CLIENT_SECRET,
    ) as client:
        client.token()
    assert client.closed


def test_repr_shows_no_secret_and_no_token(client: hctoken.Client) -> None:
    token = client.token()
    text = repr(client)

    assert "generic" in text
    assert CLIENT_SECRET not in text
    assert token not in text
