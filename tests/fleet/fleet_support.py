"""Helpers for the fleet tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner, Result

from spinegate import ToolCall, seal_manifest
from spinegate.cli import main

GIT = {"branch": "main", "commit_before": None, "commit_after": None}
FUNCTIONS = [
    {"plugin": "Files", "function": "Read", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
     "max_calls_per_session": None},
]


def sealed_manifest(path: Path) -> Path:
    """Write a manifest declaring FUNCTIONS at `path` and seal it."""
    path.write_text(json.dumps({"version": "1.0.0", "posture": "NORMAL", "functions": FUNCTIONS,
                                "manifest_hash": ""}), encoding="utf-8")
    seal_manifest(path)
    return path


def read_call(i: int) -> ToolCall:
    return ToolCall(plugin="Files", function="Read", arguments={"path": f"file-{i}.txt"}, proposal_id=f"call-{i}")


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def rows(dsn: str, table: str = "receipts", columns: str = "line") -> list[Any]:
    """Every row of a ledger table in position order (one column: its values; several: tuples)."""
    with psycopg.connect(dsn) as conn:
        got = conn.execute(f"SELECT {columns} FROM spinegate.{table} ORDER BY position").fetchall()
    return [r[0] for r in got] if "," not in columns else [tuple(r) for r in got]


def ledger_receipts(dsn: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in rows(dsn)]


def canonical(data: Any) -> str:
    """What the sibling implementations read: json.dumps with sorted keys and no whitespace."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
