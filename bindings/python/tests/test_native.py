"""The ctypes layer: prototypes equal to include/hctoken.h, the library search order, versions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from ctypes import POINTER, c_char, c_char_p, c_int, c_int64, c_size_t, c_uint32, c_void_p
from pathlib import Path
from typing import Any, Dict, List, Tuple

from repo_paths import REPO_ROOT

import hctoken
from hctoken import _native

HEADER = REPO_ROOT / "include" / "hctoken.h"
BUILT_LIBRARY = REPO_ROOT / "target" / "debug" / "libhctoken.so"

# C types of the header (without struct/enum keywords) and the ctypes type each must be declared as.
C_TO_CTYPES: Dict[str, Any] = {
    "void": None,
    "const char*": c_char_p,
    "char*": POINTER(c_char),
    "char**": POINTER(POINTER(c_char)),
    "hct_status": c_int,
    "int": c_int,
    "size_t": c_size_t,
    "size_t*": POINTER(c_size_t),
    "hct_config*": POINTER(_native.HctConfig),
    "const hct_config*": POINTER(_native.HctConfig),
    "hct_client*": POINTER(_native.HctClient),
    "const hct_client*": POINTER(_native.HctClient),
    "hct_client**": POINTER(POINTER(_native.HctClient)),
    "uint32_t": c_uint32,
    "int64_t": c_int64,
    "void*": c_void_p,
    "hct_log_callback": _native.LOG_CALLBACK,
    "const hct_token*": POINTER(_native.HctToken),
    "hct_token*": POINTER(_native.HctToken),
    "hct_token**": POINTER(POINTER(_native.HctToken)),
}


def normalize(c_type: str) -> str:
    c_type = re.sub(r"\b(struct|enum)\s+", "", c_type)
    c_type = re.sub(r"\s*\*\s*", "*", c_type.strip())
    return re.sub(r"\s+", " ", c_type)


def header_prototypes() -> Dict[str, Tuple[str, List[str]]]:
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#[^\n]*", " ", text, flags=re.M)
    prototypes = {}
    for match in re.finditer(r"([\w\s\*]+?)\b(hct_\w+)\s*\(([^)]*)\)\s*;", text):
        result, name, params = match.groups()
        if "typedef" in result:
            continue
        arguments = []
        for param in params.split(","):
            param = param.strip()
            if param in ("", "void"):
                continue
            # Drop the parameter's name, keep its type.
            arguments.append(normalize(re.sub(r"\w+$", "", param)))
        prototypes[name] = (normalize(result.split(";")[-1].split("}")[-1]), arguments)
    return prototypes


def test_every_declared_function_matches_the_header_exactly() -> None:
    header = header_prototypes()
    assert header, f"no hct_ functions found in {HEADER}"
    for name, (restype, argtypes) in _native.PROTOTYPES.items():
        assert name in header, f"{name} is not in {HEADER}"
        c_result, c_params = header[name]
        assert C_TO_CTYPES[c_result] is restype, f"{name} returns {c_result}"
        assert [C_TO_CTYPES[p] for p in c_params] == argtypes, f"{name}({', '.join(c_params)})"


def test_every_function_of_the_issue_is_bound() -> None:
    issue_functions = {
        "hct_version", "hct_status_name", "hct_last_error_message", "hct_config_new",
        "hct_config_set", "hct_config_free", "hct_client_new", "hct_client_get_token",
        "hct_client_get_token_into", "hct_client_invalidate", "hct_client_free", "hct_string_free",
        # issue 12
        "hct_version_number", "hct_client_get", "hct_token_value", "hct_token_length",
        "hct_token_expires_in_ms", "hct_token_scope", "hct_token_type", "hct_token_free",
        "hct_client_stats_json", "hct_config_set_log_callback",
    }  # fmt: skip
    assert issue_functions <= set(_native.PROTOTYPES)
    lib = _native.library()
    for name, (restype, argtypes) in _native.PROTOTYPES.items():
        assert getattr(lib, name).restype is restype
        assert getattr(lib, name).argtypes == argtypes


def test_versions_agree_with_the_crate() -> None:
    cargo_toml = (REPO_ROOT / "Cargo.toml").read_text()
    crate_version = re.search(r'^version\s*=\s*"([^"]+)"', cargo_toml, re.M).group(1)  # type: ignore[union-attr]
    assert hctoken.__version__ == crate_version
    assert crate_version in hctoken.native_version()


def run_python(code: str, **env_changes: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != _native.LIBRARY_ENV}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_bundled_library_is_found_without_configuration() -> None:
    answer = run_python("import hctoken; print(hctoken.library_path()); print(hctoken.__file__)")
    assert answer.returncode == 0, answer.stderr
    library, package = answer.stdout.split()
    assert Path(library).parent == Path(package).parent
    assert Path(library).name.startswith("libhctoken")


def test_hctoken_library_variable_comes_first() -> None:
    assert BUILT_LIBRARY.is_file(), "run cargo build first"
    answer = run_python(
        "import hctoken; print(hctoken.library_path())", HCTOKEN_LIBRARY=str(BUILT_LIBRARY)
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == str(BUILT_LIBRARY)


def test_a_bad_hctoken_library_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    missing = tmp_path / "libmissing.so"
    code = "import hctoken\ntry:\n    hctoken.native_version()\nexcept OSError as e:\n    print(e)"
    answer = run_python(code, HCTOKEN_LIBRARY=str(missing))
    assert answer.returncode == 0, answer.stderr
    assert "HCTOKEN_LIBRARY" in answer.stdout and str(missing) in answer.stdout


def test_the_system_loader_comes_last() -> None:
    # Hide the bundled copy; the system loader then finds the library on LD_LIBRARY_PATH.
    code = (
        "import hctoken, hctoken._native as n\n"
        "n._bundled_library = lambda: None\n"
        "print(hctoken.library_path()); print(hctoken.native_version())"
    )
    answer = run_python(code, LD_LIBRARY_PATH=str(BUILT_LIBRARY.parent))
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split()[0] in ("libhctoken.so", str(BUILT_LIBRARY))


def test_package_is_typed() -> None:
    assert (Path(hctoken.__file__).parent / "py.typed").is_file()


def test_the_library_version_is_checked_at_load() -> None:
    lib = _native.library()
    assert lib.hct_version_number() >= _native.REQUIRED_VERSION_NUMBER
    _native.check_version(_native.REQUIRED_VERSION_NUMBER)  # equal is enough
    _native.check_version(_native.REQUIRED_VERSION_NUMBER + 1)


def test_an_older_library_is_refused_with_both_versions_named() -> None:
    import pytest

    with pytest.raises(OSError) as raised:
        _native.check_version(0x000009, "libold.so")
    message = str(raised.value)
    assert "libold.so" in message
    assert "0.0.9" in message and "0.1.0" in message


def test_status_11_is_no_token_error() -> None:
    from hctoken import _errors

    assert _errors.ERROR_CLASSES[11] is hctoken.NoTokenError
    assert hctoken.NoTokenError.status == "HCT_ERR_NO_TOKEN"
    assert _native.library().hct_status_name(11) == b"HCT_ERR_NO_TOKEN"
