"""The native receipt path in tests: which path runs, and skipping (or failing) when a test needs the native one.

`bash scripts/test` runs the suite on the native path, then the byte-identity
tests again with SPINEGATE_PURE_PYTHON=1. A test that exercises the
extension itself calls `require_native()`: on a run forced to the pure-Python
path it skips; where the extension was not built it skips locally and fails
under CI (SPINEGATE_REQUIRE_OUTSIDE_TOOLS=1), like a missing outside program.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from outside_tools import missing
from spinegate.native import PURE_PYTHON_VARIABLE, native


def forced_pure() -> bool:
    return os.environ.get(PURE_PYTHON_VARIABLE, "") not in ("", "0")


def require_native() -> Any:
    """The extension module; skips on the pure-Python run, skips or fails (CI) where it was not built."""
    if native is None:
        if forced_pure():
            pytest.skip(f"{PURE_PYTHON_VARIABLE}=1: this run checks the pure-Python path")
        missing("spinegate's native extension", "install a C compiler and OpenSSL's headers (Debian: gcc, "
                "libssl-dev), then `pip install -e .` again")
    return native
