"""govern_tool / govern_tools: same schema for the model, the gate before every run."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import pytest
from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, InjectedToolCallId, StructuredTool, Tool, ToolException, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from pydantic import BaseModel, Field

from spinegate import GovernanceVeto
from spinegate.canonical import arguments_hash
from spinegate_langchain import GovernedTool, govern_tool, govern_tools


class SearchArgs(BaseModel):
    query: str = Field(description="what to look for")
    limit: int = Field(default=5, ge=1, description="how many results")


class AddTool(BaseTool):
    """A BaseTool subclass with both a sync and an async body."""

    name: str = "add"
    description: str = "Add two integers (class-based tool)."
    args_schema: type[BaseModel] = SearchArgs  # replaced below per test
    runs: list[str] = Field(default_factory=list)

    def _run(self, a: int, b: int, **kwargs: Any) -> int:
        self.runs.append("sync")
        return a + b

    async def _arun(self, a: int, b: int, **kwargs: Any) -> int:
        self.runs.append("async")
        return a + b


class AddArgs(BaseModel):
    a: int
    b: int


def make_class_tool() -> AddTool:
    return AddTool(args_schema=AddArgs, runs=[])


def schema_variants() -> list[BaseTool]:
    """Tools of every kind LangChain builds, each with something that shapes its schema."""

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @tool(parse_docstring=True)
    async def lookup(key: str, exact: bool = False) -> str:
        """Look a key up.

        Args:
            key: the key to find
            exact: match exactly
        """
        return key

    @tool(response_format="content_and_artifact", return_direct=True)
    def echo(text: str) -> tuple[str, dict[str, str]]:
        """Echo text with an artifact."""
        return text, {"raw": text}

    @tool
    def with_runtime(x: int, runtime: ToolRuntime, call_id: Annotated[str, InjectedToolCallId]) -> str:
        """A tool with injected arguments the model never sees."""
        return str(x)

    structured = StructuredTool.from_function(func=lambda query, limit=5: query, name="search",
                                              description="Search things.", args_schema=SearchArgs)
    json_schema_tool = StructuredTool.from_function(
        func=lambda **kw: "ok", name="lookup",
        description="Look up (JSON-schema arguments).",
        args_schema={"type": "object", "properties": {"key": {"type": "string", "description": "k"}},
                     "required": ["key"]},
    )
    simple = Tool(name="echo", description="Echo a string.", func=lambda s: s)
    return [add, lookup, echo, with_runtime, structured, json_schema_tool, simple, make_class_tool()]


@pytest.mark.parametrize("index", range(8))
def test_the_model_sees_a_byte_identical_schema(gate, index: int) -> None:
    original = schema_variants()[index]
    governed = govern_tool(original, gate)
    assert json.dumps(convert_to_openai_tool(governed)) == json.dumps(convert_to_openai_tool(original))
    for attr in ("name", "description", "return_direct", "response_format"):
        assert getattr(governed, attr) == getattr(original, attr)
    assert governed.args_schema is original.args_schema


def test_approved_tool_call_returns_what_langchain_returns(gate, tools, calls, log_path, h) -> None:
    governed = govern_tool(tools["add"], gate)
    call = {"type": "tool_call", "id": "call_add_1", "name": "add", "args": {"a": 2, "b": 3}}
    got = governed.invoke(call)
    want = tools["add"].invoke(call)
    assert isinstance(got, ToolMessage)
    assert (got.content, got.name, got.tool_call_id, got.status) == (want.content, want.name, want.tool_call_id,
                                                                     want.status)
    assert calls["add"] == 2  # once governed, once ungoverned
    rows = h.check_log(log_path)
    decision, outcome = rows
    assert decision["proposal_id"] == outcome["proposal_id"] == "call_add_1"
    assert decision["result"]["status"] == "success"
    assert outcome["action"]["operation"] == "outcome"
    assert outcome["result"]["stdout_truncated"] == "5"
    assert decision["executor"]["type"] == "langchain"


def test_denied_tool_call_never_runs_and_the_model_reads_why(gate, tools, calls, log_path, h) -> None:
    governed = govern_tool(tools["delete_everything"], gate)
    msg = governed.invoke({"type": "tool_call", "id": "call_rm", "name": "delete_everything",
                           "args": {"path": "/"}})
    assert calls["delete_everything"] == 0
    assert isinstance(msg, ToolMessage)
    assert msg.status == "error" and msg.tool_call_id == "call_rm" and msg.name == "delete_everything"
    (row,) = h.check_log(log_path)
    assert row["result"]["status"] == "blocked"
    assert row["proposal_id"] == "call_rm"
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in msg.content
    assert row["receipt_id"] in msg.content


def test_plain_dict_input_sync_and_async(gate, tools, calls, log_path, h) -> None:
    add = govern_tool(tools["add"], gate)
    assert add.invoke({"a": 1, "b": 1}) == 2
    refusal = govern_tool(tools["delete_everything"], gate).invoke({"path": "/tmp"})
    assert isinstance(refusal, str) and "DESTRUCTIVE_OPERATION_BLOCKED" in refusal
    assert calls == {"add": 1}
    rows = h.check_log(log_path)
    assert [r["result"]["status"] for r in rows] == ["success", "success", "blocked"]


async def test_async_tools_and_sync_tools_through_ainvoke(gate, tools, calls, log_path, h) -> None:
    lookup = govern_tool(tools["lookup"], gate)
    add = govern_tool(tools["add"], gate)
    rm = govern_tool(tools["delete_everything"], gate)
    assert await lookup.ainvoke({"key": "k"}) == "value of k"
    msg = await add.ainvoke({"type": "tool_call", "id": "c9", "name": "add", "args": {"a": 4, "b": 4}})
    assert msg.content == "8" and msg.tool_call_id == "c9"
    denied = await rm.ainvoke({"type": "tool_call", "id": "c10", "name": "delete_everything", "args": {"path": "/"}})
    assert denied.status == "error"
    assert calls == {"lookup": 1, "add": 1}
    rows = h.check_log(log_path)
    assert len(h.decisions(rows)) == 3 and len(h.outcomes(rows)) == 2


def test_on_deny_raise(gate, tools, calls, log_path, h) -> None:
    rm = govern_tool(tools["delete_everything"], gate, on_deny="raise")
    with pytest.raises(GovernanceVeto) as info:
        rm.invoke({"type": "tool_call", "id": "c1", "name": "delete_everything", "args": {"path": "/"}})
    assert info.value.reason == "DESTRUCTIVE_OPERATION_BLOCKED"
    (row,) = h.check_log(log_path)
    assert info.value.decision.receipt_id == row["receipt_id"]
    assert calls["delete_everything"] == 0


async def test_on_deny_raise_async(gate, tools, calls) -> None:
    rm = govern_tool(tools["delete_everything"], gate, on_deny="raise")
    with pytest.raises(GovernanceVeto):
        await rm.ainvoke({"path": "/"})
    assert calls["delete_everything"] == 0


async def test_base_tool_subclass_sync_and_async(gate, log_path, h) -> None:
    original = make_class_tool()
    governed = govern_tool(original, gate)
    assert governed.invoke({"a": 1, "b": 2}) == 3
    assert await governed.ainvoke({"a": 2, "b": 2}) == 4
    assert original.runs == ["sync", "async"]
    assert len(h.outcomes(h.check_log(log_path))) == 2


def test_structured_tool_and_simple_tool(gate, log_path, h) -> None:
    seen: list[str] = []
    structured = StructuredTool.from_function(func=lambda key: seen.append(key) or key.upper(), name="lookup",
                                              description="Look up.")
    simple = Tool(name="echo", description="Echo.", func=lambda s: seen.append(s) or s)
    assert govern_tool(structured, gate).invoke({"key": "x"}) == "X"
    assert govern_tool(simple, gate).invoke("hello") == "hello"
    msg = govern_tool(simple, gate).invoke({"type": "tool_call", "id": "s1", "name": "echo",
                                            "args": {"__arg1": "hi"}})
    assert msg.content == "hi"
    assert seen == ["x", "hello", "hi"]
    rows = h.decisions(h.check_log(log_path))
    # a string input is recorded under the name LangChain gives it in the model's schema
    assert f"args_sha256={arguments_hash({'__arg1': 'hello'})}" in rows[1]["action"]["description"]


def test_tool_not_in_manifest_is_refused(gate, log_path, h) -> None:
    ran: list[int] = []

    @tool
    def undeclared(x: int) -> int:
        """Not in the manifest."""
        ran.append(x)
        return x

    out = govern_tool(undeclared, gate).invoke({"x": 1})
    assert "TOOL_NOT_IN_MANIFEST" in out and ran == []
    assert h.check_log(log_path)[0]["result"]["blocked_by"] == "TOOL_NOT_IN_MANIFEST"


def test_plugin_name_selects_the_manifest_entry(gate) -> None:
    @tool("Read")
    def read(path: str) -> str:
        """Read a file."""
        return f"read {path}"

    assert govern_tool(read, gate, plugin="Files").invoke({"path": "a"}) == "read a"
    assert "TOOL_NOT_IN_MANIFEST" in govern_tool(read, gate).invoke({"path": "a"})


def test_malformed_input_is_refused_with_a_receipt(gate, tools, calls, log_path, h) -> None:
    governed = govern_tool(tools["add"], gate)
    out = governed.run(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert "MALFORMED_TOOL_CALL" in out
    assert calls["add"] == 0
    assert h.check_log(log_path)[0]["result"]["blocked_by"] == "MALFORMED_TOOL_CALL"


def test_failures_are_recorded_and_still_raised(gate, tools, calls, log_path, h) -> None:
    governed = govern_tool(tools["explode"], gate)
    with pytest.raises(RuntimeError, match="boom"):
        governed.invoke({"reason": "test"})
    assert calls["explode"] == 1

    def fails(x: str) -> str:
        raise ToolException(f"handled: {x}")

    handled = StructuredTool.from_function(func=fails, name="lookup", description="Fails, handled.",
                                           handle_tool_error=True)
    msg = govern_tool(handled, gate).invoke({"type": "tool_call", "id": "h1", "name": "lookup", "args": {"x": "y"}})
    assert msg.status == "error" and msg.content == "handled: y"
    outs = h.outcomes(h.check_log(log_path))
    assert [o["result"]["status"] for o in outs] == ["failed", "failed"]
    assert "RuntimeError: boom: test" in outs[0]["result"]["stdout_truncated"]


def test_content_and_artifact_keeps_the_artifact(gate) -> None:
    @tool(response_format="content_and_artifact")
    def echo(text: str) -> tuple[str, dict[str, str]]:
        """Echo with artifact."""
        return text, {"raw": text}

    msg = govern_tool(echo, gate).invoke({"type": "tool_call", "id": "a1", "name": "echo", "args": {"text": "t"}})
    assert msg.content == "t" and msg.artifact == {"raw": "t"}


def test_injected_arguments_work_in_a_tool_node_and_stay_out_of_the_receipt(gate, log_path, h) -> None:
    @tool
    def echo(text: str, runtime: ToolRuntime, call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Echo, with injected runtime and call id."""
        return f"{text} from {call_id} ({type(runtime).__name__})"

    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode([govern_tool(echo, gate)]))
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    out = graph.compile().invoke({"messages": [h.ai_calls(("echo", {"text": "hi"}, "inj_1"))]})
    out["messages"] = out["messages"][1:]
    assert out["messages"][0].content == "hi from inj_1 (ToolRuntime)"
    (decision,) = h.decisions(h.check_log(log_path))
    assert f"args_sha256={arguments_hash({'text': 'hi'})}" in decision["action"]["description"]
    assert decision["proposal_id"] == "inj_1"


def test_agent_with_governed_tools(gate, tools, calls, log_path, h) -> None:
    model = h.fake_model(h.ai_calls(("add", {"a": 1, "b": 2}, "g1"),
                                    ("delete_everything", {"path": "/"}, "g2")))
    agent = create_agent(model, govern_tools([tools["add"], tools["delete_everything"]], gate))
    out = agent.invoke({"messages": [{"role": "user", "content": "go"}]})
    by_id = {m.tool_call_id: m for m in out["messages"] if isinstance(m, ToolMessage)}
    assert by_id["g1"].content == "3" and by_id["g1"].status == "success"
    assert by_id["g2"].status == "error" and "DESTRUCTIVE_OPERATION_BLOCKED" in by_id["g2"].content
    assert out["messages"][-1].content == "all done"
    assert calls == {"add": 1}
    rows = h.decisions(h.check_log(log_path))
    assert sorted(r["proposal_id"] for r in rows) == ["g1", "g2"]


def test_govern_tool_rejects_what_it_cannot_govern(gate, tools) -> None:
    with pytest.raises(TypeError):
        govern_tool(lambda x: x, gate)  # type: ignore[arg-type]
    governed = govern_tool(tools["add"], gate)
    assert isinstance(governed, GovernedTool)
    with pytest.raises(ValueError):
        govern_tool(governed, gate)
    with pytest.raises(ValueError):
        govern_tool(tools["add"], gate, on_deny="ignore")  # type: ignore[arg-type]


async def test_simple_tool_async(gate, log_path, h) -> None:
    seen: list[str] = []
    simple = Tool(name="echo", description="Echo.", func=lambda s: seen.append(s) or s)
    governed = govern_tool(simple, gate)
    assert await governed.ainvoke("hey") == "hey"
    unknown = govern_tool(Tool(name="shout", description="Shout.", func=lambda s: seen.append(s) or s), gate)
    assert "TOOL_NOT_IN_MANIFEST" in await unknown.ainvoke("no")
    assert seen == ["hey"]
    assert [r["result"]["status"] for r in h.check_log(log_path)] == ["success", "success", "blocked"]


def test_a_string_input_is_decided_under_the_argument_it_fills(tmp_path, h) -> None:
    """LangChain binds a string input to the first field of the args schema: the gate must see that name,
    or a path rule on it would never fire (a write to .env approved as a plain scoped write)."""
    from spinegate import Gate, seal_manifest

    manifest = tmp_path / "paths.json"
    manifest.write_text(json.dumps({"version": "1.1.0", "posture": "NORMAL", "paths": {"base_dir": str(tmp_path)},
                                    "functions": [h.entry("write_note", "SCOPED_WRITE", path_arguments=["path"])]}),
                        encoding="utf-8")
    seal_manifest(manifest)
    written: list[str] = []

    @tool
    def write_note(path: str, text: str = "") -> str:
        """Write a note to a file."""
        written.append(path)
        return "written"

    with Gate.open(manifest, receipts=tmp_path / "r.jsonl") as gate:
        governed = govern_tool(write_note, gate)
        assert governed.invoke("notes/today.txt") == "written"
        refusal = governed.invoke(str(tmp_path / ".env"))
        refusal_async = asyncio.run(governed.ainvoke(str(tmp_path / ".env")))
    assert written == ["notes/today.txt"]
    assert "RESTRICTED_WRITE_FORBIDDEN" in refusal and "RESTRICTED_WRITE_FORBIDDEN" in refusal_async
