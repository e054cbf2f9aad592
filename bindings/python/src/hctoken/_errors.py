"""Exceptions: one class per `hct_status` of the C ABI, raised with the library's own message."""

from __future__ import annotations

import builtins
import re
from typing import Dict, NoReturn, Optional, Type

from . import _native


class Error(Exception):
    """Any failure reported by the hctoken library.

    `status` is the status name of the C ABI (e.g. "HCT_ERR_OAUTH"), `code` its number, and the
    message is the library's message (it never contains the client secret or a token).
    """

    status: str = "HCT_ERR_UNKNOWN"
    code: int = -1

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidArgumentError(Error, ValueError):
    """A value the library cannot take: not UTF-8 text, or (checked in Python) a NUL character."""

    status = "HCT_ERR_INVALID_ARGUMENT"
    code = 1


class ConfigError(Error):
    """An unknown configuration key, a bad value, or an incomplete or inconsistent configuration."""

    status = "HCT_ERR_CONFIG"
    code = 2


class NetworkError(Error):
    """The token endpoint could not be reached (DNS, refused or reset connection)."""

    status = "HCT_ERR_NETWORK"
    code = 3


class TimeoutError(Error, builtins.TimeoutError):
    """The token request took longer than timeout_ms or connect_timeout_ms."""

    status = "HCT_ERR_TIMEOUT"
    code = 4


class TlsError(Error):
    """The TLS handshake or certificate verification failed."""

    status = "HCT_ERR_TLS"
    code = 5


class HttpError(Error):
    """The token endpoint answered with an HTTP error that is not an OAuth error body."""

    status = "HCT_ERR_HTTP"
    code = 6


# The library words the first line of every OAuth error (RFC 6749 section 5.2) exactly like this:
#   token endpoint refused the request: <error>[: <error_description>]
# A second line, "hint: ...", may follow; it is the library's advice, not the server's answer.
_OAUTH_PREFIX = "token endpoint refused the request: "
_OAUTH_ERROR_CODE = re.compile(r"[^\s:]+")


class OAuthError(Error):
    """The token endpoint refused the request with an OAuth error (RFC 6749 section 5.2).

    `error` is the server's error code (e.g. "invalid_client"), `description` its
    error_description or None when it sent none.
    """

    status = "HCT_ERR_OAUTH"
    code = 7

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.error: Optional[str] = None
        self.description: Optional[str] = None
        first_line = message.split("\n", 1)[0]
        if first_line.startswith(_OAUTH_PREFIX):
            rest = first_line[len(_OAUTH_PREFIX) :]
            # RFC 6749 error codes have no spaces or colons; ": <description>" may follow.
            error = _OAUTH_ERROR_CODE.match(rest)
            if error:
                self.error = error.group()
                after = rest[error.end() :]
                if after.startswith(": "):
                    self.description = after[2:]


class ResponseError(Error):
    """A 2xx answer that is not a usable token response (no token, not JSON, too large)."""

    status = "HCT_ERR_RESPONSE"
    code = 8


class BufferTooSmallError(Error):
    """A caller's buffer was too small for the token (not raised by Client.token())."""

    status = "HCT_ERR_BUFFER_TOO_SMALL"
    code = 9


class InternalError(Error):
    """A bug inside the library (it caught a panic); please report it."""

    status = "HCT_ERR_INTERNAL"
    code = 10


class NoTokenError(Error):
    """Client.get(cached_only=True) found no valid token in the cache; nothing was fetched."""

    status = "HCT_ERR_NO_TOKEN"
    code = 11


ERROR_CLASSES: Dict[int, Type[Error]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        ConfigError,
        NetworkError,
        TimeoutError,
        TlsError,
        HttpError,
        OAuthError,
        ResponseError,
        BufferTooSmallError,
        InternalError,
        NoTokenError,
    )
}


def raise_for_status(code: int) -> None:
    """Raises the exception for a failed call. Call it right after that call, on the same thread:
    the library keeps the message per thread only until its next call."""
    if code == 0:
        return
    _raise_error(code)


def _raise_error(code: int) -> NoReturn:
    lib = _native.library()
    # Read the message first: any later hct_ call may replace it.
    raw_message = lib.hct_last_error_message()
    message = raw_message.decode("utf-8", "replace") if raw_message else ""
    error_class = ERROR_CLASSES.get(code)
    if error_class is not None:
        raise error_class(message or error_class.status)
    raw_name = lib.hct_status_name(code)
    error = Error(message or f"hctoken status {code}")
    error.status = raw_name.decode("ascii", "replace") if raw_name else f"HCT_STATUS_{code}"
    error.code = code
    raise error
