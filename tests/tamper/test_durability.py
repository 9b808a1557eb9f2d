"""Durability levels: flush (default) or fsync, group commit, and an event loop that never waits on the disk.

fsync calls are counted through a patched `os.fsync`; no test measures time.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tamper_support import GIT, Clock, read_call

from spinegate import Gate, JsonlReceiptStore
from spinegate.errors import ReceiptWriteError
from spinegate.verify import verify_path

REAL_FSYNC = os.fsync


class FsyncProbe:
    """Counts fsyncs; the first one can be held until a condition holds, so that writers pile up."""

    def __init__(self, hold_until: Callable[[], bool] | None = None) -> None:
        self.calls = 0
        self.sizes_at_start: list[int] = []
        self.completed: list[int] = []  # file size each finished fsync covered
        self.hold_until = hold_until
        self.lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        with self.lock:
            self.calls += 1
            first = self.calls == 1
            self.sizes_at_start.append(size)
        if first and self.hold_until is not None:
            for _ in range(5000):  # at most ~5 s, then give up holding (the assertions will say why)
                if self.hold_until():
                    break
                threading.Event().wait(0.001)
        REAL_FSYNC(fd)
        with self.lock:
            self.completed.append(size)


def test_flush_durability_never_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = FsyncProbe()
    monkeypatch.setattr(os, "fsync", probe)
    store = JsonlReceiptStore(tmp_path / "log.jsonl")
    for i in range(10):
        store.append(f'{{"n":{i}}}')
    store.close()
    assert probe.calls == 0


def test_fsync_without_group_commit_pays_one_fsync_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = FsyncProbe()
    monkeypatch.setattr(os, "fsync", probe)
    store = JsonlReceiptStore(tmp_path / "log.jsonl", durability="fsync", group_commit=False)
    threads = [threading.Thread(target=store.append, args=(f'{{"n":{i}}}',)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert probe.calls == 16 and store.fsync_count == 16


def test_group_commit_shares_fsyncs_between_concurrent_writers(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    writers = 16
    store = JsonlReceiptStore(tmp_path / "log.jsonl", durability="fsync")
    probe = FsyncProbe(hold_until=lambda: store._written == writers)
    monkeypatch.setattr(os, "fsync", probe)
    covered: dict[str, int] = {}

    def write(i: int) -> None:
        line = f'{{"writer":{i:03d}}}'
        store.append(line)
        with probe.lock:
            covered[line] = max(probe.completed)  # what was on disk when append returned

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The first leader's fsync is held until every writer has written; one more fsync covers them all.
    assert probe.calls <= 2, probe.calls
    assert store.fsync_count == probe.calls
    # Every append returned only after an fsync that covered its line.
    data = (tmp_path / "log.jsonl").read_bytes()
    for line, size in covered.items():
        end = data.index(line.encode()) + len(line) + 1
        assert size >= end, (line, size, end)


def test_gate_with_fsync_durability_batches_concurrent_checks(tmp_path: Path, manifest_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    threads_n, per_thread = 32, 5
    gate = Gate.open(manifest_path, receipts=tmp_path / "log.jsonl", durability="fsync", clock=Clock(), git=GIT)
    store = gate.store
    probe = FsyncProbe(hold_until=lambda: store._written >= threads_n)  # type: ignore[attr-defined]
    monkeypatch.setattr(os, "fsync", probe)
    results: list[bool] = []

    def work(t: int) -> None:
        for i in range(per_thread):
            results.append(gate.check(read_call(t * 100 + i)).approved)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gate.close()
    assert results.count(True) == threads_n * per_thread
    # 160 durable receipts; the held first fsync alone makes 31 writers share the next one.
    assert probe.calls <= threads_n * per_thread - (threads_n - 2), probe.calls
    report = verify_path(tmp_path / "log.jsonl")
    assert report.ok and report.receipts == threads_n * per_thread


async def test_acheck_never_blocks_the_event_loop_on_fsync(tmp_path: Path, manifest_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """fsync is held until a coroutine on the loop releases it: only possible if the loop keeps running."""
    released = threading.Event()
    seen: list[bool] = []

    def blocking_fsync(fd: int) -> None:
        seen.append(released.wait(timeout=5))
        REAL_FSYNC(fd)

    gate = Gate.open(manifest_path, receipts=tmp_path / "log.jsonl", durability="fsync", clock=Clock(), git=GIT)
    monkeypatch.setattr(os, "fsync", blocking_fsync)

    async def release() -> None:
        while not seen and not released.is_set():
            await asyncio.sleep(0.001)
            released.set()

    decision, _ = await asyncio.gather(gate.acheck(read_call(1)), release())
    outcome = await gate.arecord_outcome(decision, output="ok")
    monkeypatch.setattr(os, "fsync", REAL_FSYNC)
    gate.close()
    assert decision.approved and outcome["result"]["status"] == "success"
    assert seen and all(seen), "fsync ran on the event loop's thread and blocked it"


def test_failed_fsync_refuses_the_call_and_stops_the_store(tmp_path: Path, manifest_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate.open(manifest_path, receipts=tmp_path / "log.jsonl", durability="fsync", clock=Clock(), git=GIT)
    assert gate.check(read_call(0)).approved

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing)
    decision = gate.check(read_call(1))
    assert not decision.approved and decision.reason.startswith("RECEIPT_WRITE_FAILED")
    monkeypatch.setattr(os, "fsync", REAL_FSYNC)
    again = gate.check(read_call(2))  # fail closed: the store stays stopped
    assert not again.approved
    with pytest.raises(ReceiptWriteError):
        gate.store.append("{}")
    gate.store._sync_error = None  # let close() finish cleanly  # type: ignore[attr-defined]
    gate.close()


def test_signed_gate_with_fsync_syncs_the_log_before_each_checkpoint(
        tmp_path: Path, manifest_path: Path, keypair: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    synced: list[tuple[str, int, int]] = []  # (file, its size, the log's size) at each fsync

    def tracking(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size, os.path.getsize(log)))
        REAL_FSYNC(fd)

    monkeypatch.setattr(os, "fsync", tracking)
    with Gate.open(manifest_path, receipts=log, durability="fsync", signing_key=keypair[0], checkpoint_every=2,
                   clock=Clock(), git=GIT) as gate:
        for i in range(4):
            gate.check(read_call(i))
    sidecar = str(log) + ".checkpoints.jsonl"
    for k, (path, _, log_size) in enumerate(synced):
        if path == sidecar:  # every receipt a checkpoint covers was on disk before the checkpoint
            assert max((size for p, size, _ in synced[:k] if p == str(log)), default=0) == log_size
    assert sum(1 for p, _, _ in synced if p == sidecar) == 4  # opening (seq 0), seq 2, seq 4, final


def _run_threads(targets: list[Callable[[], None]], timeout: float = 10) -> list[BaseException | None]:
    """Run each target in its own thread; their outcomes (None or the exception), failing on a hang."""
    outcomes: list[BaseException | None] = [None] * len(targets)

    def run(k: int) -> None:
        try:
            targets[k]()
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertions
            outcomes[k] = exc

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a writer hung waiting for an fsync"
    return outcomes


def _await_fsync_running(store: JsonlReceiptStore) -> None:
    """Wait (at most ~5 s) until the store's leader has an fsync running."""
    for _ in range(5000):
        if store._syncing:  # type: ignore[attr-defined]
            return
        threading.Event().wait(0.001)


def test_a_line_already_on_disk_needs_no_further_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = FsyncProbe()
    monkeypatch.setattr(os, "fsync", probe)
    store = JsonlReceiptStore(tmp_path / "log.jsonl", durability="fsync")
    first, second = store.write('{"n":1}'), store.write('{"n":2}')
    store.sync(second)  # leads one fsync that covers both lines
    store.sync(first)  # already covered: returns without touching the disk
    assert probe.calls == 1
    store.sync(store.write('{"n":3}'))  # a new line needs a new fsync
    assert probe.calls == 2 and probe.completed[-1] == (tmp_path / "log.jsonl").stat().st_size
    store.close()


def test_waiters_covered_by_the_running_fsync_share_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines written before an fsync started wait for that fsync instead of starting their own."""
    store = JsonlReceiptStore(tmp_path / "log.jsonl", durability="fsync")
    tickets = [store.write(f'{{"n":{i}}}') for i in range(5)]
    entered: list[int] = []
    # Held until the four followers are inside `sync` and at least one waits on the running fsync.
    probe = FsyncProbe(hold_until=lambda: len(entered) == 4 and store._running is not None)
    monkeypatch.setattr(os, "fsync", probe)

    def follower(ticket: int) -> Callable[[], None]:
        def run() -> None:
            _await_fsync_running(store)  # the leader's fsync must be running first
            entered.append(ticket)
            store.sync(ticket)
        return run

    outcomes = _run_threads([lambda: store.sync(tickets[-1])] + [follower(t) for t in tickets[:-1]])
    assert outcomes == [None] * 5
    assert probe.calls == 1, probe.calls  # the leader's single fsync covered all five lines
    assert probe.completed == [(tmp_path / "log.jsonl").stat().st_size]
    store.close()


def test_a_failed_fsync_fails_covered_and_queued_waiters_alike(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiters on the failing fsync and waiters queued for the next one all fail; nobody retries or hangs."""
    store = JsonlReceiptStore(tmp_path / "log.jsonl", durability="fsync")
    first = store.write('{"n":0}')
    queued: list[int] = []
    entered: list[int] = []
    calls: list[int] = []

    def failing(fd: int) -> None:
        calls.append(fd)
        for _ in range(5000):  # hold until waiters sit on both this fsync and the next one
            if len(entered) == 6 and store._running is not None and store._next is not None:
                break
            threading.Event().wait(0.001)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing)

    def waiter(ticket: Callable[[], int]) -> Callable[[], None]:
        def run() -> None:
            _await_fsync_running(store)
            t = ticket()
            entered.append(t)
            store.sync(t)
        return run

    def later_line() -> int:
        t = store.write('{"n":"later"}')  # written after the fsync started: needs the next one
        queued.append(t)
        return t

    outcomes = _run_threads([lambda: store.sync(first)] + [waiter(lambda: first)] * 2 + [waiter(later_line)] * 4)
    assert all(isinstance(o, ReceiptWriteError) for o in outcomes), outcomes
    assert len(calls) == 1 and len(queued) == 4  # the queued waiters' leader did not fsync after the failure
    with pytest.raises(ReceiptWriteError):
        store.append('{"n":"after"}')  # the store stays stopped
    store._sync_error = None  # let close() finish cleanly  # type: ignore[attr-defined]
    monkeypatch.setattr(os, "fsync", REAL_FSYNC)
    store.close()


def test_every_append_returns_after_an_fsync_that_covers_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many rounds of concurrent appends, so that leadership passes between waiters again and again."""
    writers, rounds = 12, 25
    store = JsonlReceiptStore(tmp_path / "log.jsonl", durability="fsync")
    probe = FsyncProbe()
    monkeypatch.setattr(os, "fsync", probe)
    covered: dict[str, int] = {}

    def write(i: int) -> Callable[[], None]:
        def run() -> None:
            for r in range(rounds):
                line = f'{{"w":{i:02d},"r":{r:02d}}}'
                store.append(line)
                with probe.lock:
                    covered[line] = max(probe.completed)
        return run

    assert _run_threads([write(i) for i in range(writers)]) == [None] * writers
    store.close()
    data = (tmp_path / "log.jsonl").read_bytes()
    assert len(covered) == writers * rounds and data.count(b"\n") == writers * rounds
    for line, size in covered.items():
        assert size >= data.index(line.encode()) + len(line) + 1, line
    assert store.fsync_count == probe.calls <= writers * rounds
