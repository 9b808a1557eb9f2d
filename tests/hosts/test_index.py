"""The session index: continuing a session never reads the whole log, even a log of a million receipts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from hosts_support import decision, init_project, post, pre, receipts
from spinegate import Gate, ToolCall
from spinegate.helper.index import IndexedStore, SessionIndex, open_indexed
from spinegate.helper.layout import ProjectLayout
from spinegate.hosts.service import HookService
from spinegate.jsonl_store import JsonlReceiptStore
from spinegate.verify import verify_path

MANIFEST = Path(__file__).resolve().parents[2] / "samples" / "manifest.json"
NO_GIT: dict[str, str | None] = {"branch": "", "commit_before": None, "commit_after": None}
#: Receipts of other sessions put in the log directly (not through a gate): what a busy project accumulates.
BULK = 1_000_000


def other_sessions(path: Path, count: int) -> None:
    """Append `count` receipt-shaped lines of other sessions, quickly (a few bytes each, one write per block)."""
    block = b"".join(b'{"receipt_id":"x","session_id":"other-%d","sequence_number":1}\n' % (n % 997)
                     for n in range(10_000))
    with open(path, "ab") as fh:
        for _ in range(count // 10_000):
            fh.write(block)


def refuse_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every whole-log read of the JSONL store fail the test."""
    def scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the whole log was read")

    monkeypatch.setattr(JsonlReceiptStore, "last_receipt", scan)
    monkeypatch.setattr(JsonlReceiptStore, "session_receipts", scan)


def test_the_index_answers_as_the_log_does(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    store = open_indexed(str(log), str(tmp_path / "index"))
    for n in range(3):
        for session in ("a", "b"):
            with Gate.open(MANIFEST, receipts=store, session_id=session, git=NO_GIT) as gate:
                gate.check(ToolCall("search", arguments={"n": n}))
    plain = JsonlReceiptStore(log)
    try:
        for session in ("a", "b", "nobody"):
            assert store.last_receipt(session) == plain.last_receipt(session)
            assert [r.data for r in store.session_receipts(session)] == [r.data for r in
                                                                         plain.session_receipts(session)]
    finally:
        plain.close()
        store.close_log()
    assert verify_path(log).ok


def one_call(receipts: IndexedStore | Path, session: str) -> None:
    """One approved call of `session`, by a gate opened (and closed) for it: a hook process's life."""
    with Gate.open(MANIFEST, receipts=receipts, session_id=session, git=NO_GIT) as gate:
        gate.check(ToolCall("search"))


def sequence_numbers(log: Path) -> list[int]:
    assert verify_path(log).ok
    return [json.loads(line)["sequence_number"] for line in log.read_text().splitlines()]


def test_receipts_another_writer_appended_are_found_by_catching_up(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    store = open_indexed(str(log), str(tmp_path / "index"))
    one_call(store, "mine")
    one_call(log, "mine")  # another program's gate on the same log: not through the index
    one_call(store, "mine")
    store.close_log()
    assert sequence_numbers(log) == [1, 2, 3]


def test_a_wrong_index_is_noticed_and_the_log_read_instead(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    store = open_indexed(str(log), str(tmp_path / "index"))
    one_call(store, "s")
    for name in os.listdir(tmp_path / "index"):
        if name.endswith(".idx"):
            (tmp_path / "index" / name).write_text("3\n")  # points into the middle of a line
    one_call(store, "s")
    store.close_log()
    assert sequence_numbers(log) == [1, 2]


def test_a_replaced_log_is_indexed_again(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    index = SessionIndex(str(log), str(tmp_path / "index"))
    log.write_text('{"session_id":"a"}\n{"session_id":"b"}\n')
    assert index.catch_up() == 2 and index.offsets("b") == [19]
    log.unlink()
    log.write_text('{"session_id":"b"}\n')  # another file (a recovered or rotated log): offsets start over
    assert index.offsets("b") == [0] and index.offsets("a") == []
    index.close()


def test_sessions_open_and_continue_without_reading_a_million_receipt_log(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    project = init_project(tmp_path / "proj")
    layout = ProjectLayout.of(project)
    log = Path(layout.receipts)

    def service() -> tuple[HookService, IndexedStore]:
        store = open_indexed(layout.receipts, layout.index_dir)
        return HookService(layout.manifest, store, project=str(project)), store

    first, store = service()  # an early session, long before the log grew
    reply = first.answer("claude-code", pre("Read", {"file_path": str(project / "a")}, use_id="t1", session="early"))
    assert decision(reply.stdout)[0] == "allow"
    first.close()
    store.close_log()
    other_sessions(log, BULK)
    SessionIndex(layout.receipts, layout.index_dir).catch_up()  # what `init` or the helper did as the log grew

    refuse_scans(monkeypatch)
    size = log.stat().st_size
    second, store = service()  # a restarted helper: nothing in memory
    try:
        new = second.answer("claude-code", pre("Write", {"file_path": str(project / "b"), "content": "x"},
                                                use_id="t2", session="fresh"))
        assert decision(new.stdout)[0] == "allow"
        second.answer("claude-code", post("Write", {"file_path": str(project / "b"), "content": "x"}, use_id="t2",
                                          session="fresh"))
        old = second.answer("claude-code", pre("Read", {"file_path": str(project / "c")}, use_id="t3",
                                                session="early"))
        assert decision(old.stdout)[0] == "allow"
    finally:
        second.close()
        store.close_log()
    with open(log, "rb") as fh:
        fh.seek(size)
        tail = [json.loads(line) for line in fh]
    assert [(r["session_id"], r["sequence_number"], r["action"]["operation"]) for r in tail] == [
        ("fresh", 1, "decision"), ("fresh", 2, "outcome"), ("early", 2, "decision")]
    early = [r for r in receipts(project)[:1] + tail if r["session_id"] == "early"]
    assert early[1]["previous_receipt_hash"] == early[0]["receipt_hash"]  # the old chain, continued
