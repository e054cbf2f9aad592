"""The example under examples/python/ runs against `hctoken serve`."""

from __future__ import annotations

import os
import subprocess
import sys

from repo_paths import REPO_ROOT
from token_server import TokenServer

EXAMPLE = REPO_ROOT / "examples" / "python" / "call_protected_api.py"


def test_example_calls_the_protected_resource(server: TokenServer) -> None:
    env = {**os.environ, "HCTOKEN_CLIENT_SECRET": "test-secret"}
    answer = subprocess.run(
        [sys.executable, str(EXAMPLE), "--token-url", server.token_url("generic"),
         "--client-id", "test-client", "--resource", server.url("/api/resource")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip

    assert answer.returncode == 0, answer.stderr
    assert "200" in answer.stdout
    assert "test-secret" not in answer.stdout + answer.stderr
    assert server.token_requests() == 1
