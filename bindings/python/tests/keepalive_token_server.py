"""A token endpoint on a free loopback port that keeps connections alive (HTTP/1.1), with one
thread per connection, for the fork tests.

Why not `hctoken serve`: its HTTP server (tiny_http 0.12) runs each kept-alive connection on a
thread of a pool that can lose a wake-up when several connections arrive together while fewer of
its threads are idle; the last one then waits, unread, until another connection closes. A pool of
forked workers that each open a connection at once meets exactly that, and the test would fail
for the server's sake. Here every connection has its own thread from the start.

POST anything: HTTP Basic client authentication and a form body with
grant_type=client_credentials give 200 with a new opaque token; a body without it (what
interleaved requests on a shared connection look like) gives 400 invalid_request, bad
credentials 401 invalid_client. Every POST is counted.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Tuple
from urllib.parse import parse_qs

from token_server import CLIENT_ID, CLIENT_SECRET

_IDLE_SECS = 30


class KeepAliveTokenServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def token_url(self, profile: str = "generic") -> str:
        assert profile == "generic", "this server speaks RFC 6749 only"
        return f"http://127.0.0.1:{self._server.server_address[1]}/oauth2/token"

    def token_requests(self) -> int:
        with self._lock:
            return self._requests

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _issue(self, authorization: str, body: bytes) -> Tuple[int, Dict[str, Any]]:
        with self._lock:
            self._requests += 1
            number = self._requests
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "invalid_request", "error_description": "grant_type is missing"}
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        return 200, {"access_token": f"token-{number}", "token_type": "Bearer", "expires_in": 3600}

    def _handler_class(self) -> type:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive
            timeout = _IDLE_SECS

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = server._issue(self.headers.get("Authorization", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # keep test output quiet

        return Handler
