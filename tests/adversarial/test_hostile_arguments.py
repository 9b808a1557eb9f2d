"""Attacks through arguments: null bytes, huge values, nesting deeper than the recursion limit.

The receipt stays bounded, its argument hash is still computed (and is the
real SHA-256 of the canonical arguments), and the log still verifies.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spinegate import Gate, ToolCall
from spinegate.verify import verify_path

RECEIPT_LINE_LIMIT = 16_384  # bytes: every bounded field at its limit fits well within this


def _args_digest(decision: Any) -> str:
    m = re.search(r"args_sha256=([0-9a-f]{64})", decision.receipt["action"]["description"])
    assert m, decision.receipt["action"]["description"]
    return m.group(1)


def _deep(depth: int, leaf: Any = "x") -> Any:
    value: Any = leaf
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


def _canonical_deep_text(depth: int, leaf: str = "x") -> str:
    """The canonical JSON of `_deep(depth)`, built as text (json.dumps cannot go that deep)."""
    text = json.dumps(leaf)
    for i in range(depth):
        text = '{"k":' + text + "}" if i % 2 else "[" + text + "]"
    return text


@pytest.mark.parametrize("function", ["Read", "Echo"])  # Echo records its arguments in the receipt
def test_null_bytes_in_arguments_and_names(open_gate: Callable[..., Gate], tmp_path: Path, function: str) -> None:
    gate = open_gate()
    args = {"path": "a\x00b", "\x00key": "\x00" * 50}
    decision = gate.check(ToolCall(plugin="Files", function=function, arguments=args))
    assert decision.approved
    expected = hashlib.sha256(json.dumps(args, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert _args_digest(decision) == expected
    hostile = gate.check(ToolCall(plugin="Files\x00", function=function + "\x00"))
    assert not hostile.approved and hostile.reason == "TOOL_NOT_IN_MANIFEST"
    gate.close()
    raw = (tmp_path / "receipts.jsonl").read_bytes()
    assert b"\x00" not in raw  # escaped as \u0000, never written raw
    assert verify_path(tmp_path / "receipts.jsonl").ok


@pytest.mark.parametrize("function", ["Read", "Echo"])
def test_huge_arguments_keep_the_receipt_bounded(open_gate: Callable[..., Gate], tmp_path: Path,
                                                 function: str) -> None:
    gate = open_gate()
    args = {"blob": "A" * 5_000_000, "many": list(range(100_000)), "name": "n" * 100_000}
    decision = gate.check(ToolCall(plugin="Files", function=function, arguments=args, proposal_id="p" * 1_000_000,
                                   model="m" * 1_000_000, framework="f" * 1_000_000))
    assert decision.approved
    expected = hashlib.sha256(json.dumps(args, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert _args_digest(decision) == expected
    long_name = gate.check(ToolCall(plugin="Files", function="R" * 1_000_000))
    assert not long_name.approved
    gate.record_outcome(decision, output="o" * 3_000_000)
    gate.close()
    log = tmp_path / "receipts.jsonl"
    for line in log.read_bytes().splitlines():
        assert len(line) <= RECEIPT_LINE_LIMIT, len(line)
    assert verify_path(log).ok


@pytest.mark.parametrize("function", ["Read", "Echo"])
def test_deeply_nested_arguments_are_hashed_not_crashed(open_gate: Callable[..., Gate], tmp_path: Path,
                                                        function: str) -> None:
    depth = sys.getrecursionlimit() * 20
    gate = open_gate()
    decision = gate.check(ToolCall(plugin="Files", function=function, arguments={"v": _deep(depth)}))
    assert decision.approved
    expected = hashlib.sha256(('{"v":' + _canonical_deep_text(depth) + "}").encode()).hexdigest()
    assert _args_digest(decision) == expected
    other = gate.check(ToolCall(plugin="Files", function=function, arguments={"v": _deep(depth, "y")}))
    assert _args_digest(other) != expected
    gate.close()
    log = tmp_path / "receipts.jsonl"
    assert all(len(line) <= RECEIPT_LINE_LIMIT for line in log.read_bytes().splitlines())
    assert verify_path(log).ok


def test_self_referencing_arguments_do_not_hang(open_gate: Callable[..., Gate]) -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    decision = open_gate().check(ToolCall(plugin="Files", function="Read", arguments=loop))
    assert decision.receipt is not None  # decided and recorded, one way or the other
    assert re.search(r"args_sha256=([0-9a-f]{64}|unhashable)", decision.receipt["action"]["description"])


def test_huge_path_arguments_keep_the_receipt_bounded(tmp_path: Path) -> None:
    """An entry whose path arguments go into target_paths: 5,000 paths, one path of 200,000 characters,
    one of 50,000 components (which once took the path resolver about a minute)."""
    from adversarial_support import GIT, entry

    from spinegate.manifest_file import seal_manifest

    manifest = tmp_path / "paths.json"
    manifest.write_text(json.dumps({"version": "1.1.0", "posture": "NORMAL", "functions": [
        entry("Files", "Write", "SCOPED_WRITE", path_arguments=["path"])]}), encoding="utf-8")
    seal_manifest(manifest)
    log = tmp_path / "receipts.jsonl"
    many = [f"out/f{i}" for i in range(5_000)]
    with Gate.open(manifest, receipts=log, git=GIT) as gate:
        for value, runs in ((many, True), ("out/" + "a" * 200_000, False), ("out" + "/a" * 50_000, False)):
            decision = gate.check(ToolCall(plugin="Files", function="Write", arguments={"path": value}))
            assert decision.approved is runs, decision.reason
            expected = hashlib.sha256(json.dumps({"path": value}, sort_keys=True,
                                                 separators=(",", ":")).encode()).hexdigest()
            assert _args_digest(decision) == expected
            if decision.approved:
                gate.record_outcome(decision, output="written")
    rows = log.read_bytes().splitlines()
    assert len(rows) == 4
    assert all(len(line) <= RECEIPT_LINE_LIMIT for line in rows), [len(x) for x in rows]
    listed = json.loads(rows[0])["action"]["target_paths"]
    assert len(listed) == 20 and "more paths not listed" in listed[-1]
    assert all(p.endswith(f"/out/f{i}") for i, p in enumerate(listed[:19]))
    assert verify_path(log).ok
