"""Helpers for the adversarial suite (conftest puts this folder on sys.path)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from spinegate.manifest_file import seal_manifest

GIT = {"branch": "main", "commit_before": "0123456789abcdef0123456789abcdef01234567", "commit_after": None}


def entry(plugin: str | None, function: str, effect: str, allowed: bool = True, reason: str | None = None,
          **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"plugin": plugin, "function": function, "effect_class": effect, "allowed": allowed,
                         "reason": reason, "max_calls_per_session": None}
    e.update(extra)
    return e


FUNCTIONS = [
    entry("Files", "Read", "SHELL_SAFE"),
    entry("Files", "Echo", "SHELL_SAFE", record_arguments=True),
    entry("Files", "Delete", "SHELL_DANGEROUS", False, "DESTRUCTIVE_OPERATION_BLOCKED"),
    entry("Files", "Café", "SHELL_SAFE"),
    entry(None, "search", "SHELL_SAFE"),
]


def write_sealed(path: Path, functions: list[dict[str, Any]] | None = None, posture: str = "NORMAL") -> Path:
    path.write_text(json.dumps({"version": "1.0.0", "posture": posture,
                                "functions": FUNCTIONS if functions is None else functions},
                               indent=2, ensure_ascii=False), encoding="utf-8")
    seal_manifest(path)
    return path


class Clock:
    """Deterministic UTC clock, one millisecond per reading (thread-safe enough: only the gate reads it)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, 0, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


class Tool:
    """A tool that counts its runs: the adversarial tests assert it never ran when it must not."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, **kwargs: Any) -> str:
        self.runs += 1
        return "ran"


def governed(gate: Any, call: Any, tool: Tool) -> Any:
    """What every adapter does: run the tool only if the gate approved the call."""
    decision = gate.check(call)
    if decision.approved:
        tool(**dict(call.arguments))
    return decision
