"""Runs `hctoken serve` (docs/emulator.md) on a free loopback port for one test."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from typing import Any, Dict, Optional, Sequence

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"

# Every token endpoint of the emulator, by profile.
TOKEN_PATHS = {
    "change-healthcare-v2": "/apip/auth/v2/token",
    "change-healthcare-v1": "/apip/auth/v1/token",
    "optum-v3": "/auth/sntl/v1/token",
    "nikohealth": "/api/identity/connect/token",
    "generic": "/oauth2/token",
}

_START_TIMEOUT_SECS = 15.0
_STOP_TIMEOUT_SECS = 5.0


class TokenServer:
    def __init__(self, binary: str, extra_args: Sequence[str] = ()) -> None:
        # --watch-stdin: the server also exits if this test process dies without stopping it.
        self._process = subprocess.Popen(
            [binary, "serve", "--port", "0", "--watch-stdin", *extra_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self._read_base_url()

    def _read_base_url(self) -> str:
        line: Dict[str, str] = {}
        reader = threading.Thread(
            target=lambda: line.setdefault("url", self._process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(_START_TIMEOUT_SECS)
        url = line.get("url", "").strip()
        if not url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"hctoken serve did not print its base URL (got {url!r})")
        return url

    def url(self, path: str) -> str:
        return self.base_url + path

    def token_url(self, profile: str) -> str:
        return self.url(TOKEN_PATHS[profile])

    def stats(self) -> Dict[str, Any]:
        with urllib.request.urlopen(self.url("/_hctoken/stats"), timeout=5) as answer:
            return json.load(answer)

    def token_requests(self, path: Optional[str] = None) -> int:
        stats = self.stats()
        if path is None:
            return int(stats["token_requests"])
        return int(stats["by_path"].get(path, 0))

    def revoke(self) -> None:
        self._post("/_hctoken/revoke")

    def reset(self) -> None:
        self._post("/_hctoken/reset")

    def _post(self, path: str) -> None:
        request = urllib.request.Request(self.url(path), data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=5):
            pass

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(_STOP_TIMEOUT_SECS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(_STOP_TIMEOUT_SECS)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
