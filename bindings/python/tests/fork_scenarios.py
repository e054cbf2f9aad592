"""Fork scenarios, run by test_fork.py as a separate process so that a hang in a forked child fails
the test (the whole process group is killed at the bound) instead of stalling pytest, and so that
pytest's own threads are never forked.

    python fork_scenarios.py SCENARIO TOKEN_URL TIMEOUT_MS

Prints one JSON object on standard output: what each process saw, with times in seconds.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import sys
import threading
import time
import urllib.request
from typing import Any, Dict, List, Optional

import hctoken

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"

POOL_WORKERS = 4
CALLS_PER_WORKER = 20

# Set before forking; the children inherit them.
CLIENT: Optional[hctoken.Client] = None
PRELOADED: Optional[str] = None
_TASKS_IN_THIS_PROCESS = 0


def new_client(token_url: str, timeout_ms: int) -> hctoken.Client:
    return hctoken.Client(
        profile="generic",
        token_url=token_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        timeout_ms=timeout_ms,
    )


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def pool_task(_: int) -> Dict[str, Any]:
    """In a pool worker: the first call is answered from the cache inherited from the parent; each
    of the others follows an invalidate, so the worker fetches over whatever it inherited."""
    global _TASKS_IN_THIS_PROCESS
    _TASKS_IN_THIS_PROCESS += 1
    assert CLIENT is not None
    seen: Dict[str, Any] = {"pid": os.getpid(), "ok": 0, "errors": [], "inherited": None}
    for call in range(CALLS_PER_WORKER):
        if call > 0:
            CLIENT.invalidate()
        try:
            token = CLIENT.token()
        except hctoken.Error as error:
            seen["errors"].append(f"call {call}: {describe(error)}")
            continue
        seen["ok"] += 1
        if call == 0 and _TASKS_IN_THIS_PROCESS == 1:
            seen["inherited"] = token == PRELOADED
    return seen


def scenario_pool(token_url: str, timeout_ms: int) -> Dict[str, Any]:
    """multiprocessing with the fork start method, after the parent fetched once."""
    global CLIENT, PRELOADED
    CLIENT = new_client(token_url, timeout_ms)
    PRELOADED = CLIENT.token()
    bound = CALLS_PER_WORKER * timeout_ms * 1.1 / 1000
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(POOL_WORKERS) as pool:
        try:
            tasks: List[Dict[str, Any]] = pool.map_async(
                pool_task, range(POOL_WORKERS), chunksize=1
            ).get(timeout=bound)
        except multiprocessing.TimeoutError:
            # Leaving the with block terminates the workers, stuck or not.
            return {"hung": True, "bound": bound}
    elapsed = time.monotonic() - started
    # The parent is unaffected: it still fetches and serves tokens.
    parent_errors = []
    for _ in range(5):
        CLIENT.invalidate()
        try:
            CLIENT.token()
        except hctoken.Error as error:
            parent_errors.append(describe(error))
    CLIENT.close()
    return {"tasks": tasks, "elapsed": elapsed, "bound": bound, "parent_errors": parent_errors}


def wait_until_the_server_has_the_request(token_url: str) -> None:
    """The emulator counts a token request when it arrives, before its --latency-ms delay."""
    stats_url = token_url.split("/oauth2/")[0] + "/_hctoken/stats"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(stats_url, timeout=5) as answer:
            if json.load(answer)["token_requests"] >= 1:
                return
        time.sleep(0.01)
    raise RuntimeError("the token request never reached the server")


def scenario_mid_call(token_url: str, timeout_ms: int, child_calls_token: bool) -> Dict[str, Any]:
    """Forks while another thread is inside token() (the server delays every answer); the child
    calls token() (when child_calls_token) and then close(), each timed."""
    client = new_client(token_url, timeout_ms)
    in_parent: Dict[str, Any] = {}

    def fetch() -> None:
        try:
            in_parent["token"] = client.token()
        except hctoken.Error as error:
            in_parent["error"] = describe(error)

    fetching = threading.Thread(target=fetch)
    fetching.start()
    wait_until_the_server_has_the_request(token_url)

    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: only this thread exists here
        os.close(report_r)
        seen: Dict[str, Any] = {}
        try:
            if child_calls_token:
                started = time.monotonic()
                try:
                    seen["token_ok"] = bool(client.token())
                except hctoken.Error as error:
                    seen["token_error"] = describe(error)
                seen["token_secs"] = time.monotonic() - started
            started = time.monotonic()
            client.close()
            seen["close_secs"] = time.monotonic() - started
        except BaseException as error:  # noqa: BLE001 (the parent reports it, the test fails)
            seen["crash"] = describe(error)
        os.write(report_w, json.dumps(seen).encode())
        os._exit(0)

    os.close(report_w)
    # Generous: the child's calls are bounded by timeout_ms + 10 % each; beyond this it hangs.
    child = read_child_report(pid, report_r, 2 * timeout_ms * 1.1 / 1000 + 5)

    fetching.join(timeout_ms * 1.1 / 1000 + 5)
    parent = {"token_ok": bool(in_parent.get("token")), "error": in_parent.get("error")}
    parent["thread_finished"] = not fetching.is_alive()
    if not fetching.is_alive():
        client.close()
    return {"child": child, "parent": parent}


def scenario_locks_held(token_url: str, timeout_ms: int) -> Dict[str, Any]:
    """Forks while another thread holds the binding's own locks (the library loader's, and the
    registry of live clients'), as a thread that is loading the library or making a client does
    for a moment; the child then loads, makes a client and gets a token."""
    from hctoken import _client, _native

    hctoken.native_version()  # loaded before the fork: the child still takes the loader's lock
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _native._lock, _client._live_clients_lock:
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait()
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(report_r)
        seen: Dict[str, Any] = {}
        try:
            started = time.monotonic()
            seen["version"] = hctoken.native_version()
            client = new_client(token_url, timeout_ms)
            seen["token_ok"] = bool(client.token())
            client.close()
            seen["secs"] = time.monotonic() - started
        except BaseException as error:  # noqa: BLE001 (the parent reports it, the test fails)
            seen["crash"] = describe(error)
        os.write(report_w, json.dumps(seen).encode())
        os._exit(0)
    os.close(report_w)
    child = read_child_report(pid, report_r, timeout_ms * 1.1 / 1000 + 5)
    release.set()
    holder.join()
    return {"child": child}


def read_child_report(pid: int, report_r: int, limit_secs: float) -> Dict[str, Any]:
    """The JSON the child wrote before exiting, or {"hung": True} (and the child killed) when it
    has not finished within limit_secs."""
    limit = time.monotonic() + limit_secs
    child: Dict[str, Any] = {}
    chunks = []
    while True:
        remaining = limit - time.monotonic()
        if remaining <= 0 or not select.select([report_r], [], [], remaining)[0]:
            child["hung"] = True
            break
        chunk = os.read(report_r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    if child.get("hung"):
        os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(report_r)
    if chunks:
        child.update(json.loads(b"".join(chunks)))
    return child


def main(argv: List[str]) -> None:
    scenario, token_url, timeout_ms = argv[1], argv[2], int(argv[3])
    if scenario == "pool":
        result = scenario_pool(token_url, timeout_ms)
    elif scenario == "mid-call-close":
        result = scenario_mid_call(token_url, timeout_ms, child_calls_token=False)
    elif scenario == "mid-call-token":
        result = scenario_mid_call(token_url, timeout_ms, child_calls_token=True)
    elif scenario == "locks-held":
        result = scenario_locks_held(token_url, timeout_ms)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    print(json.dumps(result), flush=True)
    # Not sys.exit: a thread stuck in the library must not keep this process alive.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
