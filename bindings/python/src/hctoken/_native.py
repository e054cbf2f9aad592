"""Finds the hctoken shared library and declares the C ABI of include/hctoken.h for ctypes.

Search order: the HCTOKEN_LIBRARY environment variable (a path; when set, nothing else is tried),
the copy bundled inside this package by the wheel build, then the system loader.
The library is loaded on first use, so `import hctoken` works even where it is missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.machinery
import os
import sys
import threading
from ctypes import CFUNCTYPE, POINTER, c_char, c_char_p, c_int, c_int64, c_size_t, c_uint32, c_void_p
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

LIBRARY_ENV = "HCTOKEN_LIBRARY"

# The wheel build (setuptools-rust, pyproject.toml) installs the library as
# hctoken/libhctoken<one of importlib.machinery.EXTENSION_SUFFIXES>.
_BUNDLED_STEM = "libhctoken"


class HctConfig(ctypes.Structure):
    """The opaque `hct_config` of the C ABI; only pointers to it are used."""


class HctClient(ctypes.Structure):
    """The opaque `hct_client` of the C ABI; only pointers to it are used."""


class HctToken(ctypes.Structure):
    """The opaque `hct_token` of the C ABI; only pointers to it are used."""


# typedef void (*hct_log_callback)(void *userdata, int level, const char *message);
LOG_CALLBACK = CFUNCTYPE(None, c_void_p, c_int, c_char_p)

# The library version this binding was written for (HCTOKEN_VERSION_NUMBER of its header,
# MAJOR << 16 | MINOR << 8 | PATCH); an older library lacks functions or statuses it uses.
REQUIRED_VERSION_NUMBER = 0x000100

# hct_client_get flags.
HCT_GET_CACHED_ONLY = 1
HCT_GET_NO_EARLY_REFRESH = 2

# Log levels of hct_log_callback.
HCT_LOG_ERROR = 1
HCT_LOG_WARN = 2
HCT_LOG_INFO = 3
HCT_LOG_DEBUG = 4


# `hct_status` is a C enum, passed and returned as an int.
HCT_STATUS = c_int

# name: (restype, argtypes), exactly as in include/hctoken.h. `const char *` results are static or
# thread-local text owned by the library (c_char_p copies them into bytes at once); `char *` that
# the caller must free with hct_string_free stays a raw POINTER(c_char) so it can be freed.
PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    "hct_version": (c_char_p, []),
    "hct_status_name": (c_char_p, [HCT_STATUS]),
    "hct_last_error_message": (c_char_p, []),
    "hct_config_new": (POINTER(HctConfig), []),
    "hct_config_set": (HCT_STATUS, [POINTER(HctConfig), c_char_p, c_char_p]),
    "hct_config_free": (None, [POINTER(HctConfig)]),
    "hct_client_new": (HCT_STATUS, [POINTER(HctConfig), POINTER(POINTER(HctClient))]),
    "hct_client_get_token": (HCT_STATUS, [POINTER(HctClient), POINTER(POINTER(c_char))]),
    "hct_client_get_token_into": (
        HCT_STATUS,
        [POINTER(HctClient), POINTER(c_char), c_size_t, POINTER(c_size_t)],
    ),
    "hct_client_invalidate": (HCT_STATUS, [POINTER(HctClient)]),
    "hct_client_invalidate_token": (HCT_STATUS, [POINTER(HctClient), c_char_p]),
    "hct_client_free": (None, [POINTER(HctClient)]),
    "hct_string_free": (None, [POINTER(c_char)]),
    "hct_version_number": (c_uint32, []),
    "hct_client_get": (
        HCT_STATUS,
        [POINTER(HctClient), c_uint32, c_uint32, POINTER(POINTER(HctToken))],
    ),
    "hct_token_value": (c_char_p, [POINTER(HctToken)]),
    "hct_token_length": (c_size_t, [POINTER(HctToken)]),
    "hct_token_expires_in_ms": (c_int64, [POINTER(HctToken)]),
    "hct_token_scope": (c_char_p, [POINTER(HctToken)]),
    "hct_token_type": (c_char_p, [POINTER(HctToken)]),
    "hct_token_free": (None, [POINTER(HctToken)]),
    "hct_client_stats_json": (HCT_STATUS, [POINTER(HctClient), POINTER(POINTER(c_char))]),
    "hct_config_set_log_callback": (HCT_STATUS, [POINTER(HctConfig), LOG_CALLBACK, c_void_p]),
}

_lock = threading.Lock()
_loaded: Optional[Tuple[ctypes.CDLL, str]] = None


def _reset_after_fork() -> None:
    # A thread of the parent may have been inside _load() holding _lock when another forked; that
    # thread does not exist in the child, so the child would wait for the lock for ever.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_reset_after_fork)


def library() -> ctypes.CDLL:
    """The loaded library with every prototype declared; loads it on the first call."""
    return _load()[0]


def library_path() -> str:
    """Where the loaded library came from: a file path, or the name the system loader resolved."""
    return _load()[1]


def _load() -> Tuple[ctypes.CDLL, str]:
    global _loaded
    with _lock:
        if _loaded is None:
            lib, where = _open()
            _declare(lib, where)
            check_version(lib.hct_version_number(), where)
            _loaded = (lib, where)
        return _loaded


def _open() -> Tuple[ctypes.CDLL, str]:
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        try:
            return ctypes.CDLL(explicit), explicit
        except OSError as exc:
            raise OSError(f"hctoken: cannot load {LIBRARY_ENV}={explicit!r}: {exc}") from exc

    bundled = _bundled_library()
    if bundled is not None:
        return ctypes.CDLL(str(bundled)), str(bundled)

    tried = []
    for name in _system_names():
        try:
            return ctypes.CDLL(name), name
        except OSError as exc:
            tried.append(f"{name}: {exc}")
    raise OSError(
        "hctoken: the native library was not found. Install the hctoken package from a wheel "
        f"(it bundles the library), set {LIBRARY_ENV} to the path of libhctoken, or put it on "
        "the system library path. Tried: " + "; ".join(tried)
    )


def _bundled_library() -> Optional[Path]:
    package_dir = Path(__file__).resolve().parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = package_dir / f"{_BUNDLED_STEM}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _system_names() -> List[str]:
    names = []
    found = ctypes.util.find_library("hctoken")
    if found:
        names.append(found)
    if sys.platform == "win32":
        names.append("hctoken.dll")
    elif sys.platform == "darwin":
        names.append("libhctoken.dylib")
    else:
        names.append("libhctoken.so")
    return names


def _declare(lib: ctypes.CDLL, where: str) -> None:
    if not hasattr(lib, "hct_version_number"):
        raise OSError(
            f"hctoken: {where} has no hct_version_number, so it is older than the "
            f"{_version_text(REQUIRED_VERSION_NUMBER)} (0x{REQUIRED_VERSION_NUMBER:06x}) this "
            "binding needs. Install a newer libhctoken."
        )
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            function = getattr(lib, name)
        except AttributeError as exc:
            raise OSError(
                f"hctoken: {where} has no function {name}; is it an older libhctoken?"
            ) from exc
        function.restype = restype
        function.argtypes = argtypes


def _version_text(number: int) -> str:
    return f"{(number >> 16) & 0xFF}.{(number >> 8) & 0xFF}.{number & 0xFF}"


def check_version(number: int, where: str = "libhctoken") -> None:
    """Raises OSError when the library's hct_version_number() is older than this binding needs."""
    if number < REQUIRED_VERSION_NUMBER:
        raise OSError(
            f"hctoken: {where} is version {_version_text(number)} (0x{number:06x}); this "
            f"binding needs at least {_version_text(REQUIRED_VERSION_NUMBER)} "
            f"(0x{REQUIRED_VERSION_NUMBER:06x}). Install a newer libhctoken."
        )
