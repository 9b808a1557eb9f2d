"""The JSONL store's single-writer fast path: the lock kept while alone, let go when another writer knocks.

See `spinegate.log_lock` for the protocol. These tests use real locks
(flock), real file watching and, for the second writer, real processes.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import spinegate.log_lock as log_lock
from spinegate.errors import ReceiptWriteError
from spinegate.jsonl_store import JsonlFile, JsonlReceiptStore
from spinegate.verify import verify_path
from spinegate.watch import watcher_kind


@pytest.fixture(autouse=True)
def _watching() -> None:
    if watcher_kind() == "none":
        pytest.skip("no file watcher on this platform: every append takes the lock")


def locked_by_someone(path: Path) -> bool:
    """True when another descriptor holds the log's lock (tried without waiting, and without knocking)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def line(n: int, who: str = "a") -> str:
    return json.dumps({"n": n, "who": who, "pad": "x" * 200}, separators=(",", ":"))


def in_thread(fn: Any, timeout: float = 10.0) -> None:
    """Run `fn` on a thread; fail (instead of hanging the suite) if it does not finish in time."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "the writer is still waiting for the lock"
    if errors:
        raise errors[0]


def test_a_lone_writer_keeps_the_lock(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    store = JsonlFile(log)
    assert not store.only_writer  # nothing written yet: the lock is not taken at open
    store.append(line(1))
    assert store.only_writer and locked_by_someone(log)
    for n in range(2, 50):
        store.append(line(n))
    store.close()
    assert not locked_by_someone(log)  # closing the descriptor lets the lock go
    assert [json.loads(x)["n"] for x in log.read_text().splitlines()] == list(range(1, 50))


def test_a_second_writer_knocks_and_gets_in(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    first, second = JsonlFile(log), JsonlFile(log)
    first.append(line(1))
    assert first.only_writer
    in_thread(lambda: second.append(line(2, "b")))  # knocks; the first lets go
    assert not first.only_writer
    first.append(line(3))  # now a lock per append, and the end of the file checked each time
    assert not first.only_writer  # a writer was heard lately: the lock is not kept again yet
    second.append(line(4, "b"))
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(r["n"], r["who"]) for r in rows] == [(1, "a"), (2, "b"), (3, "a"), (4, "b")]
    second.close()
    # Quiet long enough since the last knock: the next append keeps the lock again.
    assert first._writer is not None
    first._writer._heard -= log_lock.QUIET_SECONDS
    first.append(line(5))
    assert first.only_writer
    first.close()


def test_a_writer_whose_watcher_stopped_no_longer_keeps_the_lock(tmp_path: Path) -> None:
    """Kept on the word of a watcher that no longer listens, the lock would shut other writers out until close."""
    log = tmp_path / "r.jsonl"
    first, second = JsonlFile(log), JsonlFile(log)
    first.append(line(1))
    assert first.only_writer and first._writer is not None and first._writer._watch is not None
    watch = first._writer._watch
    watch._owner = None  # what a stopped watcher leaves behind: the watch is no longer active...
    watch.fire()  # ...and every flag raised, which lets the lock go
    assert not first.only_writer
    first._writer._heard -= log_lock.QUIET_SECONDS  # long quiet since: only the stopped watcher forbids keeping it
    first.append(line(2))
    assert not first.only_writer and not locked_by_someone(log)  # a lock per append from now on
    in_thread(lambda: second.append(line(3, "b")), timeout=10)
    assert len(log.read_text().splitlines()) == 3
    first.close()
    second.close()


def test_an_idle_holder_lets_a_waiting_writer_in(tmp_path: Path) -> None:
    """The holder does not need to write again to let go: its watcher thread does it."""
    log = tmp_path / "r.jsonl"
    first, second = JsonlFile(log), JsonlFile(log)
    first.append(line(1))
    assert first.only_writer
    started = time.perf_counter()
    in_thread(lambda: [second.append(line(n, "b")) for n in range(2, 12)], timeout=10)
    assert time.perf_counter() - started < 5
    assert len(log.read_text().splitlines()) == 11
    first.close()
    second.close()


WRITER = r"""
import json, sys
from spinegate.jsonl_store import JsonlFile
store = JsonlFile(sys.argv[1])
for n in range(int(sys.argv[2])):
    store.append(json.dumps({"n": n, "who": "child", "pad": "y" * 200}, separators=(",", ":")))
store.close()
"""


def test_a_second_process_gets_in_and_nothing_interleaves(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    first = JsonlFile(log)
    first.append(line(0))
    assert first.only_writer
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(log), "300"], env=env, stderr=subprocess.PIPE,
                             text=True)
    n = 1
    while child.poll() is None and n < 5000:
        first.append(line(n))
        n += 1
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    first.close()
    rows = [json.loads(x) for x in log.read_text().splitlines()]  # every line whole
    assert sum(r["who"] == "child" for r in rows) == 300
    assert [r["n"] for r in rows if r["who"] == "a"] == list(range(n))


def test_a_forked_child_writes_through_its_own_descriptor(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    store = JsonlFile(log)
    store.append(line(1))
    assert store.only_writer
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: the inherited descriptor shares the parent's lock
        try:
            assert not store.only_writer
            store.append(line(2, "child"))
            store.close()
        finally:
            os._exit(0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait without holding the GIL-heavy loop: the watcher must run
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, 9)
        raise AssertionError("the child could not get the lock")
    assert os.waitstatus_to_exitcode(status) == 0
    store.append(line(3))
    store.close()
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(r["n"], r["who"]) for r in rows] == [(1, "a"), (2, "child"), (3, "a")]


def test_without_a_watcher_every_append_takes_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_lock, "watch_file", lambda *a, **k: None)
    store = JsonlFile(tmp_path / "r.jsonl")
    for n in range(5):
        store.append(line(n))
        assert not store.only_writer and not locked_by_someone(tmp_path / "r.jsonl")
    store.close()


def test_single_writer_off(tmp_path: Path) -> None:
    store = JsonlFile(tmp_path / "r.jsonl", single_writer=False)
    store.append(line(1))
    assert not store.only_writer
    store.close()


def test_the_checkpoint_sidecar_takes_the_lock_per_line(tmp_path: Path) -> None:
    store = JsonlReceiptStore(tmp_path / "r.jsonl")
    store.write_checkpoint({}, '{"checkpoint":1}')
    assert store._checkpoint_file is not None and not store._checkpoint_file.only_writer
    store.close()


def test_gates_in_two_processes_keep_valid_chains(tmp_path: Path) -> None:
    """End to end: two gates, each alone at times and contending at others, one valid log."""
    from spinegate import Gate, ToolCall

    manifest = Path(__file__).resolve().parents[2] / "samples" / "manifest.json"
    log = tmp_path / "shared.jsonl"
    git = {"branch": "main", "commit_before": None, "commit_after": None}
    script = r"""
import sys
from spinegate import Gate, ToolCall
gate = Gate.open(sys.argv[1], receipts=sys.argv[2], git={"branch": "main", "commit_before": None, "commit_after": None})
for i in range(400):
    assert gate.check(ToolCall(plugin="Files", function="Read", arguments={"i": i})).approved
gate.close()
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    gate = Gate.open(manifest, receipts=log, git=git)
    child = subprocess.Popen([sys.executable, "-c", script, str(manifest), str(log)], env=env,
                             stderr=subprocess.PIPE, text=True)
    for i in range(400):
        assert gate.check(ToolCall(plugin="Files", function="Read", arguments={"i": i})).approved
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    gate.close()
    report = verify_path(log)
    assert report.ok and report.receipts == 800 and report.sessions == 2


def test_a_knock_heard_while_the_holder_decides_to_keep_the_lock_is_not_lost(tmp_path: Path) -> None:
    """The knock lands after `end()` found the log quiet and before it keeps the lock: the lock must still go.

    The watcher thread's callback runs at that very point (the interpreter may switch threads between
    any two bytecodes); had it read `held` as False and returned, the holder would keep the lock with
    the knocker blocked in flock until the holder's next knock or close.
    """
    log = tmp_path / "r.jsonl"
    log.write_text("")
    knocker: list[threading.Thread] = []

    class Racing(log_lock.WriterLock):
        @property  # type: ignore[override]
        def held(self) -> bool:
            return bool(self.__dict__.get("_held_now", False))

        @held.setter
        def held(self, value: bool) -> None:
            if value and not knocker:  # end() decided to keep the lock: the knock arrives now
                t = threading.Thread(target=self._knocked, daemon=True)
                knocker.append(t)
                t.start()
                t.join(0.3)  # as far as it gets while end() is still deciding
            self.__dict__["_held_now"] = value

    fd = os.open(log, os.O_RDWR | os.O_APPEND)
    mutex = threading.Lock()
    writer = Racing(fd, str(log), mutex)
    try:
        with mutex:
            writer.begin()
            writer.end()
        assert knocker, "end() did not keep the lock"
        knocker[0].join(5)
        assert not knocker[0].is_alive()
        assert not writer.held and not locked_by_someone(log), "the knock was lost: the lock is still kept"
    finally:
        writer.forget()
        os.close(fd)


@pytest.mark.parametrize("single_writer", [True, False])
def test_a_log_deleted_under_its_writer_stops_the_writes(tmp_path: Path, single_writer: bool) -> None:
    """Lines appended to a deleted log reach no file anyone can read: refused, so the gate denies."""
    log = tmp_path / "r.jsonl"
    store = JsonlFile(log, single_writer=single_writer)
    store.append(line(1))
    assert store.only_writer is single_writer
    log.unlink()
    deadline = time.monotonic() + 5
    while store.only_writer:  # the watcher hears the unlink (the link count is an attribute)
        assert time.monotonic() < deadline, "the deletion was not heard"
        time.sleep(0.001)
    with pytest.raises(ReceiptWriteError, match="deleted"):
        store.append(line(2))
    store.close()
