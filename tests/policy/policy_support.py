"""Helpers shared by the policy tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "fixtures" / "interop" / "receipt.schema.json"
GIT = {"branch": "main", "commit_before": "0123456789abcdef0123456789abcdef01234567", "commit_after": None}
BASE = "/work/proj"
HOME = "/home/agent"


def identity(path: str) -> str:
    """A resolver that touches no disk: deterministic tests of everything but symlinks."""
    return posixpath.normpath(path)


def entry(plugin: str | None, function: str, effect: str, allowed: bool = True, **extra: Any) -> dict[str, Any]:
    """One manifest entry in the wire format, with v1.1 fields passed as keywords."""
    e: dict[str, Any] = {"plugin": plugin, "function": function, "effect_class": effect, "allowed": allowed,
                         "reason": None, "max_calls_per_session": None}
    e.update(extra)
    return e
