"""A client survives fork: multiprocessing's fork start method, gunicorn --preload, a child forked
while another thread is inside token(). Every call succeeds and nothing hangs.

Where many processes fetch at once over kept-alive connections (the pool, gunicorn), the token
endpoint is keepalive_token_server.py rather than `hctoken serve` (its module doc says why).

The scenarios run in a separate process (fork_scenarios.py, or gunicorn) in its own process
group: a child that hangs is killed at the bound and fails the test instead of stalling pytest.
They test the core library's fork safety as much as the binding's: the child must neither use the
parent's kept-alive connection nor wait for a token request the parent's thread had in flight.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterator, List, Tuple, Union

import pytest
from keepalive_token_server import KeepAliveTokenServer
from token_server import TokenServer

TESTS_DIR = Path(__file__).resolve().parent
SCENARIOS = TESTS_DIR / "fork_scenarios.py"

TIMEOUT_MS = 3000
# Every answer of the slow server takes this long, so a fork lands while a fetch is in flight.
LATENCY_MS = 1000
# Bounds that only catch a hang: a process start-up, an interpreter, a pool of workers.
START_UP_SECS = 30

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")


def kill_group(process: "subprocess.Popen[Any]") -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def keepalive_server() -> Iterator[KeepAliveTokenServer]:
    """Where many processes fetch at once over kept-alive connections (see its module doc)."""
    server = KeepAliveTokenServer()
    yield server
    server.stop()


def run_scenario(
    name: str, server: Union[TokenServer, KeepAliveTokenServer], bound_secs: float
) -> Dict[str, Any]:
    command = [sys.executable, str(SCENARIOS), name, server.token_url("generic"), str(TIMEOUT_MS)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=bound_secs)
    except subprocess.TimeoutExpired:
        kill_group(process)
        out, err = process.communicate()
        pytest.fail(f"scenario {name} did not end within {bound_secs:.0f} s (a hang)\n{err}")
    assert process.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines, f"scenario {name} printed nothing\n{err}"
    result: Dict[str, Any] = json.loads(lines[-1])
    return result


def test_multiprocessing_pool_with_the_fork_start_method(
    keepalive_server: KeepAliveTokenServer,
) -> None:
    per_worker_secs = 20 * TIMEOUT_MS * 1.1 / 1000  # 20 calls, each bounded by the timeout + 10 %
    result = run_scenario("pool", keepalive_server, per_worker_secs + START_UP_SECS)

    assert not result.get("hung"), f"the pool did not finish within {result['bound']:.0f} s"
    tasks = result["tasks"]
    assert len(tasks) == 4
    for task in tasks:
        assert task["errors"] == [], f"worker {task['pid']}"
        assert task["ok"] == 20
        # A worker's first call is served from the token the parent fetched before the fork.
        assert task["inherited"] in (True, None)
    assert any(task["inherited"] for task in tasks)
    assert result["elapsed"] <= result["bound"]
    assert result["parent_errors"] == []


@pytest.fixture
def slow_server(start_token_server: Callable[..., TokenServer]) -> TokenServer:
    return start_token_server("--latency-ms", str(LATENCY_MS))


def test_close_in_a_child_forked_mid_call_does_not_wait_for_the_parents_thread(
    slow_server: TokenServer,
) -> None:
    result = run_scenario("mid-call-close", slow_server, 2 * TIMEOUT_MS / 1000 + START_UP_SECS)

    child, parent = result["child"], result["parent"]
    assert not child.get("hung"), "the child's close() never returned"
    assert "crash" not in child, child["crash"]
    assert child["close_secs"] <= TIMEOUT_MS * 1.1 / 1000
    assert parent == {"token_ok": True, "error": None, "thread_finished": True}


def test_token_and_close_in_a_child_forked_mid_call_return_within_the_timeout(
    slow_server: TokenServer,
) -> None:
    result = run_scenario("mid-call-token", slow_server, 2 * TIMEOUT_MS / 1000 + START_UP_SECS)

    child, parent = result["child"], result["parent"]
    assert not child.get("hung"), "the child's token() or close() never returned"
    assert "crash" not in child, child["crash"]
    assert child["token_secs"] <= TIMEOUT_MS * 1.1 / 1000
    # The child fetches a token of its own: it never waits for the parent's flight.
    assert child.get("token_ok"), child.get("token_error")
    assert child["close_secs"] <= TIMEOUT_MS * 1.1 / 1000
    assert parent == {"token_ok": True, "error": None, "thread_finished": True}


def test_a_child_forked_while_another_thread_holds_the_bindings_locks_does_not_wait_for_them(
    server: TokenServer,
) -> None:
    result = run_scenario("locks-held", server, TIMEOUT_MS / 1000 + START_UP_SECS)

    child = result["child"]
    assert not child.get("hung"), "the child waited for a lock held by a thread it does not have"
    assert "crash" not in child, child["crash"]
    assert child["version"] and child["token_ok"]


GUNICORN_REQUESTS = 24
GUNICORN_CLIENTS = 4


def get(url: str) -> Tuple[int, Dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=START_UP_SECS) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_gunicorn_preload_with_two_workers(
    keepalive_server: KeepAliveTokenServer, tmp_path: Path
) -> None:
    server = keepalive_server
    # The listening socket is made here and handed to gunicorn (fd://): a free port, no race.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    log_path = tmp_path / "gunicorn.log"
    env = dict(
        os.environ,
        HCTOKEN_TEST_TOKEN_URL=server.token_url("generic"),
        HCTOKEN_TEST_TIMEOUT_MS=str(TIMEOUT_MS),
    )
    command = [
        sys.executable, "-m", "gunicorn", "--preload", "--workers", "2",
        "--bind", f"fd://{listener.fileno()}", "--chdir", str(TESTS_DIR),
        "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning",
        "fork_wsgi_app:app",
    ]  # fmt: skip
    log: IO[str]
    with open(log_path, "w") as log:
        gunicorn = subprocess.Popen(
            command,
            env=env,
            pass_fds=(listener.fileno(),),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    listener.close()
    try:
        base = f"http://127.0.0.1:{port}"
        # Served from the token the master fetched before forking: no request of their own.
        cached = [get(base + "/") for _ in range(2)]
        requests_before_refetching = server.token_requests()
        url = base + "/refetch"
        with ThreadPoolExecutor(max_workers=GUNICORN_CLIENTS) as pool:
            answers: List[Tuple[int, Dict[str, Any]]] = list(
                pool.map(lambda _: get(url), range(GUNICORN_REQUESTS), timeout=2 * START_UP_SECS)
            )
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_group(gunicorn)  # the master and its workers
            gunicorn.wait()

    assert cached == [(200, {"pid": body.get("pid"), "inherited": True}) for _, body in cached]
    assert requests_before_refetching == 1
    failures = [body for status, body in answers if status != 200]
    assert failures == [], log_path.read_text()
    assert len(answers) == GUNICORN_REQUESTS
    # The master's token, then one per request, fetched in the workers.
    assert server.token_requests() >= 1 + GUNICORN_REQUESTS
