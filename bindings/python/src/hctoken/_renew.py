"""What the HTTP adapters do when a server refuses a token with 401."""

from __future__ import annotations

from ._client import Client


def token_after_rejection(client: Client, rejected: str) -> str:
    """A token to retry with, after a server answered 401 to `rejected`.

    Drops the cached token only if it is still the rejected one: when several requests get 401 at
    once, the first drops it and the others reuse the replacement instead of dropping that too.
    """
    current = client.token()
    if current == rejected:
        client.invalidate()
        current = client.token()
    return current
