"""The LangChain adapter's async paths never write a receipt on the event loop's thread (fsync durability)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest

from loop_guard import guard_receipt_writes
from spinegate import Gate
from spinegate_langchain import SpineMiddleware, govern_tool

USER = {"messages": [{"role": "user", "content": "do the work"}]}


@pytest.fixture
def durable_gate(manifest_path: Path, tmp_path: Path) -> Iterator[Gate]:
    with Gate.open(manifest_path, receipts=tmp_path / "durable.jsonl", durability="fsync",
                   git={"branch": "main", "commit_before": None, "commit_after": None}) as g:
        yield g


async def test_agent_with_middleware(durable_gate: Gate, tools: Any, calls: Any, h: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    offenders = guard_receipt_writes(monkeypatch)
    model = h.fake_model(h.ai_calls(("add", {"a": 2, "b": 2}, "c1"), ("delete_everything", {"path": "/"}, "c2"),
                                    ("lookup", {"key": "k"}, "c3")))
    agent = create_agent(model, [tools["add"], tools["delete_everything"], tools["lookup"]],
                         middleware=[SpineMiddleware(durable_gate)])
    await agent.ainvoke(USER)
    assert calls == {"add": 1, "lookup": 1}

    async def handler(request: ToolCallRequest) -> ToolMessage:
        raise AssertionError("a malformed call must not run")

    malformed = ToolCallRequest(tool_call={"name": "", "args": {}, "id": "m1"},  # type: ignore[typeddict-item]
                                tool=tools["add"], state={"messages": []}, runtime=None)  # type: ignore[arg-type]
    refused = await SpineMiddleware(durable_gate).awrap_tool_call(malformed, handler)
    assert isinstance(refused, ToolMessage) and refused.status == "error"
    assert offenders == []


async def test_governed_tool(durable_gate: Gate, tools: Any, calls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    offenders = guard_receipt_writes(monkeypatch)
    governed = govern_tool(tools["lookup"], durable_gate)
    assert await governed.ainvoke({"key": "k"}) == "value of k"
    assert "MALFORMED_TOOL_CALL" in await governed.arun(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert calls == {"lookup": 1}
    assert offenders == []
