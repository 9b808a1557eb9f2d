"""The OpenAI adapter's async paths never write a receipt on the event loop's thread (fsync durability)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_agents_sdk import CALLS, make_agent

from loop_guard import guard_receipt_writes
from loopback_model import LoopbackModel, chat_completion, chat_tool_call
from spinegate import Gate
from spinegate_openai import ToolCallInterceptor, govern_agent

pytest.importorskip("agents")
from agents import OpenAIChatCompletionsModel, Runner
from openai_support import GIT


@pytest.fixture
def durable_gate(manifest_path: Path, tmp_path: Path) -> Any:
    with Gate.open(manifest_path, receipts=tmp_path / "durable.jsonl", durability="fsync", git=GIT) as g:
        yield g


async def test_interceptor_async_turn(durable_gate: Gate, tools: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    offenders = guard_receipt_writes(monkeypatch)
    turn = chat_completion(tool_calls=[chat_tool_call(cid, name, args) for cid, name, args, _ in CALLS])
    results = await ToolCallInterceptor(durable_gate, tools.mapping()).aprocess(turn)
    assert {r.call_id for r in results if r.ran} == {"a_search", "a_lookup", "a_explode"}
    assert offenders == []


async def test_agents_sdk_run(durable_gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    offenders = guard_receipt_writes(monkeypatch)
    first = chat_completion(tool_calls=[chat_tool_call(cid, name, args) for cid, name, args, _ in CALLS])
    with LoopbackModel(chat=[first, chat_completion(content="finished")]) as server:
        client = server.async_client()
        ran: dict[str, int] = {}
        agent = make_agent(ran, OpenAIChatCompletionsModel(model="gpt-test", openai_client=client))
        result = await Runner.run(govern_agent(agent, durable_gate), "do the work")
        await client.close()
    assert result.final_output == "finished" and ran == {"search": 1, "lookup": 1, "explode": 1}
    assert offenders == []


async def test_the_guard_sees_a_blocking_call(durable_gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard can fail: a blocking `check` from async code is named."""
    from spinegate import ToolCall

    offenders = guard_receipt_writes(monkeypatch)
    durable_gate.check(ToolCall(function="search", arguments={"query": "x"}))
    assert offenders == ["Recorder.decision ran on the event loop's thread"]
