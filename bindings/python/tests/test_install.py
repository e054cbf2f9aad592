"""The wheel installs into a fresh virtual environment, with the native library inside it.

run-tests.sh passes the wheel it built in HCTOKEN_WHEEL; without it this test builds one with the
build backend of this interpreter (setuptools-rust must be installed here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo_paths import PYTHON_PACKAGE_DIR
from token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

INSTALL_TIMEOUT_SECS = 300

CHECK_INSTALLED = """
import importlib.metadata, pathlib, sys
import hctoken
client = hctoken.Client(profile="generic", token_url=sys.argv[1], client_id=sys.argv[2],
                        client_secret=sys.argv[3])
token = client.token()
client.close()
package = pathlib.Path(hctoken.__file__).parent
print(package)
print(hctoken.library_path())
print((package / "py.typed").is_file())
print(all("extra ==" in r for r in importlib.metadata.requires("hctoken") or []))
print(bool(token))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("HCTOKEN_WHEEL")
    if given:
        return Path(given)
    out_dir = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out_dir), str(PYTHON_PACKAGE_DIR)],
        check=True,
        timeout=INSTALL_TIMEOUT_SECS,
        env={**os.environ, "SETUPTOOLS_RUST_CARGO_PROFILE": "dev"},
    )  # fmt: skip
    return next(out_dir.glob("hctoken-*.whl"))


def test_wheel_is_a_platform_wheel(wheel: Path) -> None:
    assert wheel.name.startswith("hctoken-")
    assert not wheel.name.endswith("-none-any.whl"), "the wheel must carry the native library"


def test_install_into_a_fresh_venv_and_get_a_token(
    tmp_path: Path, wheel: Path, server: TokenServer
) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT_SECS
    )
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--no-deps", "--disable-pip-version-check",
         "-q", str(wheel)],
        check=True,
        timeout=INSTALL_TIMEOUT_SECS,
    )  # fmt: skip

    env = {k: v for k, v in os.environ.items() if k not in ("HCTOKEN_LIBRARY", "PYTHONPATH")}
    answer = subprocess.run(
        [python, "-c", CHECK_INSTALLED, server.token_url("generic"), CLIENT_ID, CLIENT_SECRET],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr
    package, library, typed, extras_only, got_token = answer.stdout.split("\n")[:5]
    assert Path(package).is_relative_to(venv)
    assert Path(library).parent == Path(package), "the library bundled in the wheel is used"
    assert typed == "True"
    assert extras_only == "True", "requests and httpx are optional extras"
    assert got_token == "True"
