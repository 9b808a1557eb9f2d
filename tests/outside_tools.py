"""Outside programs the suite drives for real (PostgreSQL, Chromium, Node, the Claude Code CLI).

A test that needs one calls `require(...)`: when the program is missing the test
skips with a reason that says how to install it, unless
SPINEGATE_REQUIRE_OUTSIDE_TOOLS=1 (set by `.ci/run`), which turns the skip into a
failure so that CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

REQUIRE_VARIABLE = "SPINEGATE_REQUIRE_OUTSIDE_TOOLS"


def required() -> bool:
    """True when a missing outside program must fail the test rather than skip it."""
    return os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0")


def missing(what: str, how_to_install: str) -> NoReturn:
    """Skip (or, when required, fail) the current test because `what` is not available."""
    message = f"{what} is not available ({how_to_install})"
    if required():
        pytest.fail(f"{message}; {REQUIRE_VARIABLE} is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


def require(program: str, how_to_install: str) -> str:
    """The path of `program` on PATH; skips or fails the test (see `missing`) when it is not there."""
    found = shutil.which(program)
    if found is None:
        missing(f"the program {program!r}", how_to_install)
    return found
