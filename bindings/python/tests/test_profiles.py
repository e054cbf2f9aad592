"""Every vendor profile gets a token from `hctoken serve` at that profile's own path."""

from __future__ import annotations

import base64
import json
from typing import Any, Dict

import pytest
from protected_resource import resource_status
from token_server import CLIENT_ID, CLIENT_SECRET, TOKEN_PATHS, TokenServer

import hctoken

PROFILE_CASES = [
    pytest.param("change-healthcare-v2", {}, id="change-healthcare-v2"),
    pytest.param("change-healthcare-v1", {}, id="change-healthcare-v1"),
    pytest.param("optum-v3", {}, id="optum-v3"),
    pytest.param("nikohealth", {}, id="nikohealth"),
    pytest.param("generic", {}, id="generic-default-auth"),
    pytest.param("generic", {"auth_method": "basic"}, id="generic-basic"),
    pytest.param("generic", {"auth_method": "post"}, id="generic-post"),
    pytest.param("generic", {"auth_method": "json"}, id="generic-json"),
    pytest.param("generic", {"auth_method": "post", "scope": "read write"}, id="generic-scope"),
]


def jwt_claims(token: str) -> Dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize("profile, options", PROFILE_CASES)
def test_profile_gets_a_token_the_server_accepts(
    server: TokenServer, profile: str, options: Dict[str, str]
) -> None:
    with hctoken.Client(
        profile=profile,
        token_url=server.token_url(profile),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        **options,
    ) as client:
        token = client.token()

    assert not token.lower().startswith("bearer"), "the token is handed out bare"
    claims = jwt_claims(token)
    assert {"iss", "sub", "iat", "exp", "jti"} <= claims.keys()
    assert server.token_requests(TOKEN_PATHS[profile]) == 1
    assert server.token_requests() == 1
    assert resource_status(server.base_url, token) == 200


def test_numeric_options_may_be_ints(server: TokenServer) -> None:
    with hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        timeout_ms=5000,
        connect_timeout_ms=2000,
        refresh_skew_secs=30,
        user_agent="hctoken-python-tests",
    ) as client:
        assert client.token()
