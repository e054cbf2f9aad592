"""Each failure becomes its own exception class, with the status name and the library's message."""

from __future__ import annotations

import builtins
import socket
from typing import Any, Callable

import pytest
from stub_http import StubServer
from token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import hctoken
from hctoken import _errors, _native

WRONG_SECRET = "not-the-secret-3f9c1a"


def generic_client(token_url: str, **options: Any) -> hctoken.Client:
    settings = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **options}
    return hctoken.Client(profile="generic", token_url=token_url, **settings)


def refused_port() -> int:
    """A loopback port nothing listens on (bound once by the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unknown_key_is_a_config_error_that_names_it(server: TokenServer) -> None:
    with pytest.raises(hctoken.ConfigError) as caught:
        generic_client(server.token_url("generic"), no_such_key="x")

    assert caught.value.status == "HCT_ERR_CONFIG"
    assert caught.value.code == 2
    assert "no_such_key" in str(caught.value)


def test_bad_value_is_a_config_error(server: TokenServer) -> None:
    with pytest.raises(hctoken.ConfigError, match="auth_method"):
        generic_client(server.token_url("generic"), auth_method="carrier-pigeon")


def test_missing_client_id_is_a_config_error(server: TokenServer) -> None:
    with pytest.raises(hctoken.ConfigError, match="client_id") as caught:
        hctoken.Client(
            profile="generic", token_url=server.token_url("generic"), client_secret=CLIENT_SECRET
        )
    assert caught.value.status == "HCT_ERR_CONFIG"


def test_plain_http_beyond_loopback_is_a_config_error() -> None:
    # Refused while building the client: nothing is sent anywhere.
    with pytest.raises(hctoken.ConfigError, match="token_url"):
        generic_client("http://auth.example.invalid/oauth2/token")


@pytest.mark.parametrize("profile", ["generic", "change-healthcare-v2", "optum-v3", "nikohealth"])
def test_wrong_secret_is_an_oauth_error_with_its_fields(server: TokenServer, profile: str) -> None:
    with (
        hctoken.Client(
            profile=profile,
            token_url=server.token_url(profile),
            client_id=CLIENT_ID,
            client_secret=WRONG_SECRET,
        ) as client,
        pytest.raises(hctoken.OAuthError) as caught,
    ):
        client.token()

    error = caught.value
    assert error.status == "HCT_ERR_OAUTH"
    assert error.code == 7
    assert error.error == "invalid_client"
    assert error.description  # the emulator sends an error_description
    assert str(error).startswith("token endpoint refused the request: invalid_client")
    assert WRONG_SECRET not in str(error) and WRONG_SECRET not in repr(error)


def test_oauth_error_without_description_has_none(start_stub: Callable[..., StubServer]) -> None:
    stub = start_stub(
        400, b'{"error":"unsupported_grant_type"}', {"Content-Type": "application/json"}
    )
    with generic_client(stub.url("/token")) as client, pytest.raises(hctoken.OAuthError) as caught:
        client.token()

    assert caught.value.error == "unsupported_grant_type"
    assert caught.value.description is None


def test_oauth_error_with_description(start_stub: Callable[..., StubServer]) -> None:
    body = b'{"error":"invalid_scope","error_description":"scope: admin is not granted"}'
    stub = start_stub(400, body, {"Content-Type": "application/json"})
    with generic_client(stub.url("/token")) as client, pytest.raises(hctoken.OAuthError) as caught:
        client.token()

    assert caught.value.error == "invalid_scope"
    assert caught.value.description == "scope: admin is not granted"


def test_oauth_description_is_exactly_the_servers_after_a_json_request(
    start_stub: Callable[..., StubServer],
) -> None:
    body = b'{"error":"invalid_client","error_description":"wrong secret"}'
    stub = start_stub(401, body, {"Content-Type": "application/json"})
    with generic_client(stub.url("/token"), auth_method="json") as client:
        with pytest.raises(hctoken.OAuthError) as caught:
            client.token()

    assert caught.value.error == "invalid_client"
    assert caught.value.description == "wrong secret"


def test_refused_port_is_a_network_error() -> None:
    with generic_client(f"http://127.0.0.1:{refused_port()}/oauth2/token") as client:
        with pytest.raises(hctoken.NetworkError) as caught:
            client.token()
    assert caught.value.status == "HCT_ERR_NETWORK"
    assert caught.value.code == 3


def test_slow_server_is_a_timeout_error_and_a_builtin_timeout(
    start_token_server: Callable[..., TokenServer],
) -> None:
    slow = start_token_server("--latency-ms", "3000")
    with generic_client(slow.token_url("generic"), timeout_ms=300) as client:
        with pytest.raises(hctoken.TimeoutError) as caught:
            client.token()
    assert isinstance(caught.value, builtins.TimeoutError)
    assert caught.value.status == "HCT_ERR_TIMEOUT"
    assert caught.value.code == 4


def test_https_to_a_plain_http_server_is_a_tls_error(start_stub: Callable[..., StubServer]) -> None:
    # The stub answers the TLS ClientHello with plain-text HTTP, which no TLS client accepts.
    stub = start_stub(200, b"{}")
    https_url = stub.url("/token").replace("http://", "https://")
    with (
        generic_client(https_url, timeout_ms=5000) as client,
        pytest.raises(hctoken.TlsError) as caught,
    ):
        client.token()
    assert caught.value.status == "HCT_ERR_TLS"
    assert caught.value.code == 5


def test_server_failure_without_oauth_body_is_an_http_error(
    start_stub: Callable[..., StubServer],
) -> None:
    stub = start_stub(503, b"down for maintenance", {"Content-Type": "text/plain"})
    with generic_client(stub.url("/token")) as client, pytest.raises(hctoken.HttpError) as caught:
        client.token()
    assert caught.value.status == "HCT_ERR_HTTP"
    assert caught.value.code == 6
    assert "503" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [b'{"token_type":"bearer","expires_in":3600}', b"<html>not json</html>", b""],
    ids=["no-token", "not-json", "empty"],
)
def test_success_without_a_token_is_a_response_error(
    start_stub: Callable[..., StubServer], body: bytes
) -> None:
    stub = start_stub(200, body, {"Content-Type": "application/json"})
    with (
        generic_client(stub.url("/token")) as client,
        pytest.raises(hctoken.ResponseError) as caught,
    ):
        client.token()
    assert caught.value.status == "HCT_ERR_RESPONSE"
    assert caught.value.code == 8


def test_text_that_is_not_unicode_is_refused_by_the_library(server: TokenServer) -> None:
    # A lone surrogate goes to the library as invalid UTF-8, and the library refuses it.
    with pytest.raises(hctoken.InvalidArgumentError) as caught:
        generic_client(server.token_url("generic"), user_agent="agent-\udc80")
    assert caught.value.status == "HCT_ERR_INVALID_ARGUMENT"
    assert caught.value.code == 1
    assert isinstance(caught.value, ValueError)


def test_nul_character_is_an_invalid_argument(server: TokenServer) -> None:
    with pytest.raises(hctoken.InvalidArgumentError, match="client_secret"):
        generic_client(server.token_url("generic"), client_secret="secret\0tail")


@pytest.mark.parametrize(
    "value", [b"bytes", 1.5, True, ["a"], object()], ids=lambda value: type(value).__name__
)
def test_wrong_type_is_a_type_error_naming_the_key(server: TokenServer, value: object) -> None:
    with pytest.raises(TypeError, match="scope"):
        generic_client(server.token_url("generic"), scope=value)


def test_every_status_maps_to_its_class_and_the_library_name() -> None:
    lib = _native.library()
    for code, error_class in _errors.ERROR_CLASSES.items():
        assert issubclass(error_class, hctoken.Error)
        assert lib.hct_status_name(code).decode() == error_class.status
    assert set(_errors.ERROR_CLASSES) == set(range(1, 12))
    assert lib.hct_status_name(0).decode() == "HCT_OK"
