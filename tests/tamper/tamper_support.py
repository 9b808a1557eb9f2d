"""Helpers for the tamper-evidence, durability and crash tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from spinegate import ToolCall
from spinegate.canonical import canonical_json
from spinegate.receipt_hash import receipt_hash

ROOT = Path(__file__).resolve().parents[2]
GIT = {"branch": "main", "commit_before": "0123456789abcdef0123456789abcdef01234567", "commit_after": None}
FUNCTIONS = [
    {"plugin": "Files", "function": "Read", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
     "max_calls_per_session": None},
    {"plugin": "Files", "function": "Delete", "effect_class": "SHELL_DANGEROUS", "allowed": False,
     "reason": "DESTRUCTIVE_OPERATION_BLOCKED", "max_calls_per_session": None},
]


class Clock:
    """Deterministic UTC clock ticking one millisecond per reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, 0, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now



def read_call(i: int) -> ToolCall:
    return ToolCall(plugin="Files", function="Read", arguments={"path": f"file-{i}.txt"})


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="ascii").splitlines()]


def write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(canonical_json(r) + "\n" for r in records), encoding="ascii")


def rechain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recompute every hash and link, per session, as an attacker with write access would."""
    heads: dict[str, str | None] = {}
    for r in records:
        r["previous_receipt_hash"] = heads.get(r["session_id"])
        r["receipt_hash"] = receipt_hash(r)
        heads[r["session_id"]] = r["receipt_hash"]
    return records
