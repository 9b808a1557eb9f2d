"""Attacks on the receipt log's writability: no receipt, no execution.

Tests run as root, for whom chmod does not stop a write, so a read-only file
and a full disk are simulated where the kernel would report them: `os.write`
failing with EROFS / ENOSPC (and, for a torn write, succeeding partly first).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from adversarial_support import Tool, governed

from spinegate import Gate, ToolCall
from spinegate.errors import TornLogError
from spinegate.jsonl_store import JsonlReceiptStore, recover_torn_tail
from spinegate.verify import verify_path

REAL_WRITE = os.write


def _fail_writes_to(path: Path, code: int, *, partial: int = 0) -> Callable[[int, Any], int]:
    """An os.write that fails with `code` for the log at `path` (after writing `partial` bytes once)."""
    state = {"partial_left": partial}

    def write(fd: int, data: Any) -> int:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target != str(path):
            return REAL_WRITE(fd, data)
        if state["partial_left"]:
            n = REAL_WRITE(fd, bytes(data)[: state["partial_left"]])
            state["partial_left"] = 0
            return n
        raise OSError(code, os.strerror(code))

    return write


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs /proc to tell the log's fd apart")
def test_log_on_read_only_file_system_refuses_the_call(open_gate: Callable[..., Gate], tool: Tool,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: make the log unwritable (read-only file or mount) so calls run without a record."""
    log = tmp_path / "receipts.jsonl"
    gate = open_gate(log)
    assert governed(gate, ToolCall(plugin="Files", function="Read"), tool).approved
    monkeypatch.setattr(os, "write", _fail_writes_to(log, errno.EROFS))
    decision = governed(gate, ToolCall(plugin="Files", function="Read"), tool)
    assert not decision.approved and decision.reason.startswith("RECEIPT_WRITE_FAILED")
    assert "Read-only file system" in decision.reason and decision.receipt is None
    assert tool.runs == 1
    monkeypatch.setattr(os, "write", REAL_WRITE)
    # Nothing was half-written: the next call is recorded and the chain is whole.
    assert governed(gate, ToolCall(plugin="Files", function="Read"), tool).approved
    gate.close()
    report = verify_path(log)
    assert report.ok and report.receipts == 2


def test_log_path_is_a_directory_refuses_the_call(open_gate: Callable[..., Gate], tool: Tool,
                                                  tmp_path: Path) -> None:
    """Attack: replace the log file with a directory of the same name."""
    log = tmp_path / "receipts.jsonl"
    log.mkdir()
    gate = open_gate(log)
    decision = governed(gate, ToolCall(plugin="Files", function="Read"), tool)
    assert not decision.approved and decision.reason.startswith("RECEIPT_WRITE_FAILED")
    assert tool.runs == 0


def test_log_in_missing_directory_refuses_the_call(open_gate: Callable[..., Gate], tool: Tool,
                                                   tmp_path: Path) -> None:
    """Attack: delete the log's directory (or misconfigure it) so that no receipt can be written."""
    gate = open_gate(tmp_path / "gone" / "receipts.jsonl")
    for _ in range(3):
        decision = governed(gate, ToolCall(plugin="Files", function="Read"), tool)
        assert not decision.approved and decision.reason.startswith("RECEIPT_WRITE_FAILED")
    assert tool.runs == 0
    assert not (tmp_path / "gone").exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs /proc to tell the log's fd apart")
def test_disk_full_refuses_the_call(open_gate: Callable[..., Gate], tool: Tool, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: fill the disk so the receipt cannot be written."""
    log = tmp_path / "receipts.jsonl"
    gate = open_gate(log)
    monkeypatch.setattr(os, "write", _fail_writes_to(log, errno.ENOSPC))
    decision = governed(gate, ToolCall(plugin="Files", function="Read"), tool)
    assert not decision.approved and "No space left on device" in decision.reason
    assert tool.runs == 0
    monkeypatch.setattr(os, "write", REAL_WRITE)
    assert governed(gate, ToolCall(plugin="Files", function="Read"), tool).approved  # space freed: resumes
    assert gate.session.steps == 1  # the refused call did not advance the session counters


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs /proc to tell the log's fd apart")
def test_disk_full_mid_receipt_stops_writing_until_recovered(open_gate: Callable[..., Gate], tool: Tool,
                                                             tmp_path: Path, manifest_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: the disk fills up halfway through a receipt, leaving a torn line; nothing may follow it."""
    log = tmp_path / "receipts.jsonl"
    gate = open_gate(log)
    assert governed(gate, ToolCall(plugin="Files", function="Read"), tool).approved
    monkeypatch.setattr(os, "write", _fail_writes_to(log, errno.ENOSPC, partial=40))
    assert not governed(gate, ToolCall(plugin="Files", function="Read"), tool).approved
    monkeypatch.setattr(os, "write", REAL_WRITE)
    refused = governed(gate, ToolCall(plugin="Files", function="Read"), tool)
    assert not refused.approved and "partly written" in refused.reason
    assert tool.runs == 1
    with pytest.raises(TornLogError):
        JsonlReceiptStore(log)
    side, size = recover_torn_tail(log)
    assert size == 40 and Path(side).stat().st_size == 40
    gate2 = open_gate(log)
    assert governed(gate2, ToolCall(plugin="Files", function="Read"), tool).approved
    gate2.close()
    assert verify_path(log).ok
