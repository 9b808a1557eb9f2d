"""The core logs on the `spinegate` logger: decisions at DEBUG, problems at WARNING; it adds no handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import spinegate  # noqa: F401 - importing the library adds no handler
from spinegate import Gate, MemoryReceiptStore, ToolCall

GIT = {"branch": "", "commit_before": None, "commit_after": None}
READ = ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"})


class Unwritable(MemoryReceiptStore):
    def append(self, line: str) -> None:
        raise OSError(28, "No space left on device")


def test_the_library_adds_no_handler() -> None:
    assert logging.getLogger("spinegate").handlers == []


def test_decisions_at_debug(write_manifest: Callable[..., Path], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="spinegate"), \
            Gate.open(write_manifest(), receipts=MemoryReceiptStore(), git=GIT) as gate:
        decision = gate.check(READ)
        denied = gate.check(ToolCall(plugin="Files", function="Delete"))
    debug = [r for r in caplog.records if r.name == "spinegate" and r.levelno == logging.DEBUG]
    assert any(decision.receipt_id in r.getMessage() and "approve Files.Read" in r.getMessage() for r in debug)
    assert any("DESTRUCTIVE_OPERATION_BLOCKED" in r.getMessage() and str(denied.receipt_id) in r.getMessage()
               for r in debug)


def test_problems_at_warning(write_manifest: Callable[..., Path], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="spinegate"):
        gate = Gate.open(write_manifest(), receipts=Unwritable(), git=GIT)
        decision = gate.check(READ)
    assert decision.denied and decision.reason.startswith("RECEIPT_WRITE_FAILED")  # type: ignore[union-attr]
    (record,) = [r for r in caplog.records if r.name == "spinegate"]
    assert record.levelno == logging.WARNING and "No space left on device" in record.getMessage()


def test_an_outcome_not_recorded_is_a_warning_not_an_error(write_manifest: Callable[..., Path],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    class FailsAfterOne(MemoryReceiptStore):
        def append(self, line: str) -> None:
            if self.lines:
                raise OSError(5, "Input/output error")
            super().append(line)

    gate: Any = Gate.open(write_manifest(), receipts=FailsAfterOne(), git=GIT)
    decision = gate.check(READ)
    with caplog.at_level(logging.WARNING, logger="spinegate"):
        assert gate.try_record_outcome(decision, output="text") is None
    (record,) = [r for r in caplog.records if r.name == "spinegate"]
    assert record.levelno == logging.WARNING and f"outcome receipt for decision {decision.receipt_id}" in \
        record.getMessage()
