"""The JSONL store: append-only, concurrent writers, resuming, torn tails (issue item 5)."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from core_support import GIT, is_canonical, read_lines

from spinegate import Gate, JsonlReceiptStore, ToolCall, TornLogError
from spinegate.cli import main as cli
from spinegate.verify import verify_path

CALLS = [ToolCall(plugin="Files", function="Read", arguments={"i": 0}),
         ToolCall(plugin="Files", function="Delete", arguments={}),
         ToolCall(plugin="Web", function="Fetch", arguments={"url": "http://127.0.0.1/"}),
         ToolCall(plugin="Nope", function="Nope", arguments={})]


def assert_one_clean_chain(path: Path, session_id: str, count: int) -> list[dict[str, Any]]:
    """Every line whole and canonical; the session's sequence 1..count in file order, linked."""
    lines = read_lines(path)
    mine = [json.loads(line) for line in lines if json.loads(line)["session_id"] == session_id]
    assert all(is_canonical(line) for line in lines)
    assert [r["sequence_number"] for r in mine] == list(range(1, count + 1))
    previous = None
    for r in mine:
        assert r["previous_receipt_hash"] == previous
        previous = r["receipt_hash"]
    return mine


# -- append-only ----------------------------------------------------------------------------------------------


def test_log_is_only_ever_appended(make_gate: Any, tmp_path: Path) -> None:
    log = tmp_path / "receipts.jsonl"
    g1 = make_gate(log=log)
    for c in CALLS:
        g1.check(c)
    g1.close()
    before = log.read_bytes()
    g2 = make_gate(log=log)
    d = g2.check(CALLS[0])
    g2.record_outcome(d, output="ok")
    after = log.read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    assert after.count(b"\n") == len(CALLS) + 2


def test_new_gate_on_existing_log_starts_a_new_session_chain(make_gate: Any, tmp_path: Path) -> None:
    log = tmp_path / "receipts.jsonl"
    g1 = make_gate(log=log)
    for c in CALLS:
        g1.check(c)
    g1.close()
    g2 = make_gate(log=log)
    assert g2.session_id != g1.session_id
    d = g2.check(CALLS[0])
    assert d.receipt is not None
    assert d.receipt["sequence_number"] == 1 and d.receipt["previous_receipt_hash"] is None
    report = verify_path(log)
    assert report.ok and (report.receipts, report.sessions) == (5, 2)


def test_open_with_existing_session_id_continues_the_chain(make_gate: Any, tmp_path: Path,
                                                           monotonic: Any) -> None:
    log = tmp_path / "receipts.jsonl"
    g1 = make_gate(log=log, max_steps=10)
    for c in CALLS:
        g1.check(c)
    monotonic.t += 5
    last = g1.check(CALLS[0]).receipt
    g1.close()
    before = log.read_bytes()
    g2 = make_gate(log=log, session_id=g1.session_id, max_steps=10)
    assert g2.session_id == g1.session_id
    d = g2.check(CALLS[0])
    assert d.receipt is not None and last is not None
    assert d.receipt["sequence_number"] == last["sequence_number"] + 1
    assert d.receipt["previous_receipt_hash"] == last["receipt_hash"]
    snap = d.receipt["budget_snapshot"]
    assert snap["steps_used"] == 6 and snap["steps_remaining"] == 4
    assert snap["session_risk_score"] == last["budget_snapshot"]["session_risk_score"]
    assert snap["runtime_elapsed_seconds"] >= last["budget_snapshot"]["runtime_elapsed_seconds"]
    assert log.read_bytes().startswith(before)
    assert_one_clean_chain(log, g1.session_id, 6)
    report = verify_path(log)
    assert report.ok and report.sessions == 1


def test_open_with_unknown_session_id_starts_it_at_one(make_gate: Any, tmp_path: Path) -> None:
    gate = make_gate(session_id="0123456789ab")
    d = gate.check(CALLS[0])
    assert d.receipt is not None
    assert (d.receipt["session_id"], d.receipt["sequence_number"]) == ("0123456789ab", 1)


def test_continuing_two_sessions_alternately(make_gate: Any, tmp_path: Path) -> None:
    log = tmp_path / "receipts.jsonl"
    a = make_gate(log=log)
    b = make_gate(log=log)
    for _ in range(3):
        a.check(CALLS[0])
        b.check(CALLS[1])
    a.close()
    a2 = make_gate(log=log, session_id=a.session_id)
    a2.check(CALLS[2])
    b.check(CALLS[0])
    assert_one_clean_chain(log, a.session_id, 4)
    assert_one_clean_chain(log, b.session_id, 4)


# -- concurrency ------------------------------------------------------------------------------------------------


def test_threads_share_one_gate(make_gate: Any, tmp_path: Path) -> None:
    gate = make_gate()
    n_threads, per_thread = 8, 20
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                d = gate.check(CALLS[(k + i) % len(CALLS)])
                if d.approved and i % 3 == 0:
                    gate.record_outcome(d, output=f"thread {k} call {i} " + "x" * 300)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    lines = read_lines(Path(gate.store.location))
    assert len(lines) >= n_threads * per_thread
    assert_one_clean_chain(Path(gate.store.location), gate.session_id, len(lines))
    assert json.loads(lines[-1])["budget_snapshot"]["steps_used"] == n_threads * per_thread


def test_a_hundred_threads_at_once(make_gate: Any) -> None:
    """120 threads released together, each checking and recording: one clean chain, counters equal to receipts."""
    gate = make_gate()
    n = 120
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            barrier.wait()
            d = gate.check(CALLS[k % len(CALLS)])
            if d.approved:
                gate.record_outcome(d, output=f"call {k}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    log = Path(gate.store.location)
    mine = assert_one_clean_chain(log, gate.session_id, len(read_lines(log)))
    decisions = [r for r in mine if r["action"]["operation"] == "decision"]
    assert len(decisions) == n and mine[-1]["budget_snapshot"]["steps_used"] == n
    assert gate.budget()["steps_used"] == n


def test_threads_with_several_gates_on_one_log(make_gate: Any, tmp_path: Path) -> None:
    log = tmp_path / "shared.jsonl"
    gates = [make_gate(log=log) for _ in range(4)]
    per_gate, threads_per_gate = 15, 2
    barrier = threading.Barrier(len(gates) * threads_per_gate)

    def worker(g: Gate, k: int) -> None:
        barrier.wait()
        for i in range(per_gate):
            g.check(CALLS[(k + i) % len(CALLS)])

    threads = [threading.Thread(target=worker, args=(g, k)) for g in gates for k in range(threads_per_gate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in gates:
        assert_one_clean_chain(log, g.session_id, per_gate * threads_per_gate)
    report = verify_path(log)
    assert report.ok and report.receipts == 120 and report.sessions == 4


@pytest.mark.parametrize("durability", ["flush", "fsync"])
async def test_asyncio_tasks(make_gate: Any, durability: str) -> None:
    gate = make_gate(durability=durability)
    n = 150

    async def one(i: int) -> Any:
        await asyncio.sleep(0)
        if i % 5 == 0:  # some from worker threads too, sharing the loop's gate
            return await asyncio.to_thread(gate.check, CALLS[i % len(CALLS)])
        return await gate.acheck(CALLS[i % len(CALLS)])

    decisions = await asyncio.gather(*(one(i) for i in range(n)))
    seqs = sorted(d.receipt["sequence_number"] for d in decisions)
    assert seqs == list(range(1, n + 1))
    assert_one_clean_chain(Path(gate.store.location), gate.session_id, n)


def test_fsync_durability_with_threads(make_gate: Any) -> None:
    gate = make_gate(durability="fsync")
    threads = [threading.Thread(target=lambda: [gate.check(CALLS[0]) for _ in range(15)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_one_clean_chain(Path(gate.store.location), gate.session_id, 120)


def _process_worker(manifest: str, log: str, n: int, queue: Any) -> None:
    gate = Gate.open(manifest, receipts=log, git=GIT)
    for i in range(n):
        gate.check(CALLS[i % len(CALLS)])
    gate.close()
    queue.put(gate.session_id)


def test_processes_sharing_a_log(write_manifest: Callable[..., Path], tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    manifest, log = write_manifest(), tmp_path / "multi.jsonl"
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(str(manifest), str(log), 40, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    sessions = [queue.get(timeout=5) for _ in procs]
    for sid in sessions:
        assert_one_clean_chain(log, sid, 40)
    assert verify_path(log).ok


# -- torn tails ------------------------------------------------------------------------------------------------


def _torn_log(make_gate: Any, tmp_path: Path) -> tuple[Path, bytes, Gate]:
    log = tmp_path / "receipts.jsonl"
    gate = make_gate(log=log)
    for c in CALLS:
        gate.check(c)
    gate.close()
    whole = log.read_bytes()
    last = whole.splitlines(keepends=True)[-1]
    with open(log, "ab") as fh:
        fh.write(last[: len(last) // 2])  # a crash mid-write
    make_gate.expect_broken(log)
    return log, log.read_bytes(), gate


def test_torn_tail_is_detected_at_open_and_nothing_is_written(make_gate: Any, tmp_path: Path) -> None:
    log, before, gate = _torn_log(make_gate, tmp_path)
    with pytest.raises(TornLogError) as info:
        make_gate(log=log)
    text = str(info.value)
    assert str(log) in text and "line 5" in text and "spinegate recover" in text
    with pytest.raises(TornLogError):
        make_gate(log=log, session_id=gate.session_id)
    with pytest.raises(TornLogError):
        JsonlReceiptStore(log)
    assert log.read_bytes() == before


def test_torn_tail_left_by_another_writer_is_never_glued(make_gate: Any, tmp_path: Path) -> None:
    log = tmp_path / "receipts.jsonl"
    gate = make_gate(log=log)
    gate.check(CALLS[0])
    with open(log, "ab") as fh:
        fh.write(b'{"action":{"com')  # another process died mid-line
    make_gate.expect_broken(log)
    before = log.read_bytes()
    d = gate.check(CALLS[0])
    assert not d.approved and d.reason is not None and d.reason.startswith("RECEIPT_WRITE_FAILED")
    assert "torn" in d.reason and "spinegate recover" in d.reason
    assert not gate.check(CALLS[0]).approved  # and it stays refused
    assert log.read_bytes() == before


def test_recover_moves_the_fragment_aside_and_writing_resumes(make_gate: Any, tmp_path: Path) -> None:
    log, before, gate = _torn_log(make_gate, tmp_path)
    whole_prefix = before[: before.rfind(b"\n") + 1]
    fragment = before[len(whole_prefix):]
    result = CliRunner().invoke(cli, ["recover", str(log)])
    assert result.exit_code == 0, result.output
    assert log.read_bytes() == whole_prefix
    sides = list(tmp_path.glob("receipts.jsonl.torn-*"))
    assert len(sides) == 1 and sides[0].read_bytes() == fragment
    g2 = make_gate(log=log, session_id=gate.session_id)
    d = g2.check(CALLS[0])
    assert d.receipt is not None and d.receipt["sequence_number"] == len(CALLS) + 1  # the fragment never counted
    assert verify_path(log).ok
    again = CliRunner().invoke(cli, ["recover", str(log)])
    assert again.exit_code == 0 and "nothing to recover" in again.output


def test_empty_and_missing_logs_open_cleanly(make_gate: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    d = make_gate(log=empty).check(CALLS[0])
    assert d.receipt is not None and d.receipt["sequence_number"] == 1
    g = make_gate(log=tmp_path / "new.jsonl")
    assert g.check(CALLS[0]).receipt is not None


def test_continued_session_keeps_per_tool_counts(make_gate: Any, write_manifest: Callable[..., Path],
                                                 tmp_path: Path) -> None:
    from core_support import entry

    manifest = write_manifest([entry("Web", "Fetch", "NETWORK_ATTEMPT", max_calls=3),
                               entry(None, "search", "SHELL_SAFE", max_calls=1)])
    log = tmp_path / "receipts.jsonl"
    g1 = make_gate(manifest, log=log)
    assert [g1.check(ToolCall(plugin="Web", function="Fetch")).approved for _ in range(2)] == [True, True]
    assert g1.check(ToolCall(function="search")).approved
    g1.close()
    g2 = make_gate(manifest, log=log, session_id=g1.session_id)
    assert g2.check(ToolCall(plugin="Web", function="Fetch")).approved
    assert g2.check(ToolCall(plugin="Web", function="Fetch")).reason == "MAX_CALLS_EXCEEDED"
    assert g2.check(ToolCall(function="search")).reason == "MAX_CALLS_EXCEEDED"
    g3 = make_gate(manifest, log=log)  # a new session starts its own counts
    assert g3.check(ToolCall(plugin="Web", function="Fetch")).approved
