"""Client.get (hct_client_get and hct_token), Client.stats (hct_client_stats_json) against
`hctoken serve`."""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import pytest
from token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import hctoken

LIFETIME = 3600


def generic_client(server: TokenServer, **options: object) -> hctoken.Client:
    return hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        **options,  # type: ignore[arg-type]
    )


def test_get_returns_the_token_and_what_the_server_said(
    start_token_server: Callable[..., TokenServer],
) -> None:
    server = start_token_server("--lifetime", str(LIFETIME))
    with generic_client(server) as client:
        token = client.get()
        assert isinstance(token, hctoken.Token)
        assert token.value and token.value == client.token()
        assert isinstance(token.expires_in, float)
        assert LIFETIME - 120 <= token.expires_in <= LIFETIME
        assert token.token_type.lower() == "bearer"
        assert isinstance(token.scope, str)
        assert server.token_requests() == 1


def test_a_token_is_frozen_and_its_repr_hides_the_value(client: hctoken.Client) -> None:
    token = client.get()
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.value = "other"  # type: ignore[misc]
    assert token.value not in repr(token)
    assert "expires_in" in repr(token)


def test_cached_only_never_fetches(client: hctoken.Client, server: TokenServer) -> None:
    with pytest.raises(hctoken.NoTokenError) as raised:
        client.get(cached_only=True)
    assert raised.value.code == 11 and raised.value.status == "HCT_ERR_NO_TOKEN"
    assert server.token_requests() == 0

    fetched = client.get()
    cached = client.get(cached_only=True)
    assert cached.value == fetched.value
    assert server.token_requests() == 1

    client.invalidate()
    with pytest.raises(hctoken.NoTokenError):
        client.get(cached_only=True)
    assert server.token_requests() == 1


def test_no_early_refresh_serves_the_cached_token(
    client: hctoken.Client, server: TokenServer
) -> None:
    first = client.get(no_early_refresh=True)  # nothing cached: fetches as usual
    again = client.get(no_early_refresh=True, cached_only=True)
    assert again.value == first.value
    assert server.token_requests() == 1


def test_timeout_ms_bounds_one_call(start_token_server: Callable[..., TokenServer]) -> None:
    server = start_token_server("--latency-ms", "5000")
    timeout_ms = 1000  # the 10 % margin (100 ms) covers a late wake-up on a loaded machine
    with generic_client(server, timeout_ms=30000) as client:
        started = time.monotonic()
        with pytest.raises(hctoken.TimeoutError):
            client.get(timeout_ms=timeout_ms)
        elapsed = time.monotonic() - started
    assert elapsed <= timeout_ms / 1000 * 1.1, f"{elapsed:.3f} s for a {timeout_ms} ms bound"


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"timeout_ms": 0}, ValueError),
        ({"timeout_ms": -1}, ValueError),
        ({"timeout_ms": 2**32}, ValueError),
        ({"timeout_ms": 1.5}, TypeError),
        ({"timeout_ms": True}, TypeError),
        ({"cached_only": 1}, TypeError),
        ({"no_early_refresh": "yes"}, TypeError),
    ],
)
def test_bad_arguments_are_refused_before_the_library(
    client: hctoken.Client, server: TokenServer, kwargs: dict, error: type
) -> None:
    with pytest.raises(error):
        client.get(**kwargs)
    assert server.token_requests() == 0


def test_arguments_are_keyword_only(client: hctoken.Client) -> None:
    with pytest.raises(TypeError):
        client.get(True)  # type: ignore[misc]


def test_stats_after_a_known_sequence(client: hctoken.Client, server: TokenServer) -> None:
    before = client.stats()
    assert before["token_requests"] == 0 and before["fetches"] == 0
    assert before["last_fetch_latency_ms"] is None
    assert before["token_seconds_left"] is None
    assert before["failures"] == {} and before["last_error_status"] is None

    client.get()
    client.get()
    client.token()
    after = client.stats()
    assert after["token_requests"] == 1 and after["fetches"] == 1
    assert after["last_fetch_latency_ms"] >= 0
    assert after["token_seconds_left"] > 0
    assert after["failures"] == {} and after["last_error_status"] is None
    assert server.token_requests() == 1


def test_stats_count_a_failure_by_status(server: TokenServer) -> None:
    with hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret="not-the-secret-5d2e8b",
    ) as client:
        with pytest.raises(hctoken.OAuthError):
            client.get()
        stats = client.stats()
    assert stats["failures"] == {"HCT_ERR_OAUTH": 1}
    assert stats["last_error_status"] == "HCT_ERR_OAUTH"


def test_get_and_stats_on_a_closed_client_are_refused(client: hctoken.Client) -> None:
    client.close()
    with pytest.raises(ValueError, match="closed"):
        client.get()
    with pytest.raises(ValueError, match="closed"):
        client.stats()
