"""Outcome receipts appended without waiting: the guarantee, the writer thread, failures, durability.

The guarantee (`Gate.record_outcome(..., deferred=True)`): the receipt is in
the store before the next decision of its session is returned, and before
`close()` returns; until then the store's writer thread appends it within
a moment. Decision receipts stay synchronous.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest

from spinegate import Gate, ToolCall
from spinegate.checkpoint_verify import verify_checkpoints
from spinegate.errors import ReceiptWriteError
from spinegate.jsonl_store import JsonlReceiptStore
from spinegate.keys import load_private_key, write_keypair
from spinegate.verify import verify_path

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "manifest.json"
GIT = {"branch": "main", "commit_before": None, "commit_after": None}
READ = ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"})


def operations(log: Path) -> list[str]:
    return [json.loads(line)["action"]["operation"] for line in log.read_text().splitlines()]


def test_an_outcome_is_in_the_log_before_the_next_decision_returns(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT)
    for _ in range(50):
        decision = gate.check(READ)
        assert decision.approved
        receipt = gate.record_outcome(decision, output="text", deferred=True)
        assert receipt.operation == "outcome"
    assert gate.check(READ).approved
    ops = operations(log)  # read as soon as the last decision returned
    assert ops[:100] == ["decision", "outcome"] * 50 and ops[100] == "decision"
    gate.close()
    assert verify_path(log).ok


def test_a_lone_outcome_is_appended_by_the_writer_thread(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT)
    gate.record_outcome(gate.check(READ), output="text", deferred=True)
    deadline = time.monotonic() + 5
    while operations(log) != ["decision", "outcome"]:
        assert time.monotonic() < deadline, "the writer thread did not append the outcome"
        time.sleep(0.001)
    # ... and again after the writer thread has gone to sleep for want of work
    time.sleep(0.4)
    gate.record_outcome(gate.check(READ), output="text", deferred=True)
    while len(operations(log)) != 4:
        assert time.monotonic() < deadline + 5, "the sleeping writer thread was not woken"
        time.sleep(0.001)
    gate.close()


def test_close_appends_what_is_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import spinegate.jsonl_store as jsonl_store

    monkeypatch.setattr(jsonl_store, "DEFER_SECONDS", 60.0)  # the writer thread would not get to it
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT)
    gate.record_outcome(gate.check(READ), output="x", deferred=True)
    assert operations(log) == ["decision"]
    gate.close()
    assert operations(log) == ["decision", "outcome"]


def test_a_store_that_refuses_a_deferred_line_denies_the_next_decision(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT)
    decision = gate.check(READ)
    store = gate.store
    assert isinstance(store, JsonlReceiptStore)

    def refuse(fd: int, data: bytes, start: int) -> None:
        raise ReceiptWriteError("cannot write the receipt: No space left on device", path=str(log))

    monkeypatch.setattr(store, "_write_all", refuse)
    with caplog.at_level(logging.WARNING, logger="spinegate"):
        gate.record_outcome(decision, output="x", deferred=True)  # sealed and queued: no error yet
        deadline = time.monotonic() + 5
        while not any("deferred receipts could not be written" in r.message for r in caplog.records):
            assert time.monotonic() < deadline
            time.sleep(0.001)
    denied = gate.check(READ)
    assert not denied.approved and denied.reason is not None and denied.reason.startswith("RECEIPT_WRITE_FAILED")
    monkeypatch.undo()  # the disk has room again: the queued outcome goes first, then the next decision
    assert gate.check(READ).approved
    gate.close()
    assert operations(log) == ["decision", "outcome", "decision"]
    assert verify_path(log).ok


def test_fsync_durability_covers_the_deferred_outcome(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT, durability="fsync")
    store = gate.store
    assert isinstance(store, JsonlReceiptStore)
    for _ in range(5):
        gate.record_outcome(gate.check(READ), output="x", deferred=True)
    gate.check(READ)
    assert store._synced == store._written == 11  # the last decision's fsync covered every outcome before it
    gate.close()


def test_signed_checkpoints_cover_deferred_outcomes(tmp_path: Path) -> None:
    private, public, _ = write_keypair(tmp_path / "key")
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT, signing_key=load_private_key(private), checkpoint_every=3)
    for _ in range(10):
        gate.record_outcome(gate.check(READ), output="x", deferred=True)
    gate.close()
    assert verify_path(log).ok
    assert verify_checkpoints(log, public).ok


def test_threads_mixing_decisions_and_deferred_outcomes(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(150):
                decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={"i": i}))
                gate.record_outcome(decision, output=str(i), deferred=True)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gate.close()
    assert not errors
    report = verify_path(log)
    assert report.ok and report.approvals == 750 and report.outcomes == 750


def test_a_forked_child_does_not_write_the_parents_deferred_lines(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import spinegate.jsonl_store as jsonl_store

    monkeypatch.setattr(jsonl_store, "DEFER_SECONDS", 60.0)
    log = tmp_path / "r.jsonl"
    gate = Gate.open(SAMPLE, receipts=log, git=GIT)
    gate.record_outcome(gate.check(READ), output="x", deferred=True)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        gate.store.close()
        os._exit(0)
    os.waitpid(pid, 0)
    gate.close()
    assert operations(log) == ["decision", "outcome"]


def test_adapters_follow_the_gates_setting(tmp_path: Path) -> None:
    gate = Gate.open(SAMPLE, receipts=tmp_path / "a.jsonl", git=GIT)
    assert gate.defers_outcomes
    sync = Gate.open(SAMPLE, receipts=tmp_path / "s.jsonl", git=GIT, outcome_receipts="sync")
    assert not sync.defers_outcomes
    with pytest.raises(ValueError):
        Gate.open(SAMPLE, receipts=tmp_path / "x.jsonl", git=GIT, outcome_receipts="later")  # type: ignore[arg-type]
    gate.close()
    sync.close()


def test_memory_store_writes_deferred_outcomes_at_once(tmp_path: Path) -> None:
    from spinegate import MemoryReceiptStore

    store = MemoryReceiptStore()
    gate = Gate.open(SAMPLE, receipts=store, git=GIT)
    gate.record_outcome(gate.check(READ), output="x", deferred=True)
    assert [json.loads(line)["action"]["operation"] for line in store.lines] == ["decision", "outcome"]



@pytest.mark.parametrize("ending", ["return", "exception", "sys.exit"])
def test_an_outcome_deferred_just_before_the_interpreter_exits_is_written(tmp_path: Path, ending: str) -> None:
    """A program that never closes its gate (it returns, raises or exits right after the call) keeps its outcome."""
    import subprocess
    import sys

    log = tmp_path / "r.jsonl"
    script = tmp_path / "agent.py"
    script.write_text(
        "import sys\n"
        "import spinegate.jsonl_store as jsonl_store\n"
        "from spinegate import Gate, ToolCall\n"
        "jsonl_store.DEFER_SECONDS = 60.0  # the writer thread would not get to it before exit\n"
        f"gate = Gate.open({str(SAMPLE)!r}, receipts={str(log)!r}, git={GIT!r})\n"
        "call = ToolCall(plugin='Files', function='Read', arguments={'path': 'a.txt'})\n"
        "gate.record_outcome(gate.check(call), output='x', deferred=True)\n"
        + {"return": "", "exception": "raise RuntimeError('the agent failed')\n", "sys.exit": "sys.exit(3)\n"}[ending],
        encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == {"return": 0, "exception": 1, "sys.exit": 3}[ending], done.stderr
    assert operations(log) == ["decision", "outcome"]
    assert verify_path(log).ok


def test_an_outcome_deferred_by_a_gate_dropped_unclosed_is_written(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import spinegate.jsonl_store as jsonl_store

    monkeypatch.setattr(jsonl_store, "DEFER_SECONDS", 60.0)  # the writer thread would not get to it
    log = tmp_path / "r.jsonl"

    def agent() -> None:
        gate = Gate.open(SAMPLE, receipts=log, git=GIT)
        gate.record_outcome(gate.check(READ), output="x", deferred=True)

    agent()
    gc.collect()
    assert operations(log) == ["decision", "outcome"]
