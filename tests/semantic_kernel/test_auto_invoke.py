"""Model-chosen calls end to end: SK's own OpenAI connector against a scripted model on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior
from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion, OpenAIChatPromptExecutionSettings
from semantic_kernel.contents import ChatHistory
from semantic_kernel.filters import FilterTypes
from semantic_kernel.filters.auto_function_invocation.auto_function_invocation_context import (
    AutoFunctionInvocationContext,
)

from loopback_model import LoopbackModel, tool_messages, tool_then_answer
from openai import AsyncOpenAI
from semantic_kernel import Kernel
from spinegate import Gate
from spinegate_semantic_kernel import SpineFilter

from .conftest import FilesPlugin, assert_log_verifies, receipts

TWO_CALLS = [("call_read_1", "Files-read", {"path": "notes.txt"}),
             ("call_delete_2", "Files-delete", {"path": "notes.txt"})]


async def _chat(kernel: Kernel, model: LoopbackModel) -> Any:
    client = AsyncOpenAI(api_key="local-test-key", base_url=model.base_url, max_retries=0, timeout=10)
    service = OpenAIChatCompletion(ai_model_id="local-model", async_client=client)
    history = ChatHistory()
    history.add_user_message("Read notes.txt, then delete it.")
    settings = OpenAIChatPromptExecutionSettings(function_choice_behavior=FunctionChoiceBehavior.Auto())
    return await service.get_chat_message_content(history, settings, kernel=kernel)


async def test_two_calls_one_forbidden(kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=tool_then_answer(TWO_CALLS)) as model:
        answer = await _chat(kernel, model)

    assert plugin.calls == {"read": 1}  # the forbidden body never ran
    assert len(model.requests_to("chat")) == 2  # tool calls, then the final answer after the results
    log = receipts(log_path)
    decisions = [r for r in log if r["action"]["operation"] == "decision"]
    by_proposal = {r["proposal_id"]: r for r in decisions}
    assert set(by_proposal) == {"call_read_1", "call_delete_2"}  # tool-call ids became proposal ids
    assert len(decisions) == 2  # one decision per call, not one per filter pass
    assert sorted(d["budget_snapshot"]["steps_used"] for d in decisions) == [1, 2]  # real budgets, not zeros
    assert log[-1]["budget_snapshot"]["session_risk_score"] > 0  # the denial raised the session's risk
    assert by_proposal["call_read_1"]["result"]["status"] == "success"
    denied = by_proposal["call_delete_2"]
    assert denied["result"]["blocked_by"] == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert denied["executor"]["model"] == "local-model"
    outcomes = [r for r in log if r["action"]["operation"] == "outcome"]
    assert [o["proposal_id"] for o in outcomes] == ["call_read_1"]
    assert outcomes[0]["result"]["stdout_truncated"] == "contents of notes.txt"

    results = {m["tool_call_id"]: m["content"] for m in tool_messages(model.requests_to("chat")[1])}
    assert results["call_read_1"] == "contents of notes.txt"
    refusal = results["call_delete_2"]
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in refusal
    assert denied["receipt_id"] in refusal
    assert "did not run" in refusal
    assert "An error occurred" not in refusal  # not SK's generic error text
    assert "call_delete_2" in str(answer)  # the chat went on to a final answer
    assert_log_verifies(log_path, subprocess_cli=True)


async def test_terminate_stops_the_loop(kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path) -> None:
    SpineFilter(gate, on_deny="terminate").attach(kernel)
    with LoopbackModel(chat=tool_then_answer(TWO_CALLS)) as model:
        answer = await _chat(kernel, model)
    assert len(model.requests_to("chat")) == 1  # the model was not asked again
    assert plugin.calls == {"read": 1}
    results = {item.id: str(item.result) for item in answer.items}  # the merged function results
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in results["call_delete_2"]
    assert results["call_read_1"] == "contents of notes.txt"
    assert_log_verifies(log_path)


async def test_function_filter_alone_still_governs_model_calls(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                               log_path: Path) -> None:
    kernel.add_filter(FilterTypes.FUNCTION_INVOCATION, SpineFilter(gate))  # no attach(): no tool-call ids
    with LoopbackModel(chat=tool_then_answer(TWO_CALLS)) as model:
        await _chat(kernel, model)
    assert plugin.calls == {"read": 1}
    results = {m["tool_call_id"]: m["content"] for m in tool_messages(model.requests_to("chat")[1])}
    # SK's generic error text, which still quotes the veto's reason and receipt.
    assert "An error occurred" in results["call_delete_2"]
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in results["call_delete_2"]
    assert_log_verifies(log_path)


async def test_auto_filter_alone_records_outcomes(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                  log_path: Path) -> None:
    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, SpineFilter(gate))
    with LoopbackModel(chat=tool_then_answer(TWO_CALLS)) as model:
        await _chat(kernel, model)
    assert plugin.calls == {"read": 1}
    ops = sorted((r["proposal_id"], r["action"]["operation"]) for r in receipts(log_path))
    assert ops == [("call_delete_2", "decision"), ("call_read_1", "decision"), ("call_read_1", "outcome")]
    assert_log_verifies(log_path)


async def test_arguments_changed_after_the_decision_are_decided_again(
        kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path) -> None:
    async def rewrite(context: AutoFunctionInvocationContext,
                      next: Callable[[AutoFunctionInvocationContext], Awaitable[None]]) -> None:
        context.arguments["path"] = "other.txt"
        await next(context)

    SpineFilter(gate).attach(kernel)
    kernel.add_filter(FilterTypes.AUTO_FUNCTION_INVOCATION, rewrite)  # added later, so it runs after ours
    with LoopbackModel(chat=tool_then_answer(TWO_CALLS[:1])) as model:
        await _chat(kernel, model)
    assert plugin.calls == {"read": 1}
    read = [r for r in receipts(log_path) if r["proposal_id"] == "call_read_1"]
    assert [r["action"]["operation"] for r in read] == ["decision", "decision", "outcome"]
    assert read[0]["action"]["description"] != read[1]["action"]["description"]  # different argument hashes
    assert_log_verifies(log_path)


async def test_many_parallel_calls_each_get_a_receipt(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                      log_path: Path) -> None:
    calls = [(f"call_{i}", "Files-delete" if i % 2 else "Files-read", {"path": f"f{i}.txt"}) for i in range(8)]
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=tool_then_answer(calls)) as model:
        await _chat(kernel, model)
    assert plugin.calls == {"read": 4}
    decisions = {r["proposal_id"]: r["result"]["status"] for r in receipts(log_path)
                 if r["action"]["operation"] == "decision"}
    assert decisions == {f"call_{i}": ("blocked" if i % 2 else "success") for i in range(8)}
    assert_log_verifies(log_path)


@pytest.mark.parametrize("bad_arguments", ['{"path": ', "[1, 2]"])
async def test_malformed_model_arguments_never_run(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                   log_path: Path, bad_arguments: str) -> None:
    """SK itself answers malformed arguments before any filter; nothing runs."""
    from loopback_model import chat_completion, chat_tool_call, text_reply

    bad = chat_completion(tool_calls=[chat_tool_call("call_bad", "Files-delete", bad_arguments)])
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=[bad, text_reply("ok")]) as model:
        await _chat(kernel, model)
    assert plugin.calls == {}
    assert not log_path.exists() or receipts(log_path) == []  # refused by SK before any filter ran


async def test_streaming_chat_governs_model_calls(kernel: Kernel, plugin: FilesPlugin, gate: Gate,
                                                  log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=tool_then_answer(TWO_CALLS)) as model:
        client = AsyncOpenAI(api_key="local-test-key", base_url=model.base_url, max_retries=0, timeout=10)
        service = OpenAIChatCompletion(ai_model_id="local-model", async_client=client)
        history = ChatHistory()
        history.add_user_message("Read notes.txt, then delete it.")
        settings = OpenAIChatPromptExecutionSettings(function_choice_behavior=FunctionChoiceBehavior.Auto())
        text = ""
        async for chunks in service.get_streaming_chat_message_contents(history, settings, kernel=kernel):
            text += "".join(str(c) for c in chunks)
    assert all(r.get("stream") is True for r in model.requests_to("chat"))
    assert plugin.calls == {"read": 1}
    assert len(model.requests_to("chat")) == 2
    results = {m["tool_call_id"]: m["content"] for m in tool_messages(model.requests_to("chat")[1])}
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in results["call_delete_2"]
    assert {r["proposal_id"] for r in receipts(log_path)} == {"call_read_1", "call_delete_2"}
    assert "call_delete_2" in text
    assert_log_verifies(log_path)


async def test_nested_call_inside_an_approved_body_is_decided_on_its_own(
        kernel: Kernel, plugin: FilesPlugin, gate: Gate, log_path: Path) -> None:
    """An approval handed from the auto pass to the function pass does not leak to calls the body makes."""
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=tool_then_answer([("call_tidy", "Files-tidy", {"path": "notes.txt"})])) as model:
        await _chat(kernel, model)
    assert plugin.calls == {"tidy": 1}  # delete, called from inside tidy, never ran
    results = {m["tool_call_id"]: m["content"] for m in tool_messages(model.requests_to("chat")[1])}
    assert results["call_tidy"] == "tidy kept notes.txt: DESTRUCTIVE_OPERATION_BLOCKED"
    log = receipts(log_path)
    assert [(r["action"]["tool"], r["action"]["operation"], r["result"]["status"]) for r in log] == [
        ("Files.tidy", "decision", "success"),
        ("Files.delete", "decision", "blocked"),
        ("Files.tidy", "outcome", "success"),
    ]
    assert log[1]["proposal_id"] != "call_tidy"
    assert_log_verifies(log_path)
