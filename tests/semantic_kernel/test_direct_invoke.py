"""SpineFilter on direct `kernel.invoke` / `invoke_stream` of real plugins."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from semantic_kernel.contents import ChatHistory
from semantic_kernel.exceptions import KernelInvokeException
from semantic_kernel.filters import FilterTypes
from semantic_kernel.functions import KernelArguments

from semantic_kernel import Kernel
from spinegate import (
    EffectClassifier,
    Gate,
    GovernanceVeto,
    MemoryReceiptStore,
    ReceiptWriteError,
    seal_manifest,
)
from spinegate.canonical import sha256_hex
from spinegate_semantic_kernel import OutcomeNotRecorded, SpineFilter, sanitize_arguments, unwrap_veto

from .conftest import MANIFEST, FilesPlugin, assert_log_verifies, receipts

GIT = {"branch": "test", "commit_before": None, "commit_after": None}


async def test_allowed_call_runs_once_and_records_outcome(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                          log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    result = await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    assert result is not None and result.value == "contents of a.txt"
    assert plugin.calls == {"read": 1}
    decision, outcome = receipts(log_path)
    assert decision["action"]["operation"] == "decision"
    assert decision["action"]["tool"] == "Files.read"
    assert decision["executor"]["type"] == "semantic_kernel"
    assert decision["result"]["status"] == "success"
    assert outcome["action"]["operation"] == "outcome"
    assert outcome["proposal_id"] == decision["proposal_id"]
    assert outcome["result"]["status"] == "success"
    assert outcome["result"]["stdout_truncated"] == "contents of a.txt"
    assert outcome["result"]["diff_hash"] == sha256_hex("contents of a.txt")
    assert_log_verifies(log_path)


async def test_denied_call_raises_veto_and_never_runs(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                      log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="delete", path="a.txt")
    veto = unwrap_veto(info.value)
    assert isinstance(veto, GovernanceVeto)
    assert veto.reason == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert plugin.calls == {}
    (only,) = receipts(log_path)  # a decision, and no outcome for a call that did not run
    assert only["result"]["status"] == "blocked"
    assert only["result"]["blocked_by"] == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert veto.receipt is not None and veto.receipt.receipt_id == only["receipt_id"]
    assert_log_verifies(log_path, subprocess_cli=True)


async def test_attach_twice_then_detach(kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path) -> None:
    spine = SpineFilter(gate)
    spine.attach(kernel).attach(kernel)
    await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    assert [r["action"]["operation"] for r in receipts(log_path)] == ["decision", "outcome"]
    spine.detach(kernel)
    assert kernel.function_invocation_filters == [] and kernel.auto_function_invocation_filters == []
    await kernel.invoke(plugin_name="Files", function_name="delete", path="a.txt")  # ungoverned again
    assert plugin.calls == {"read": 1, "delete": 1}
    assert len(receipts(log_path)) == 2


async def test_undeclared_function_is_refused(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                              log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="undeclared", path="x")
    veto = unwrap_veto(info.value)
    assert veto is not None and veto.reason == "TOOL_NOT_IN_MANIFEST"
    assert plugin.calls == {}
    (only,) = receipts(log_path)
    assert only["action"]["effect_class"] == "SHELL_DANGEROUS"  # unknown is recorded as the worst case
    assert_log_verifies(log_path)


async def test_plain_add_filter_governs(kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path) -> None:
    kernel.add_filter(FilterTypes.FUNCTION_INVOCATION, SpineFilter(gate))
    await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    with pytest.raises(KernelInvokeException):
        await kernel.invoke(plugin_name="Files", function_name="delete", path="a.txt")
    assert plugin.calls == {"read": 1}
    assert [r["action"]["operation"] for r in receipts(log_path)] == ["decision", "outcome", "decision"]
    assert_log_verifies(log_path)


class ExplodingClassifier(EffectClassifier):
    def classify(self, call: Any, entry: Any) -> Any:
        raise RuntimeError("classifier broke")


async def test_classifier_failure_denies(kernel: Kernel, plugin: FilesPlugin, manifest_path: Path,
                                         log_path: Path) -> None:
    with Gate.open(manifest_path, receipts=log_path, git=GIT, classifier=ExplodingClassifier()) as gate:
        SpineFilter(gate).attach(kernel)
        with pytest.raises(KernelInvokeException) as info:
            await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    veto = unwrap_veto(info.value)
    assert veto is not None and veto.reason is not None
    assert veto.reason.startswith("EVALUATION_EXCEPTION: RuntimeError: classifier broke")
    assert plugin.calls == {}
    assert_log_verifies(log_path)


async def test_manifest_changed_after_load_denies(kernel: Kernel, plugin: FilesPlugin, manifest_path: Path,
                                                  log_path: Path) -> None:
    with Gate.open(manifest_path, receipts=log_path, git=GIT) as gate:
        SpineFilter(gate).attach(kernel)
        await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
        changed = json.loads(manifest_path.read_text(encoding="utf-8"))
        changed["functions"][1]["allowed"] = True  # someone allows delete and re-seals, after load
        changed["functions"][1]["reason"] = None
        manifest_path.write_text(json.dumps(changed, indent=4), encoding="utf-8")
        seal_manifest(manifest_path)
        for name in ("read", "delete"):
            with pytest.raises(KernelInvokeException) as info:
                await kernel.invoke(plugin_name="Files", function_name=name, path="a.txt")
            veto = unwrap_veto(info.value)
            assert veto is not None and veto.reason == "MANIFEST_INTEGRITY_FAILURE"
    assert plugin.calls == {"read": 1}
    assert_log_verifies(log_path)


async def test_function_that_raises_records_failed_outcome(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                           log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="explode", path="/dev/sda")
    assert unwrap_veto(info.value) is None  # not a refusal: the function ran and failed
    assert plugin.calls == {"explode": 1}
    decision, outcome = receipts(log_path)
    assert decision["result"]["status"] == "success"
    assert outcome["result"]["status"] == "failed"
    assert outcome["result"]["exit_code"] == 1
    assert "disk on fire at /dev/sda" in outcome["result"]["stdout_truncated"]
    assert_log_verifies(log_path)


async def test_streaming_allowed_records_outcome_after_the_stream(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                                  log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    chunks = [c async for c in kernel.invoke_stream(plugin_name="Files", function_name="stream_lines", path="a")]
    assert chunks == ["line0 ", "line1 ", "line2 "]
    assert plugin.calls == {"stream_lines": 1}
    _, outcome = receipts(log_path)
    assert outcome["action"]["operation"] == "outcome"
    assert outcome["result"]["stdout_truncated"] == "line0 line1 line2 "
    assert_log_verifies(log_path)


async def test_stream_that_raises_records_a_failed_outcome(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                           log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    chunks: list[Any] = []
    with pytest.raises(OSError) as info:  # invoke_stream raises the function's own error
        async for chunk in kernel.invoke_stream(plugin_name="Files", function_name="stream_broken", path="a.txt"):
            chunks.append(chunk)
    assert chunks == ["first "]
    assert unwrap_veto(info.value) is None  # it ran and failed: not a refusal
    assert plugin.calls == {"stream_broken": 1}
    decision, outcome = receipts(log_path)
    assert decision["result"]["status"] == "success"
    assert outcome["result"]["status"] == "failed"
    assert "a.txt vanished mid-stream" in outcome["result"]["stdout_truncated"]
    assert_log_verifies(log_path)


async def test_streaming_denied_never_starts(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                             log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with pytest.raises(GovernanceVeto) as info:  # invoke_stream does not wrap filter errors
        async for _ in kernel.invoke_stream(plugin_name="Files", function_name="stream_wipe", path="/dev/sda"):
            pass
    assert unwrap_veto(info.value) is info.value
    assert info.value.reason == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert plugin.calls == {}
    assert len(receipts(log_path)) == 1
    assert_log_verifies(log_path)


def _failing_record_outcome(*args: Any, **kwargs: Any) -> Any:
    raise ReceiptWriteError("disk full", path="receipts.jsonl")


async def test_outcome_write_failure_is_logged_not_silent(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                          log_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    SpineFilter(gate).attach(kernel)
    monkeypatch.setattr(gate, "record_outcome", _failing_record_outcome)
    with caplog.at_level(logging.ERROR, logger="spinegate_semantic_kernel"):
        result = await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    assert result is not None and result.value == "contents of a.txt"  # it ran; the caller gets its result
    assert plugin.calls == {"read": 1}
    messages = [r.getMessage() for r in caplog.records if r.name == "spinegate_semantic_kernel"]
    assert any("could not record the outcome of Files.read" in m and "disk full" in m for m in messages)
    assert [r["action"]["operation"] for r in receipts(log_path)] == ["decision"]
    assert_log_verifies(log_path)


async def test_outcome_write_failure_can_raise(kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    SpineFilter(gate, on_outcome_error="raise").attach(kernel)
    monkeypatch.setattr(gate, "record_outcome", _failing_record_outcome)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    assert isinstance(info.value.__cause__, OutcomeNotRecorded)
    assert unwrap_veto(info.value) is None  # it ran: not a refusal
    assert plugin.calls == {"read": 1}
    assert_log_verifies(log_path)


async def test_record_outcomes_off_writes_decisions_only(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                         log_path: Path) -> None:
    SpineFilter(gate, record_outcomes=False).attach(kernel)
    await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    assert [r["action"]["operation"] for r in receipts(log_path)] == ["decision"]
    assert_log_verifies(log_path)


async def test_non_data_arguments_are_left_out(kernel: Kernel, plugin: FilesPlugin, tmp_path: Path) -> None:
    raw = json.loads(json.dumps(MANIFEST))
    raw["functions"][0]["record_arguments"] = True  # v1.1: write the arguments into the receipt
    path = tmp_path / "recording.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    seal_manifest(path)
    log = tmp_path / "recorded.jsonl"
    with Gate.open(path, receipts=log, git=GIT) as gate:
        SpineFilter(gate).attach(kernel)
        args = KernelArguments(path="a.txt", helper_kernel=kernel, options={"depth": 2, "at": kernel})
        await kernel.invoke(plugin_name="Files", function_name="read", arguments=args)
    assert plugin.calls == {"read": 1}
    recorded = json.loads(receipts(log)[0]["action"]["command"])
    assert recorded == {"path": "a.txt",
                        "options": {"depth": 2, "at": {"__object__": "semantic_kernel.kernel.Kernel"}}}
    assert_log_verifies(log)


def test_sanitize_arguments_keeps_data_and_names_what_it_left_out() -> None:
    import datetime
    import enum

    class Colour(enum.Enum):
        RED = "red"

    result = sanitize_arguments({"n": 1, "f": 0.5, "t": (1, "a"), "e": Colour.RED, "b": b"xy",
                                 "d": datetime.date(2026, 1, 2), "k": Kernel(), "fn": print,
                                 "p": Path("/tmp/x"), "h": ChatHistory()})
    assert result.data == {"n": 1, "f": 0.5, "t": [1, "a"], "e": "red",
                           "b": {"__bytes_sha256__": sha256_hex(b"xy"), "length": 2}, "d": "2026-01-02",
                           "fn": {"__object__": "builtins.builtin_function_or_method"}, "p": "/tmp/x"}
    assert result.omitted == ("k", "h")  # Semantic Kernel's own objects are left out


class UnwritableStore(MemoryReceiptStore):
    """A receipt store whose disk is gone: every append fails."""

    def append(self, line: str) -> None:
        raise OSError(28, "No space left on device")


async def test_unwritable_receipt_log_denies_and_runs_nothing(kernel: Kernel, plugin: FilesPlugin,
                                                              manifest_path: Path) -> None:
    gate = Gate.open(manifest_path, receipts=UnwritableStore(), git=GIT)
    SpineFilter(gate).attach(kernel)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt")
    veto = unwrap_veto(info.value)
    assert veto is not None and veto.reason is not None and veto.reason.startswith("RECEIPT_WRITE_FAILED")
    assert veto.receipt is None
    assert plugin.calls == {}


async def test_concurrent_direct_invocations_keep_one_chain(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                           log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)

    async def one(i: int) -> Any:
        name = "delete" if i % 3 == 0 else "read"
        try:
            return await kernel.invoke(plugin_name="Files", function_name=name, path=f"f{i}")
        except KernelInvokeException as exc:
            return unwrap_veto(exc)

    results = await asyncio.gather(*(one(i) for i in range(30)))
    assert sum(isinstance(r, GovernanceVeto) for r in results) == 10
    assert plugin.calls == {"read": 20}
    log = receipts(log_path)
    assert len(log) == 10 + 20 * 2
    assert [r["sequence_number"] for r in log] == list(range(1, 51))
    assert_log_verifies(log_path)
