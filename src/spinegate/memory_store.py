"""A receipt store in memory: for tests and benchmarks, never for audit (nothing survives the process)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from .receipts import Receipt
from .store import Durability, StoredRecord


class MemoryReceiptStore:
    """Keeps receipt lines in `lines` and checkpoint lines in `checkpoint_lines`.

    `append(line)` is the one place a receipt line enters the store, so a
    test can subclass it to make writing fail.
    """

    location = "<memory>"
    durability: Durability = "flush"

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.checkpoint_lines: list[str] = []

    def append(self, line: str) -> None:
        self.lines.append(line)

    def write_receipt(self, receipt: Receipt) -> int:
        self.append(receipt.to_json())
        return len(self.lines)

    def sync(self, ticket: int) -> None:
        """Nothing to wait for: a line in memory is as durable as this store gets."""

    def last_receipt(self, session_id: str) -> dict[str, Any] | None:
        for line in reversed(self.lines):
            data = json.loads(line)
            if data.get("session_id") == session_id:
                return dict(data)
        return None

    def receipts(self) -> list[dict[str, Any]]:
        """Every receipt, parsed (a convenience for tests)."""
        return [json.loads(line) for line in self.lines]

    def all_receipts(self) -> Iterator[StoredRecord]:
        return _records(self.lines)

    def session_receipts(self, session_id: str) -> Iterator[StoredRecord]:
        return (r for r in _records(self.lines) if r.data.get("session_id") == session_id)

    def write_checkpoint(self, checkpoint: Mapping[str, Any], line: str) -> None:
        self.checkpoint_lines.append(line)

    def all_checkpoints(self) -> Iterator[StoredRecord]:
        return _records(self.checkpoint_lines)

    def session_checkpoints(self, session_id: str) -> Iterator[StoredRecord]:
        return (r for r in _records(self.checkpoint_lines) if r.data.get("session_id") == session_id)

    def close(self) -> None:
        pass


def _records(lines: list[str]) -> Iterator[StoredRecord]:
    for n, line in enumerate(list(lines), start=1):
        data = json.loads(line)
        if isinstance(data, dict):
            yield StoredRecord(n, data, line)
