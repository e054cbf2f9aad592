"""The library's events on the standard logging logger "hctoken"."""

from __future__ import annotations

import gc
import logging
import threading

import pytest
from token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import hctoken

WRONG_SECRET = "not-the-secret-7a41c9"


def records_of(caplog: pytest.LogCaptureFixture) -> list:
    return [record for record in caplog.records if record.name == "hctoken"]


def test_a_refused_secret_gives_an_error_record_without_the_secret(
    server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hctoken")
    with hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret=WRONG_SECRET,
    ) as client:
        with pytest.raises(hctoken.OAuthError):
            client.token()
    records = records_of(caplog)
    assert any(record.levelno == logging.ERROR for record in records), records
    for record in records:
        assert WRONG_SECRET not in record.getMessage()


def test_a_fetch_gives_info_and_debug_records_without_secret_or_token(
    client: hctoken.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hctoken")
    token = client.get()
    client.get()  # from the cache: no event
    records = records_of(caplog)
    levels = {record.levelno for record in records}
    assert logging.INFO in levels and logging.DEBUG in levels, records
    for record in records:
        assert token.value not in record.getMessage()
        assert CLIENT_SECRET not in record.getMessage()
        assert record.thread == threading.get_ident()  # on the calling thread


def test_nothing_is_formatted_when_the_logger_is_off(
    client: hctoken.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL, logger="hctoken")
    client.token()
    assert records_of(caplog) == []


class Exploding(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        raise RuntimeError("a logging filter that fails")


def test_a_failing_logging_setup_never_reaches_the_library(
    client: hctoken.Client, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hctoken")
    logger = logging.getLogger("hctoken")
    exploding = Exploding()
    logger.addFilter(exploding)
    try:
        assert client.get().value
    finally:
        logger.removeFilter(exploding)
    assert "RuntimeError" not in capfd.readouterr().err


def test_the_callback_lives_as_long_as_the_client(
    server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hctoken")
    client = hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    gc.collect()  # nothing but the client keeps the ctypes callback alive
    client.invalidate()
    assert client.token()
    assert records_of(caplog)
    client.close()
