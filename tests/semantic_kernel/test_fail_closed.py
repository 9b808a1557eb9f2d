"""Ways a refused or undecided call could still run, or be recorded wrongly, and how SpineFilter closes them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior
from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion, OpenAIChatPromptExecutionSettings
from semantic_kernel.contents import ChatHistory
from semantic_kernel.exceptions import KernelInvokeException
from semantic_kernel.filters import FilterTypes
from semantic_kernel.filters.auto_function_invocation.auto_function_invocation_context import (
    AutoFunctionInvocationContext,
)
from semantic_kernel.functions import FunctionResult, KernelArguments, kernel_function

from loopback_model import LoopbackModel, tool_messages, tool_then_answer
from openai import AsyncOpenAI
from semantic_kernel import Kernel
from spinegate import Gate
from spinegate.canonical import sha256_hex
from spinegate_semantic_kernel import DECISION_METADATA_KEY, SpineFilter, unwrap_veto

from .conftest import FilesPlugin, assert_log_verifies, receipts

AutoNext = Callable[[AutoFunctionInvocationContext], Awaitable[None]]


async def _chat(kernel: Kernel, model: LoopbackModel, arguments: KernelArguments | None = None) -> Any:
    client = AsyncOpenAI(api_key="local-test-key", base_url=model.base_url, max_retries=0, timeout=10)
    service = OpenAIChatCompletion(ai_model_id="local-model", async_client=client)
    history = ChatHistory()
    history.add_user_message("Do it.")
    settings = OpenAIChatPromptExecutionSettings(function_choice_behavior=FunctionChoiceBehavior.Auto())
    return await service.get_chat_message_content(history, settings, kernel=kernel, arguments=arguments)


def _told(model: LoopbackModel) -> dict[str, str]:
    """What the model was told for each tool call, from its second request."""
    return {m["tool_call_id"]: m["content"] for m in tool_messages(model.requests_to("chat")[1])}


# -- model-chosen calls ---------------------------------------------------------------


async def test_function_swapped_after_approval_is_refused_readably(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                                   log_path: Path) -> None:
    """A later auto filter that swaps the approved function for a forbidden one gets no free pass."""
    async def swap(context: AutoFunctionInvocationContext, next: AutoNext) -> None:
        context.function = context.kernel.get_function("Files", "delete")
        await next(context)

    SpineFilter(gate).attach(kernel)
    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, swap)  # added later: runs after SpineFilter decided
    with LoopbackModel(chat=tool_then_answer([("call_read", "Files-read", {"path": "notes.txt"})])) as model:
        await _chat(kernel, model)
    assert plugin.calls == {}  # neither read (swapped out) nor delete (refused) ran
    log = receipts(log_path)
    assert [(r["action"]["tool"], r["result"]["status"], r["proposal_id"]) for r in log] == [
        ("Files.read", "success", "call_read"),
        ("Files.delete", "blocked", "call_read"),  # decided again on what would actually run
    ]
    told = _told(model)["call_read"]
    assert told.startswith("spinegate refused the call to Files.delete: DESTRUCTIVE_OPERATION_BLOCKED")
    assert log[1]["receipt_id"] in told
    assert "An error occurred" not in told  # the readable refusal, not Semantic Kernel's generic text
    assert_log_verifies(log_path)


async def test_swapped_function_refusal_can_terminate(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                      log_path: Path) -> None:
    async def swap(context: AutoFunctionInvocationContext, next: AutoNext) -> None:
        context.function = context.kernel.get_function("Files", "delete")
        await next(context)

    SpineFilter(gate, on_deny="terminate").attach(kernel)
    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, swap)
    with LoopbackModel(chat=tool_then_answer([("call_read", "Files-read", {"path": "notes.txt"})])) as model:
        answer = await _chat(kernel, model)
    assert len(model.requests_to("chat")) == 1 and plugin.calls == {}
    (item,) = answer.items
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in str(item.result)
    assert_log_verifies(log_path)


async def test_argument_change_is_found_by_canonical_hash(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                          log_path: Path) -> None:
    """`1 == True` in Python, but they are different arguments: the changed call is decided again."""
    async def flip(context: AutoFunctionInvocationContext, next: AutoNext) -> None:
        context.arguments["mode"] = True
        await next(context)

    SpineFilter(gate).attach(kernel)
    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, flip)
    with LoopbackModel(chat=tool_then_answer([("call_read", "Files-read", {"path": "notes.txt"})])) as model:
        await _chat(kernel, model, KernelArguments(mode=1))
    assert plugin.calls == {"read": 1}
    log = receipts(log_path)
    assert [r["action"]["operation"] for r in log] == ["decision", "decision", "outcome"]
    assert log[0]["action"]["description"] != log[1]["action"]["description"]  # two argument hashes
    assert {r["proposal_id"] for r in log} == {"call_read"}
    assert_log_verifies(log_path)


async def test_no_outcome_when_a_later_filter_answers_instead_of_the_function(
        kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path) -> None:
    """The log must not claim a function ran when another filter answered for it."""
    async def cached(context: AutoFunctionInvocationContext, next: AutoNext) -> None:
        context.function_result = FunctionResult(function=context.function.metadata, value="from the cache")

    SpineFilter(gate).attach(kernel)
    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, cached)
    with LoopbackModel(chat=tool_then_answer([("call_read", "Files-read", {"path": "notes.txt"})])) as model:
        await _chat(kernel, model)
    assert plugin.calls == {}
    assert _told(model) == {"call_read": "from the cache"}
    assert [r["action"]["operation"] for r in receipts(log_path)] == ["decision"]
    assert_log_verifies(log_path)


async def test_gate_failure_in_auto_pass_is_a_readable_refusal(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                               log_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("gate broke")

    SpineFilter(gate).attach(kernel)
    monkeypatch.setattr(gate, "acheck", broken)
    with LoopbackModel(chat=tool_then_answer([("call_read", "Files-read", {"path": "notes.txt"})])) as model:
        await _chat(kernel, model)
    assert plugin.calls == {}
    told = _told(model)["call_read"]
    assert "spinegate could not decide the call to Files-read (RuntimeError)" in told
    assert "did not run" in told


async def test_parallel_calls_keep_their_own_approval(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                      log_path: Path) -> None:
    """Concurrent model-chosen calls interleave; each function pass must use its own call's approval."""
    async def slow(context: AutoFunctionInvocationContext, next: AutoNext) -> None:
        index = int(str(context.arguments["path"])[1:-4])
        await asyncio.sleep(0.002 * ((7 * index) % 5))  # finish in a different order than started
        await next(context)

    calls = [(f"call_{i}", "Files-read", {"path": f"f{i}.txt"}) for i in range(6)]
    SpineFilter(gate).attach(kernel)
    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, slow)
    with LoopbackModel(chat=tool_then_answer(calls)) as model:
        await _chat(kernel, model)
    assert plugin.calls == {"read": 6}
    log = receipts(log_path)
    decisions = [r for r in log if r["action"]["operation"] == "decision"]
    outcomes = {r["proposal_id"]: r["result"]["stdout_truncated"] for r in log if r["action"]["operation"] == "outcome"}
    assert sorted(d["proposal_id"] for d in decisions) == sorted(c[0] for c in calls)  # one decision each
    assert outcomes == {f"call_{i}": f"contents of f{i}.txt" for i in range(6)}
    assert _told(model) == outcomes
    assert_log_verifies(log_path)


async def test_two_filters_on_one_kernel_each_decide_once(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                          log_path: Path, manifest_path: Path,
                                                          tmp_path: Path) -> None:
    """Two gates (say an organisation's and an application's) on one kernel do not take each other's approvals."""
    other_log = tmp_path / "other.jsonl"
    with Gate.open(manifest_path, receipts=other_log, git={"branch": "t", "commit_before": None,
                                                           "commit_after": None}) as other:
        SpineFilter(gate).attach(kernel)
        SpineFilter(other).attach(kernel)
        with LoopbackModel(chat=tool_then_answer([("call_read", "Files-read", {"path": "notes.txt"})])) as model:
            await _chat(kernel, model)
    assert plugin.calls == {"read": 1}
    for log in (log_path, other_log):
        assert [(r["action"]["operation"], r["proposal_id"]) for r in receipts(log)] == [
            ("decision", "call_read"), ("outcome", "call_read")]
        assert_log_verifies(log)


# -- direct calls -------------------------------------------------------------------------


class Target(os.PathLike[str]):
    """A path object that is not a `pathlib` path."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path


class Opaque:
    """An object whose text is a path, but which is neither data nor a path object."""

    def __str__(self) -> str:
        return "deploy/.env"


@pytest.mark.parametrize("target", [Target("deploy/.env"), Opaque()], ids=["pathlike", "opaque"])
async def test_path_rules_see_object_arguments(kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path,
                                               target: Any) -> None:
    """An object passed where a path is expected is never dropped from the call the gate decides."""
    SpineFilter(gate).attach(kernel)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="write", path=target, text="SECRET=1")
    veto = unwrap_veto(info.value)
    assert veto is not None
    assert veto.reason in ("RESTRICTED_WRITE_FORBIDDEN", "EFFECT_CLASS_UNKNOWN")
    assert plugin.calls == {}
    await kernel.invoke(plugin_name="Files", function_name="write", path=Target("docs/a.md"), text="ok")
    assert plugin.calls == {"write": 1}  # a harmless path object still works
    assert_log_verifies(log_path)


class BrokenMapping(Mapping[str, Any]):
    """Argument data that fails when read."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("cannot read these arguments")

    def __len__(self) -> int:
        return 1


async def test_unreadable_arguments_deny_with_a_receipt(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                        log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt", options=BrokenMapping())
    veto = unwrap_veto(info.value)
    assert veto is not None and veto.reason is not None
    assert veto.reason.startswith("EVALUATION_EXCEPTION: RuntimeError: cannot read these arguments")
    assert plugin.calls == {}
    (only,) = receipts(log_path)
    assert only["result"]["status"] == "blocked" and veto.receipt is not None
    assert only["receipt_id"] == veto.receipt.receipt_id
    assert_log_verifies(log_path)


async def test_error_raised_while_handling_a_nested_veto_is_not_a_veto(kernel: Kernel, plugin: FilesPlugin,
                                                                       gate: Gate, log_path: Path) -> None:
    """`unwrap_veto` must not report a call that ran (and failed) as refused."""
    SpineFilter(gate).attach(kernel)
    with pytest.raises(KernelInvokeException) as info:
        await kernel.invoke(plugin_name="Files", function_name="purge", path="notes.txt")
    assert unwrap_veto(info.value) is None
    assert plugin.calls == {"purge": 1}  # purge ran; the delete it tried did not
    log = receipts(log_path)
    assert [(r["action"]["tool"], r["action"]["operation"], r["result"]["status"]) for r in log] == [
        ("Files.purge", "decision", "success"),
        ("Files.delete", "decision", "blocked"),
        ("Files.purge", "outcome", "failed"),
    ]
    assert "could not purge notes.txt" in log[2]["result"]["stdout_truncated"]
    assert_log_verifies(log_path)


async def test_long_output_is_truncated_and_hashed_whole(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                         log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    path = "x" * 5000
    await kernel.invoke(plugin_name="Files", function_name="read", path=path)
    outcome = receipts(log_path)[-1]
    assert outcome["action"]["operation"] == "outcome"
    assert outcome["result"]["stdout_truncated"] == f"contents of {path}"[:2000]
    assert outcome["result"]["diff_hash"] == sha256_hex(f"contents of {path}")
    assert_log_verifies(log_path)


async def test_refusal_metadata_carries_the_decision(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                     log_path: Path) -> None:
    seen: list[Any] = []

    async def watch(context: AutoFunctionInvocationContext, next: AutoNext) -> None:
        await next(context)
        seen.append(context.function_result)

    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, watch)  # added first: runs around SpineFilter
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=tool_then_answer([("call_delete", "Files-delete", {"path": "notes.txt"})])) as model:
        await _chat(kernel, model)
    (result,) = seen
    decision = result.metadata[DECISION_METADATA_KEY]
    assert decision.reason == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert decision.receipt_id == receipts(log_path)[0]["receipt_id"]
    assert plugin.calls == {}
    assert_log_verifies(log_path)


class Unprintable:
    """A function result whose text cannot be taken."""

    def __str__(self) -> str:
        raise RuntimeError("no text")

    __repr__ = __str__


async def test_result_without_text_still_returns_and_records(kernel: Kernel, gate: Gate, log_path: Path) -> None:
    """Recording the outcome must never turn a call that succeeded into an error for the caller."""
    ran: list[str] = []

    @kernel_function(name="read", description="Returns an object that cannot be printed.")
    def read(path: str) -> object:
        ran.append(path)
        return Unprintable()

    odd = Kernel()
    odd.add_function(plugin_name="Files", function=read)
    SpineFilter(gate).attach(odd)
    result = await odd.invoke(plugin_name="Files", function_name="read", path="a.txt")
    assert result is not None and isinstance(result.value, Unprintable)
    assert ran == ["a.txt"]
    outcome = receipts(log_path)[-1]
    assert outcome["action"]["operation"] == "outcome" and outcome["result"]["status"] == "success"
    assert outcome["result"]["stdout_truncated"] == "<unprintable Unprintable>"
    assert_log_verifies(log_path)
