"""Bearer-token authentication for requests (install the extra: `pip install hctoken[requests]`).

    session = requests.Session()
    session.auth = hctoken.requests.BearerAuth(client)
    session.get(url)

On a 401 answer the token is dropped and the request is sent once more with a fresh token.
"""

from __future__ import annotations

from typing import Any, Optional

import requests
from requests.auth import AuthBase
from requests.cookies import extract_cookies_to_jar

from ._client import Client
from ._renew import token_after_rejection

__all__ = ["BearerAuth"]

_BEARER = "Bearer "


class BearerAuth(AuthBase):
    """Adds `Authorization: Bearer <token>` from an hctoken.Client; retries once after a 401.

    Holds no per-request state, so one instance can serve a Session shared between threads.
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = _BEARER + self.client.token()
        # Remember where a file body starts, so the retry can send it again.
        request._hctoken_body_position = _tell(request.body)  # type: ignore[attr-defined]
        request.register_hook("response", self._retry_once_on_401)  # type: ignore[no-untyped-call]
        return request

    def _retry_once_on_401(
        self, response: requests.Response, **send_options: Any
    ) -> requests.Response:
        # requests runs this hook once, for the response to the first send; the retry below goes
        # straight to the transport adapter, which runs no hooks, so there is never a second retry.
        request = response.request
        if response.status_code != 401 or not _can_resend(request):
            return response
        rejected = request.headers.get("Authorization", "")[len(_BEARER) :]
        token = token_after_rejection(self.client, rejected)

        # Release the connection of the 401 answer before sending again.
        response.content  # noqa: B018  (reads the body)
        response.close()
        retry = request.copy()
        extract_cookies_to_jar(retry._cookies, request, response.raw)  # type: ignore[attr-defined,no-untyped-call]
        retry.prepare_cookies(retry._cookies)  # type: ignore[attr-defined]
        retry.headers["Authorization"] = _BEARER + token
        answer = response.connection.send(retry, **send_options)
        answer.history.append(response)
        answer.request = retry
        return answer


def _tell(body: Any) -> Optional[int]:
    tell = getattr(body, "tell", None)
    if tell is None:
        return None
    try:
        return int(tell())
    except OSError:
        return None


def _can_resend(request: requests.PreparedRequest) -> bool:
    """Bytes or no body can be sent again; a file only if it can be rewound; a generator never."""
    body = request.body
    if body is None or isinstance(body, (bytes, str)):
        return True
    position = getattr(request, "_hctoken_body_position", None)
    if position is None or not hasattr(body, "seek"):
        return False
    body.seek(position)
    return True
