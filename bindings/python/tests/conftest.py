"""Fixtures: `hctoken serve` and stub servers on free loopback ports, started and stopped per test.

HCTOKEN_BIN names the hctoken binary (default: target/debug/hctoken of this repository, which
run-tests.sh builds). The tests import the installed hctoken package, not the source tree.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator, List

import pytest
from repo_paths import REPO_ROOT
from stub_http import StubServer
from token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import hctoken


@pytest.fixture(scope="session")
def hctoken_binary() -> str:
    binary = os.environ.get("HCTOKEN_BIN") or str(REPO_ROOT / "target" / "debug" / "hctoken")
    if not os.access(binary, os.X_OK):
        pytest.fail(
            f"no hctoken binary at {binary}: run `cargo build` in {REPO_ROOT} or set HCTOKEN_BIN"
        )
    return binary


@pytest.fixture
def start_token_server(hctoken_binary: str) -> Iterator[Callable[..., TokenServer]]:
    """Starts `hctoken serve` with extra command-line arguments; stops it after the test."""
    servers: List[TokenServer] = []

    def start(*extra_args: str) -> TokenServer:
        server = TokenServer(hctoken_binary, extra_args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_token_server: Callable[..., TokenServer]) -> TokenServer:
    return start_token_server()


@pytest.fixture
def start_stub() -> Iterator[Callable[..., StubServer]]:
    """Starts a StubServer(status, body, headers); stops it after the test."""
    stubs: List[StubServer] = []

    def start(*args: Any, **kwargs: Any) -> StubServer:
        stub = StubServer(*args, **kwargs)
        stubs.append(stub)
        return stub

    yield start
    for stub in stubs:
        stub.stop()


@pytest.fixture
def client(server: TokenServer) -> Iterator[hctoken.Client]:
    """A generic-profile client of `server`, closed after the test."""
    with hctoken.Client(
        profile="generic",
        token_url=server.token_url("generic"),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    ) as client:
        yield client
