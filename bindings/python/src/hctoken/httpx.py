"""Bearer-token authentication for httpx (install the extra: `pip install hctoken[httpx]`).

    http = httpx.Client(auth=hctoken.httpx.BearerAuth(client))     # or httpx.AsyncClient
    http.get(url)

On a 401 answer the token is dropped and the request is sent once more with a fresh token.
"""

from __future__ import annotations

from typing import AsyncGenerator, Generator

import anyio.to_thread  # a dependency of httpx itself
import httpx

from ._client import Client
from ._renew import token_after_rejection

__all__ = ["BearerAuth"]


class BearerAuth(httpx.Auth):
    """Adds `Authorization: Bearer <token>` from an hctoken.Client; retries once after a 401.

    With httpx.AsyncClient the (possibly blocking) token calls run in a worker thread, so a token
    request never stalls the event loop.
    """

    # The retry sends the same request again, so its body must be read into memory first.
    requires_request_body = True

    def __init__(self, client: Client) -> None:
        self.client = client

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.client.token()
        response = yield _with_bearer(request, token)
        if response.status_code == 401:
            yield _with_bearer(request, token_after_rejection(self.client, token))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # httpx.Auth reads the body itself only on the path through auth_flow, replaced here.
        await request.aread()
        token = await anyio.to_thread.run_sync(self.client.token)
        response = yield _with_bearer(request, token)
        if response.status_code == 401:
            fresh = await anyio.to_thread.run_sync(token_after_rejection, self.client, token)
            yield _with_bearer(request, fresh)


def _with_bearer(request: httpx.Request, token: str) -> httpx.Request:
    request.headers["Authorization"] = f"Bearer {token}"
    return request
