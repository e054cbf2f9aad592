"""hctoken: OAuth 2.0 client-credentials access tokens for healthcare APIs.

A ctypes binding of the hctoken library: tokens are cached inside the library, shared safely by
every thread, and refreshed before they expire.

    import hctoken

    with hctoken.Client(profile="optum-v3", token_url=url, client_id=cid,
                        client_secret=secret) as client:
        headers = {"Authorization": f"Bearer {client.token()}"}

Adapters for HTTP clients live in `hctoken.requests` and `hctoken.httpx` (optional extras).
"""

from __future__ import annotations

from . import _native
from ._client import Client, OptionValue
from ._errors import (
    BufferTooSmallError,
    ConfigError,
    Error,
    HttpError,
    InternalError,
    InvalidArgumentError,
    NetworkError,
    NoTokenError,
    OAuthError,
    ResponseError,
    TimeoutError,
    TlsError,
)
from ._token import Token
from ._version import __version__

__all__ = [
    "BufferTooSmallError",
    "Client",
    "ConfigError",
    "Error",
    "HttpError",
    "InternalError",
    "InvalidArgumentError",
    "NetworkError",
    "NoTokenError",
    "OAuthError",
    "OptionValue",
    "ResponseError",
    "TimeoutError",
    "TlsError",
    "Token",
    "__version__",
    "library_path",
    "native_version",
]


def native_version() -> str:
    """The version of the loaded native library (hct_version)."""
    raw = _native.library().hct_version()
    return raw.decode("utf-8") if raw else ""


def library_path() -> str:
    """Where the native library was loaded from (see the README for the search order)."""
    return _native.library_path()
