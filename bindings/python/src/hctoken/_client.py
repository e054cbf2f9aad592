"""`hctoken.Client`: one configured native hct_client, shared safely between threads."""

from __future__ import annotations

import ctypes
import json
import os
import threading
import weakref
from contextlib import contextmanager
from ctypes import POINTER, c_char
from types import TracebackType
from typing import Any, Dict, Iterator, List, Optional, Tuple, Type, Union

from . import _log, _native
from ._errors import InvalidArgumentError, raise_for_status
from ._token import Token

# hct_client_get takes a uint32_t timeout.
_MAX_TIMEOUT_MS = 0xFFFFFFFF

#: What a configuration value may be: text, a whole number (e.g. timeout_ms=2000), or a path.
OptionValue = Union[str, int, "os.PathLike[str]"]


class Client:
    """Gets OAuth 2.0 client-credentials access tokens and keeps them cached in the library.

    Every keyword is a configuration key of the C ABI (profile, token_url, environment, domain,
    client_id, client_secret, scope, audience, resource, auth_method, refresh_skew_secs,
    default_lifetime_secs, timeout_ms, connect_timeout_ms, ca_file, proxy, user_agent); a value of
    None leaves the key unset. The library refuses an unknown key, a bad value or an incomplete
    configuration at once with ConfigError.

    One client may be used from any number of threads at once; the library answers from its cache
    while the token is fresh and sends a single token request when it is not. `close()` (or the
    `with` block) frees the native client after the calls in flight have returned.

    A client survives fork (multiprocessing's fork start method, gunicorn --preload, celery
    prefork): in the child, calls that were in flight in the parent's other threads do not exist,
    so the child's `close()` does not wait for them, and the child's calls go on normally.

    The library's events (fetches, retries, a failed early refresh, ...) go to the standard
    `logging` logger "hctoken"; they never contain the client secret or a token.
    """

    def __init__(
        self,
        profile: Optional[str] = None,
        *,
        token_url: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        **options: Optional[OptionValue],
    ) -> None:
        settings = {
            "profile": profile,
            "token_url": token_url,
            "client_id": client_id,
            "client_secret": client_secret,
            **options,
        }
        self._profile = profile
        # Encode (and so type-check) every value before anything is handed to the library.
        encoded = [
            (key, _encode(key, value)) for key, value in settings.items() if value is not None
        ]
        self._lib = _native.library()
        # The native client calls this for its events; it must live as long as the client, so the
        # finalizer (which frees the client) holds it too.
        log_callback = _log.make_callback()
        handle = _new_client(self._lib, encoded, log_callback)
        # Frees the native client when this object is garbage-collected without close(). Not at
        # interpreter exit: a daemon thread may still be inside a call then, and the process's
        # memory goes away anyway.
        self._finalizer = weakref.finalize(self, _free_client, self._lib, handle, log_callback)
        self._finalizer.atexit = False
        self._handle = handle
        self._calls = threading.Condition()
        self._calls_in_flight = 0
        self._closed = False
        with _live_clients_lock:
            _live_clients.add(self)

    def token(self) -> str:
        """The current access token (bare, without "Bearer "); fetched only when none is fresh."""
        out = POINTER(c_char)()
        with self._borrow() as handle:
            raise_for_status(self._lib.hct_client_get_token(handle, ctypes.byref(out)))
        try:
            return ctypes.string_at(out).decode("utf-8")
        finally:
            self._lib.hct_string_free(out)

    def get(
        self,
        *,
        cached_only: bool = False,
        no_early_refresh: bool = False,
        timeout_ms: Optional[int] = None,
    ) -> Token:
        """A valid token and what the server said about it (hct_client_get).

        cached_only: never fetch; NoTokenError when no valid token is cached.
        no_early_refresh: inside the refresh window, return the still-valid token at once and
        leave the refresh to another caller.
        timeout_ms: a bound on this call, waiting for another thread's fetch included
        (TimeoutError after it); None means the client's timeout_ms. A positive whole number.
        """
        flags = 0
        if _flag("cached_only", cached_only):
            flags |= _native.HCT_GET_CACHED_ONLY
        if _flag("no_early_refresh", no_early_refresh):
            flags |= _native.HCT_GET_NO_EARLY_REFRESH
        if timeout_ms is None:
            native_timeout = 0
        else:
            if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
                raise TypeError(
                    f"hctoken: timeout_ms must be an int or None, not {type(timeout_ms).__name__}"
                )
            if not 1 <= timeout_ms <= _MAX_TIMEOUT_MS:
                # 0 would mean "the client's timeout" to the library: not what a caller asking
                # for 0 ms means.
                raise ValueError(f"hctoken: timeout_ms must be 1 ... {_MAX_TIMEOUT_MS}")
            native_timeout = timeout_ms
        out = POINTER(_native.HctToken)()
        with self._borrow() as handle:
            raise_for_status(
                self._lib.hct_client_get(handle, flags, native_timeout, ctypes.byref(out))
            )
        try:
            lib = self._lib
            # c_char_p copies the NUL-terminated value (a token holds no NUL) into bytes.
            value: bytes = lib.hct_token_value(out) or b""
            return Token(
                value=value.decode("utf-8"),
                expires_in=lib.hct_token_expires_in_ms(out) / 1000.0,
                scope=(lib.hct_token_scope(out) or b"").decode("utf-8", "replace"),
                token_type=(lib.hct_token_type(out) or b"").decode("utf-8", "replace"),
            )
        finally:
            self._lib.hct_token_free(out)

    def stats(self) -> Dict[str, Any]:
        """The client's counters since it was made (hct_client_stats_json; see include/hctoken.h).

        Keys include token_requests, fetches, failures (by status name), early_refreshes,
        early_refresh_failures, stampede_joins, negative_cache_answers, last_fetch_latency_ms,
        token_seconds_left and last_error_status; a minor version may add keys.
        """
        out = POINTER(c_char)()
        with self._borrow() as handle:
            raise_for_status(self._lib.hct_client_stats_json(handle, ctypes.byref(out)))
        try:
            result: Dict[str, Any] = json.loads(ctypes.string_at(out).decode("utf-8"))
            return result
        finally:
            self._lib.hct_string_free(out)

    def invalidate(self) -> None:
        """Drops the cached token, e.g. after an API answered 401; the next token() fetches anew."""
        with self._borrow() as handle:
            raise_for_status(self._lib.hct_client_invalidate(handle))

    def invalidate_token(self, token: str) -> None:
        """Drops the cached token only if it is still `token`, the one an API just answered 401 to.

        Use this rather than invalidate() in a 401 handler: when many threads see a 401 for the
        same token at once, the library compares and swaps atomically, so exactly one of them
        drops it and one new token request follows; the others find the replacement. Nothing
        happens when the cache holds another token (or none).
        """
        if not isinstance(token, str):
            raise TypeError(f"hctoken: token must be a str, not {type(token).__name__}")
        if "\0" in token:
            # The C string would end there and could match a different, shorter cached token.
            raise InvalidArgumentError("hctoken: token contains a NUL character")
        refused = token.encode("utf-8", "surrogatepass")
        with self._borrow() as handle:
            raise_for_status(self._lib.hct_client_invalidate_token(handle, refused))

    def close(self) -> None:
        """Frees the native client once the calls in flight have returned. Safe to call twice."""
        with self._calls:
            self._closed = True
            self._calls.wait_for(lambda: self._calls_in_flight == 0)
        self._finalizer()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        # Never the secret, never a token.
        state = "closed" if self._closed else "open"
        return f"<hctoken.Client profile={self._profile!r} {state}>"

    def _reset_after_fork(self) -> None:
        """In a forked child: a fresh close guard, and no calls in flight.

        The parent's other threads do not exist in the child. Any of them may have held the guard's
        lock at the fork (the child would block on it for ever) or been inside a call (close()
        would wait for it for ever). Runs in the child before it has any other thread.
        """
        self._calls = threading.Condition()
        self._calls_in_flight = 0

    @contextmanager
    def _borrow(self) -> Iterator[Any]:
        """Yields the native handle and keeps close() from freeing it until the call returns."""
        with self._calls:
            if self._closed:
                raise ValueError("hctoken.Client is closed")
            self._calls_in_flight += 1
        try:
            yield self._handle
        finally:
            with self._calls:
                self._calls_in_flight -= 1
                if self._calls_in_flight == 0:
                    self._calls.notify_all()


# Every client not yet garbage-collected, so that a forked child can reset what fork copied in a
# state only the parent's threads could undo (see Client._reset_after_fork). Touched only when a
# client is made and in the child right after a fork; never on the token() path.
_live_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()
_live_clients_lock = threading.Lock()


def _reset_after_fork() -> None:
    global _live_clients_lock
    # Another thread of the parent may have held this lock at the fork.
    _live_clients_lock = threading.Lock()
    for client in list(_live_clients):
        client._reset_after_fork()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_reset_after_fork)


def _encode(key: str, value: OptionValue) -> bytes:
    if isinstance(value, bool) or not isinstance(value, (str, int, os.PathLike)):
        raise TypeError(
            f"hctoken: {key} must be a str (or an int, or a path), not {type(value).__name__}"
        )
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
        if not isinstance(value, str):
            raise TypeError(f"hctoken: {key} must be a str path, not bytes")
    text = str(value)
    if "\0" in text:
        # A C string would end there and silently cut the value short.
        raise InvalidArgumentError(f"hctoken: {key} contains a NUL character")
    # "surrogatepass" hands text that is not valid Unicode (lone surrogates) to the library as
    # the invalid UTF-8 it is, so the library's own check refuses it with HCT_ERR_INVALID_ARGUMENT.
    return text.encode("utf-8", "surrogatepass")


def _flag(name: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"hctoken: {name} must be a bool, not {type(value).__name__}")
    return value


def _free_client(lib: ctypes.CDLL, handle: Any, log_callback: Any) -> None:
    # log_callback is an argument only so that it lives until the native client is freed.
    lib.hct_client_free(handle)
    del log_callback


def _new_client(lib: ctypes.CDLL, settings: List[Tuple[str, bytes]], log_callback: Any) -> Any:
    config = lib.hct_config_new()
    if not config:
        raise MemoryError("hctoken: hct_config_new returned NULL")
    try:
        for key, value in settings:
            raise_for_status(lib.hct_config_set(config, key.encode("utf-8"), value))
        raise_for_status(lib.hct_config_set_log_callback(config, log_callback, None))
        handle = POINTER(_native.HctClient)()
        raise_for_status(lib.hct_client_new(config, ctypes.byref(handle)))
        return handle
    finally:
        lib.hct_config_free(config)
