"""What the HTTP adapters do when a server refuses a token with 401."""

from __future__ import annotations

from ._client import Client


def token_after_rejection(client: Client, rejected: str) -> str:
    """A token to retry with, after a server answered 401 to `rejected`.

    Drops the cached token only if it is still the rejected one, in one atomic step inside the
    library (Client.invalidate_token): when many requests get 401 for the same token at once,
    exactly one drops it and one token request follows; the others reuse the replacement.
    """
    client.invalidate_token(rejected)
    return client.token()
