"""Every kind of LangChain tool, governed: sync and async invocation, tool-call and dict input, allowed and denied.

Each case counts how often the original body ran: once when the gate approves, never when it refuses.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, tool
from pydantic import BaseModel

from spinegate import Gate, MemoryReceiptStore
from spinegate_langchain import govern_tool

ALLOWED, DENIED = "add", "delete_everything"  # declared in conftest's manifest: SHELL_SAFE / allowed: false


class Args(BaseModel):
    a: int
    b: int


def decorated_sync(name: str, ran: Counter[str]) -> BaseTool:
    @tool(name)
    def body(a: int, b: int) -> int:
        """Add two integers."""
        ran[name] += 1
        return a + b

    return body


def decorated_async(name: str, ran: Counter[str]) -> BaseTool:
    @tool(name)
    async def body(a: int, b: int) -> int:
        """Add two integers (async)."""
        ran[name] += 1
        return a + b

    return body


def structured_sync(name: str, ran: Counter[str]) -> BaseTool:
    def body(a: int, b: int) -> int:
        ran[name] += 1
        return a + b

    return StructuredTool.from_function(func=body, name=name, description="Add.", args_schema=Args)


def structured_both(name: str, ran: Counter[str]) -> BaseTool:
    def body(a: int, b: int) -> int:
        ran[name] += 1
        return a + b

    async def abody(a: int, b: int) -> int:
        ran[name] += 1
        return a + b

    return StructuredTool.from_function(func=body, coroutine=abody, name=name, description="Add.", args_schema=Args)


def subclass(name: str, ran: Counter[str]) -> BaseTool:
    class Adder(BaseTool):
        description: str = "Add two integers (class-based)."
        args_schema: type[BaseModel] = Args

        def _run(self, a: int, b: int, **kwargs: Any) -> int:
            ran[name] += 1
            return a + b

        async def _arun(self, a: int, b: int, **kwargs: Any) -> int:
            ran[name] += 1
            return a + b

    return Adder(name=name)


KINDS: dict[str, Callable[[str, Counter[str]], BaseTool]] = {
    "@tool sync": decorated_sync, "@tool async": decorated_async, "StructuredTool func": structured_sync,
    "StructuredTool func+coroutine": structured_both, "BaseTool subclass": subclass,
}
# LangChain itself cannot run an async-only tool synchronously, so that one case is left out.
CASES = [case for case in itertools.product(KINDS, ["invoke", "ainvoke"], ["tool_call", "dict"], [ALLOWED, DENIED])
         if case[:2] != ("@tool async", "invoke") or case[3] != ALLOWED]


@pytest.mark.parametrize("kind,mode,shape,name", CASES)
async def test_every_tool_kind(gate: Gate, log_path, h, kind: str, mode: str, shape: str, name: str) -> None:
    ran: Counter[str] = Counter()
    governed = govern_tool(KINDS[kind](name, ran), gate)
    args = {"a": 2, "b": 3}
    payload: Any = {"type": "tool_call", "id": "k1", "name": name, "args": args} if shape == "tool_call" else args
    out = governed.invoke(payload) if mode == "invoke" else await governed.ainvoke(payload)

    (decision, *rest) = h.check_log(log_path)
    if name == ALLOWED:
        assert ran == {name: 1}
        content = out.content if shape == "tool_call" else out
        assert content in (5, "5")
        assert decision["result"]["status"] == "success"
        assert [r["action"]["operation"] for r in rest] == ["outcome"]
        assert rest[0]["result"]["stdout_truncated"] == "5"
    else:
        assert ran == {}
        assert decision["result"]["blocked_by"] == "DESTRUCTIVE_OPERATION_BLOCKED" and rest == []
        text = out.content if shape == "tool_call" else out
        assert "DESTRUCTIVE_OPERATION_BLOCKED" in text and decision["receipt_id"] in text
    if shape == "tool_call":
        assert isinstance(out, ToolMessage) and out.tool_call_id == "k1"
        assert out.status == ("success" if name == ALLOWED else "error")
        assert decision["proposal_id"] == "k1"


class FullAfterOne(MemoryReceiptStore):
    """A receipt store whose disk fills up after the first receipt."""

    def append(self, line: str) -> None:
        if self.receipts():
            raise OSError("No space left on device")
        super().append(line)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_an_unwritable_outcome_receipt_keeps_the_result(manifest_path, caplog, mode: str) -> None:
    """The body ran; its outcome receipt cannot be written: the caller still gets the result, the failure is
    logged, and the next call is refused because no decision receipt can be written either."""
    ran: Counter[str] = Counter()
    store = FullAfterOne()
    with Gate.open(manifest_path, receipts=store) as gate:
        governed = govern_tool(structured_both(ALLOWED, ran), gate)
        out = governed.invoke({"a": 1, "b": 1}) if mode == "invoke" else await governed.ainvoke({"a": 1, "b": 1})
        assert out == 2 and ran == {ALLOWED: 1}
        assert "outcome receipt for decision" in caplog.text
        again = governed.invoke({"a": 1, "b": 1}) if mode == "invoke" else await governed.ainvoke({"a": 1, "b": 1})
    assert "RECEIPT_WRITE_FAILED" in again and ran == {ALLOWED: 1}
    assert len(store.receipts()) == 1
