"""Where the repository and its build outputs are, seen from these tests."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
PYTHON_PACKAGE_DIR = REPO_ROOT / "bindings" / "python"
