"""A tiny WSGI app for test_fork.py, run by gunicorn --preload: the master imports this module (so
the client is made and its first token fetched before the workers fork), then every worker calls
token() per request.

GET /          -> token() (the first in each worker comes from the cache it inherited)
GET /refetch   -> invalidate(), then token(): each request fetches over what the worker inherited
Answers 200 {"pid": ..., "inherited": bool} or 500 with the error's class and message.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Iterable, List, Tuple

import hctoken

CLIENT = hctoken.Client(
    profile="generic",
    token_url=os.environ["HCTOKEN_TEST_TOKEN_URL"],
    client_id="test-client",
    client_secret="test-secret",
    timeout_ms=int(os.environ.get("HCTOKEN_TEST_TIMEOUT_MS", "5000")),
)
PRELOADED = CLIENT.token()  # in the master, before the fork


StartResponse = Callable[[str, List[Tuple[str, str]]], Any]


def app(environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    try:
        if environ.get("PATH_INFO") == "/refetch":
            CLIENT.invalidate()
        token = CLIENT.token()
        status = "200 OK"
        body: Dict[str, Any] = {"pid": os.getpid(), "inherited": token == PRELOADED}
    except hctoken.Error as error:
        status = "500 Internal Server Error"
        body = {"pid": os.getpid(), "error": f"{type(error).__name__}: {error}"}
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(status, headers)
    return [data]
