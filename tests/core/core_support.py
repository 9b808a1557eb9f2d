"""Helpers shared by the core tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SCHEMA_PATH = FIXTURES / "interop" / "receipt.schema.json"
SIBLING_LOG = FIXTURES / "interop" / "m87_spine_lite_receipts.jsonl"
CONFORMANCE = FIXTURES / "conformance"

GIT = {"branch": "main", "commit_before": "0123456789abcdef0123456789abcdef01234567", "commit_after": None}


def entry(plugin: str | None, function: str, effect: str, allowed: bool = True, reason: str | None = None,
          max_calls: int | None = None, **extra: Any) -> dict[str, Any]:
    """One manifest entry in the wire format."""
    e: dict[str, Any] = {"plugin": plugin, "function": function, "effect_class": effect, "allowed": allowed,
                         "reason": reason, "max_calls_per_session": max_calls}
    e.update(extra)
    return e


DEFAULT_FUNCTIONS = [
    entry("Files", "Read", "SHELL_SAFE", record_arguments=True),
    entry("Files", "Write", "SCOPED_WRITE"),
    entry("Files", "Delete", "SHELL_DANGEROUS", False, "DESTRUCTIVE_OPERATION_BLOCKED"),
    entry("Files", "Purge", "SHELL_DANGEROUS", False),
    entry("Shell", "Mkdir", "SHELL_MUTATING"),
    entry("Shell", "Run", "SHELL_DANGEROUS"),
    entry("Web", "Fetch", "NETWORK_ATTEMPT"),
    entry("Secrets", "WriteEnv", "RESTRICTED_WRITE"),
    entry("Secrets", "WriteEnvDenied", "RESTRICTED_WRITE", False, "NO_SECRETS"),
    entry(None, "search", "SHELL_SAFE"),
]


def independent_manifest_hash(doc: dict[str, Any]) -> str:
    """SPEC.md's manifest hash for a document without floats, computed with the standard library."""
    body = {k: v for k, v in doc.items() if k != "manifest_hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FixedClock:
    """A clock that starts at a whole second (microsecond=0) and ticks by `step`."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start or datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        value = self.now
        self.now += self.step
        return value


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def read_lines(path: Path) -> list[str]:
    """The log's lines, asserting every one ends in a newline."""
    data = path.read_bytes()
    assert data.endswith(b"\n") or not data
    return data.decode("ascii").splitlines()


def is_canonical(line: str) -> bool:
    return json.dumps(json.loads(line), sort_keys=True, separators=(",", ":")) == line
