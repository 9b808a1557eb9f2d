"""The gate's hot-path shortcuts against the general code they stand in for.

`Gate.check` caches bounded tool names, draws one set of random bytes for a
receipt id and a generated proposal id, and seals receipts with per-session
constants. Each shortcut must give exactly what the general path gives; a
whole session's log must stay canonical (json.dumps's bytes) and verify.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spinegate import Gate, ToolCall
from spinegate.approvals import Approval
from spinegate.decision import as_text
from spinegate.manifest_file import seal_manifest
from spinegate.receipt_body import NAME_LIMIT
from spinegate.receipt_body import bounded as _bounded
from spinegate.receipt_body import text_field as _text_field
from spinegate.receipt_hash import receipt_hash
from spinegate.recorder import _NAME_CACHE_LIMIT
from spinegate.verify import verify_path

GIT = {"branch": "main", "commit_before": "0123456789abcdef0123456789abcdef01234567", "commit_after": None}


class Unhashable:
    """A framework object as a plugin: printable, but not hashable, so it must never be cached."""

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return "Framework.Object"


def _manifest(tmp_path: Path) -> Path:
    functions = [
        {"plugin": "Files", "function": "Read", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
         "max_calls_per_session": None, "record_arguments": True},
        {"plugin": "Files", "function": "Write", "effect_class": "SCOPED_WRITE", "allowed": True, "reason": None,
         "max_calls_per_session": 3},
        {"plugin": "Ask", "function": "Me", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
         "max_calls_per_session": None, "requires_confirmation": True},
        {"plugin": None, "function": "search", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
         "max_calls_per_session": None},
    ]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": "1.0.0", "posture": "NORMAL", "functions": functions,
                                "manifest_hash": ""}), encoding="utf-8")
    seal_manifest(str(path))
    return path


def _open(tmp_path: Path, **options: Any) -> Gate:
    return Gate.open(_manifest(tmp_path), receipts=tmp_path / "r.jsonl", git=GIT, **options)


names = st.one_of(st.text(max_size=8), st.text(min_size=190, max_size=260))


@settings(max_examples=200, deadline=None)
@given(plugin=st.one_of(st.none(), names, st.integers(), st.just(Unhashable())),
       function=st.one_of(names, st.integers()))
def test_cached_tool_name_is_the_bounded_tool_name(tmp_path_factory: Any, plugin: Any, function: Any) -> None:
    gate = _open(tmp_path_factory.mktemp("names"))
    try:
        call = ToolCall(function=function, plugin=plugin)
        expected = _bounded(call.tool_name, NAME_LIMIT)
        assert gate._recorder.tool_name(call) == expected
        assert gate._recorder.tool_name(call) == expected  # from the cache, when it was cached
    finally:
        gate.close()


def test_tool_name_cache_stays_bounded(tmp_path: Path) -> None:
    gate = _open(tmp_path)
    try:
        for i in range(_NAME_CACHE_LIMIT * 2 + 5):
            gate._recorder.tool_name(ToolCall(function=f"f{i}", plugin="P"))
        assert 0 < len(gate._recorder._tool_names) <= _NAME_CACHE_LIMIT
        assert gate._recorder.tool_name(ToolCall(function="f3", plugin="P")) == "P.f3"
    finally:
        gate.close()


@given(default=st.one_of(st.just("unknown"), st.text(max_size=5), st.text(min_size=201, max_size=240)))
def test_text_field_of_none_is_the_general_rule(default: str) -> None:
    assert _text_field(None, default) == _bounded(as_text(None) or default, NAME_LIMIT)


def test_generated_ids(tmp_path: Path) -> None:
    gate = _open(tmp_path)
    try:
        receipts = [gate.check(ToolCall(function="search", arguments={"q": i})).receipt for i in range(200)]
        given_id = gate.check(ToolCall(function="search", proposal_id="call_1")).receipt
    finally:
        gate.close()
    assert given_id is not None and given_id["proposal_id"] == "call_1"
    proposals = [r["proposal_id"] for r in receipts if r is not None]
    ids = [r["receipt_id"] for r in receipts if r is not None]
    assert len(set(proposals)) == len(set(ids)) == 200
    assert all(re.fullmatch(r"[0-9a-f]{32}", p) for p in proposals)
    for rid in ids:
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    for proposal, rid in zip(proposals, ids):  # two different draws of random bytes, not one used twice
        p_bytes, r_bytes = bytes.fromhex(proposal), uuid.UUID(rid).bytes
        assert any(p_bytes[i] != r_bytes[i] for i in range(16) if i not in (6, 8))


def test_a_session_log_is_canonical_and_verifies(tmp_path: Path) -> None:
    answers = iter([True, Approval(False, "bob", "not now"), Approval(True, "alice", "fine")])
    gate = _open(tmp_path, approver=lambda request: next(answers))
    assert gate.emitter._constants is not None  # the per-session fragments are in use
    calls = [
        ToolCall(plugin="Files", function="Read", arguments={"path": "a\u00e9\u2028.txt"}, model="m"),
        ToolCall(plugin="Files", function="Write", arguments={"path": "notes/b.txt"}, framework="langchain"),
        ToolCall(plugin="Files", function="Write", arguments={"path": "/etc/passwd"}),
        ToolCall(plugin="Ask", function="Me"), ToolCall(plugin="Ask", function="Me"),
        ToolCall(plugin="Ask", function="Me"),
        ToolCall(plugin="Nope", function="x" * 300, proposal_id="p" * 300),
        ToolCall(plugin=Unhashable(), function="search"),
        ToolCall(function="search", arguments={"q": object()}),
    ]
    try:
        for i, call in enumerate(calls):
            if i == 4:
                gate.set_posture("ELEVATED", by="operator")
            decision = gate.check(call)
            assert decision.receipt is not None
            if decision.approved:
                gate.record_outcome(decision, output={"i": i})
    finally:
        gate.close()
    lines = (tmp_path / "r.jsonl").read_text(encoding="ascii").splitlines()
    assert len(lines) > len(calls)
    for line in lines:
        data = json.loads(line)
        assert line == json.dumps(data, sort_keys=True, separators=(",", ":"))
        assert data["receipt_hash"] == receipt_hash(data)
        assert data["git_context"] == GIT and data["session_id"] == gate.session_id
    report = verify_path(tmp_path / "r.jsonl")
    assert report.ok, report
