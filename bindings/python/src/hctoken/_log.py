"""The library's events on the standard `logging` logger "hctoken" (hct_config_set_log_callback)."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from . import _native

logger = logging.getLogger("hctoken")

_LEVELS: Dict[int, int] = {
    _native.HCT_LOG_ERROR: logging.ERROR,
    _native.HCT_LOG_WARN: logging.WARNING,
    _native.HCT_LOG_INFO: logging.INFO,
    _native.HCT_LOG_DEBUG: logging.DEBUG,
}


def _on_event(_userdata: Optional[int], level: int, message: Optional[bytes]) -> None:
    # Called from C on the thread whose call caused the event. An exception here cannot reach the
    # caller through C (ctypes would print it to stderr and go on), so none may leave at all.
    try:
        python_level = _LEVELS.get(level, logging.DEBUG)  # an unknown level counts as debug
        if logger.isEnabledFor(python_level):
            text = message.decode("utf-8", "replace") if message else ""
            logger.log(python_level, "%s", text)
    except BaseException:  # noqa: BLE001 - nothing may unwind into the library
        pass


def make_callback() -> Any:
    """A new ctypes callback for hct_config_set_log_callback. The caller keeps it alive for as long
    as the native client made with it exists."""
    return _native.LOG_CALLBACK(_on_event)
