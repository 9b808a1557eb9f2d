"""The receipt store interface: what every store must do, run against each store spinegate ships.

A new store (a PostgreSQL ledger, a native file writer) adds its factory to
STORES and must pass the same tests; the gate does not change. The
PostgreSQL ledger runs on the session's throwaway server (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from core_support import GIT

from spinegate import Gate, JsonlReceiptStore, MemoryReceiptStore, ReceiptStore, ToolCall
from spinegate import jsonl_store as jsonl_module
from spinegate.keys import write_keypair
from spinegate.receipt_body import seal
from spinegate.receipts import Receipt


def _postgres(tmp: Path, request: pytest.FixtureRequest) -> Any:
    from spinegate.postgres_store import PostgresReceiptStore

    return PostgresReceiptStore(request.getfixturevalue("ledger"))  # one database per test, the same on reopening


STORES: dict[str, Callable[[Path, pytest.FixtureRequest], Any]] = {
    "jsonl": lambda tmp, request: JsonlReceiptStore(tmp / "r.jsonl"),
    "jsonl-fsync": lambda tmp, request: JsonlReceiptStore(tmp / "r.jsonl", durability="fsync"),
    "memory": lambda tmp, request: MemoryReceiptStore(),
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    s = STORES[request.param](tmp_path, request)
    yield s
    s.close()


def _receipt(session: str, seq: int, previous: str | None) -> Receipt:
    body = {
        "receipt_id": f"00000000-0000-4000-8000-{seq:012d}", "session_id": session, "proposal_id": f"p{seq}",
        "sequence_number": seq, "timestamp": "2026-05-01T12:00:00.000000+00:00",
        "executor": {"type": "test", "model": "m", "instance_id": "i"},
        "action": {"tool": "Files.Read", "operation": "decision", "effect_class": "SHELL_SAFE", "risk_delta": 0.01,
                   "description": "approved", "command": None, "target_paths": [], "reversibility": "REVERSIBLE"},
        "result": {"status": "success", "exit_code": None, "blocked_by": None, "diff_hash": None,
                   "files_created": [], "files_modified": [], "files_deleted": [], "stdout_truncated": None},
        "budget_snapshot": {"steps_used": seq, "steps_remaining": 10, "commands_used": 0, "writes_used": 0,
                            "files_touched": 0, "runtime_elapsed_seconds": 0.0, "session_risk_score": 0.0,
                            "current_posture": "NORMAL"},
        "git_context": dict(GIT),
    }
    return seal(body, previous)


def _chain(session: str, n: int) -> list[Receipt]:
    out: list[Receipt] = []
    for seq in range(1, n + 1):
        out.append(_receipt(session, seq, out[-1].receipt_hash if out else None))
    return out


def test_it_is_a_receipt_store(store: Any) -> None:
    assert isinstance(store, ReceiptStore)
    assert isinstance(store.location, str) and store.durability in ("flush", "fsync")


def test_receipts_go_in_and_come_back_in_order(store: Any) -> None:
    a, b = _chain("aaaaaaaaaaaa", 3), _chain("bbbbbbbbbbbb", 2)
    for r in (a[0], b[0], a[1], b[1], a[2]):
        store.sync(store.write_receipt(r))
    assert store.last_receipt("aaaaaaaaaaaa") == a[2].to_dict()
    assert store.last_receipt("bbbbbbbbbbbb") == b[1].to_dict()
    assert store.last_receipt("nobody") is None
    got = list(store.session_receipts("aaaaaaaaaaaa"))
    assert [r.data for r in got] == [r.to_dict() for r in a]
    assert [r.text for r in got] == [r.to_json() for r in a]  # exactly what was stored
    assert [r.position for r in got] == sorted(r.position for r in got)
    assert [r.data["receipt_id"] for r in store.all_receipts()] == \
        [r.receipt_id for r in (a[0], b[0], a[1], b[1], a[2])]


def test_checkpoints_go_in_and_come_back(store: Any) -> None:
    store.sync(store.write_receipt(_chain("aaaaaaaaaaaa", 1)[0]))
    # the fields every checkpoint has, which a store may index
    checkpoints = [{"session_id": sid, "index": i, "sequence_number": i - 1, "key_id": "k" * 64}
                   for sid, i in (("aaaaaaaaaaaa", 1), ("bbbbbbbbbbbb", 1), ("aaaaaaaaaaaa", 2))]
    for cp in checkpoints:
        store.write_checkpoint(cp, json.dumps(cp, sort_keys=True, separators=(",", ":")))
    assert [r.data for r in store.session_checkpoints("aaaaaaaaaaaa")] == [checkpoints[0], checkpoints[2]]
    assert [r.data for r in store.all_checkpoints()] == checkpoints


def test_close_is_idempotent(store: Any) -> None:
    store.close()
    store.close()


@pytest.mark.parametrize("name", sorted(STORES))
def test_a_gate_runs_on_the_store_signed_and_continues_its_session(name: str, tmp_path: Path,
                                                                    write_manifest: Callable[..., Path],
                                                                    request: pytest.FixtureRequest) -> None:
    store = STORES[name](tmp_path, request)
    priv, _, _ = write_keypair(tmp_path / "k")
    manifest = write_manifest()
    call = ToolCall(plugin="Files", function="Read", arguments={"path": "a"})
    gate = Gate.open(manifest, receipts=store, git=GIT, signing_key=priv, checkpoint_every=2)
    for _ in range(3):
        gate.record_outcome(gate.check(call), output="x")
    sid = gate.session_id
    gate.close()
    reopened = STORES[name](tmp_path, request) if name != "memory" else store
    again = Gate.open(manifest, receipts=reopened, git=GIT, session_id=sid, signing_key=priv, checkpoint_every=2)
    assert again.check(call).receipt["sequence_number"] == 7  # type: ignore[index]
    again.close()
    assert [r.data["sequence_number"] for r in reopened.session_receipts(sid)] == list(range(1, 8))
    assert [r.data["final"] for r in reopened.session_checkpoints(sid)][-1] is True


# -- opening for a new session reads only the log's tail ------------------------------------------------


class _CountingFile:
    """A file object that counts the bytes read through it."""

    def __init__(self, fh: Any, counter: list[int]) -> None:
        self._fh, self._counter = fh, counter

    def read(self, *args: Any) -> bytes:
        data: bytes = self._fh.read(*args)
        self._counter[0] += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data: bytes = self._fh.readline(*args)
        self._counter[0] += len(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        for line in self._fh:
            self._counter[0] += len(line)
            yield line

    def __enter__(self) -> _CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


def _bytes_read_opening(log: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    counter = [0]
    real_open, real_pread = open, os.pread

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        return _CountingFile(real_open(path, *args, **kwargs), counter)

    def counting_pread(fd: int, n: int, offset: int) -> bytes:
        data = real_pread(fd, n, offset)
        counter[0] += len(data)
        return data

    monkeypatch.setattr(jsonl_module, "open", counting_open, raising=False)
    monkeypatch.setattr(os, "pread", counting_pread)
    with Gate.open(manifest, receipts=log, git=GIT) as gate:  # a new session
        assert gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": "a"})).approved
    monkeypatch.undo()
    return counter[0]


def test_opening_a_new_session_reads_only_the_tail(tmp_path: Path, write_manifest: Callable[..., Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = write_manifest()
    line = (_chain("cccccccccccc", 1)[0].to_json() + "\n").encode("ascii")
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_bytes(line * 10)
    large.write_bytes(line * 20_000)  # about 20 MB
    read_small = _bytes_read_opening(small, manifest, monkeypatch)
    read_large = _bytes_read_opening(large, manifest, monkeypatch)
    assert read_large == read_small <= 64 * 1024
    assert large.stat().st_size > 1000 * read_large  # the large log was not read


def test_the_reading_is_seen(tmp_path: Path, write_manifest: Callable[..., Path],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The counter can see reading: continuing a named session reads the whole log."""
    manifest = write_manifest()
    log = tmp_path / "r.jsonl"
    with Gate.open(manifest, receipts=log, git=GIT) as gate:
        for _ in range(50):
            gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": "a"}))
        sid = gate.session_id
    counter = [0]
    real_open = open
    monkeypatch.setattr(jsonl_module, "open", lambda p, *a, **k: _CountingFile(real_open(p, *a, **k), counter),
                        raising=False)
    with Gate.open(manifest, receipts=log, git=GIT, session_id=sid):
        pass
    assert counter[0] >= log.stat().st_size
