"""OpenAI Agents SDK: a real Runner, a real model class and client, a local server playing the model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from openai_support import decisions, outcomes

agents = pytest.importorskip("agents")

from agents import (  # noqa: E402
    Agent,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    WebSearchTool,
    function_tool,
    set_tracing_disabled,
)

from loopback_model import (  # noqa: E402
    LoopbackModel,
    chat_completion,
    chat_tool_call,
    function_call,
    output_message,
    response,
)
from spinegate import Gate  # noqa: E402
from spinegate_openai import govern_agent  # noqa: E402

set_tracing_disabled(True)

# call id -> (tool, arguments as written by the model, what must happen)
CALLS: list[tuple[str, str, Any, str]] = [
    ("a_search", "search", {"query": "alpha"}, "ran"),
    ("a_lookup", "lookup", {"key": "k1"}, "ran"),
    ("a_delete", "delete_file", {"path": "/etc"}, "DESTRUCTIVE_OPERATION_BLOCKED"),
    ("a_badjson", "search", '{"query": ', "INVALID_ARGUMENTS_JSON"),
    ("a_notobject", "lookup", "[1, 2]", "ARGUMENTS_NOT_OBJECT"),
    ("a_mismatch", "search", {"q": 1}, "ARGUMENTS_SCHEMA_MISMATCH"),
    ("a_unknown", "undeclared", {"path": "x"}, "TOOL_NOT_IN_MANIFEST"),
    ("a_explode", "explode", {"path": "p"}, "failed"),
]


def make_agent(ran: dict[str, int], model: Any, *, hosted: bool = False) -> Agent[Any]:
    def count(name: str) -> None:
        ran[name] = ran.get(name, 0) + 1

    @function_tool
    def search(query: str) -> str:
        """Search the index."""
        count("search")
        return f"results for {query}"

    @function_tool
    async def lookup(key: str) -> str:
        """Look a key up."""
        count("lookup")
        await asyncio.sleep(0)
        return f"value of {key}"

    @function_tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        count("delete_file")
        return "deleted"

    @function_tool
    def undeclared(path: str) -> str:
        """Not in the manifest."""
        count("undeclared")
        return "must not run"

    @function_tool
    def explode(path: str) -> str:
        """Always fails."""
        count("explode")
        raise OSError(f"disk on fire at {path}")

    return Agent(name="worker", instructions="use the tools", model=model,
                 tools=[search, lookup, delete_file, undeclared, explode, *([WebSearchTool()] if hosted else [])])


def check(rows: list[dict[str, Any]], outputs: dict[str, str], ran: dict[str, int], model: str) -> None:
    made, done = decisions(rows), outcomes(rows)
    assert set(made) == {cid for cid, *_ in CALLS}
    for cid, _, _, what in CALLS:
        assert made[cid]["executor"] == {**made[cid]["executor"], "type": "openai", "model": model}
        text = outputs[cid]
        if what == "ran":
            assert made[cid]["result"]["status"] == "success"
            assert done[cid]["result"]["status"] == "success"
            assert done[cid]["result"]["stdout_truncated"] == text
        elif what == "failed":
            assert done[cid]["result"]["status"] == "failed"
            assert "error occurred" in text
        else:
            assert made[cid]["result"]["blocked_by"] == what, cid
            assert cid not in done
            assert text.startswith("spinegate refused") and what in text and made[cid]["receipt_id"] in text
    assert ran == {"search": 1, "lookup": 1, "explode": 1}


async def test_runner_with_chat_completions_model(gate: Gate, check_log) -> None:
    first = chat_completion(tool_calls=[chat_tool_call(cid, name, args) for cid, name, args, _ in CALLS])
    with LoopbackModel(chat=[first, chat_completion(content="finished")]) as server:
        client = server.async_client()
        ran: dict[str, int] = {}
        agent = make_agent(ran, OpenAIChatCompletionsModel(model="gpt-test", openai_client=client))
        governed = govern_agent(agent, gate)
        result = await Runner.run(governed, "do the work")
        bodies = server.requests_to("chat")
        await client.close()
    assert result.final_output == "finished"
    assert len(bodies) == 2
    outputs = {m["tool_call_id"]: m["content"] for m in bodies[1]["messages"] if m["role"] == "tool"}
    check(check_log(), outputs, ran, "gpt-test")
    # the original agent is left ungoverned and unchanged
    assert all(not t.tool_input_guardrails for t in agent.tools if hasattr(t, "tool_input_guardrails"))


async def test_runner_with_responses_model(gate: Gate, check_log) -> None:
    first = response([function_call(cid, name, args) for cid, name, args, _ in CALLS])
    with LoopbackModel(responses=[first, response([output_message("finished")])]) as server:
        client = server.async_client()
        ran: dict[str, int] = {}
        agent = make_agent(ran, OpenAIResponsesModel(model="gpt-resp", openai_client=client), hosted=True)
        result = await Runner.run(govern_agent(agent, gate), "do the work")
        bodies = server.requests_to("responses")
        await client.close()
    assert result.final_output == "finished"
    outputs = {i["call_id"]: i["output"] for i in bodies[1]["input"] if i.get("type") == "function_call_output"}
    check(check_log(), outputs, ran, "gpt-resp")


def test_sync_runner(gate: Gate, receipts) -> None:
    first = chat_completion(tool_calls=[chat_tool_call("s1", "search", {"query": "x"}),
                                        chat_tool_call("s2", "delete_file", {"path": "y"})])
    with LoopbackModel(chat=[first, chat_completion(content="ok")]) as server:
        ran: dict[str, int] = {}
        client = server.async_client()
        agent = make_agent(ran, OpenAIChatCompletionsModel(model="gpt-test", openai_client=client))
        try:
            result = Runner.run_sync(govern_agent(agent, gate), "go")
        finally:  # run_sync leaves the thread's default loop open on purpose; close it here
            policy = asyncio.get_event_loop_policy()
            loop = policy.get_event_loop()
            loop.run_until_complete(client.close())
            loop.close()
            policy.set_event_loop(None)
    assert result.final_output == "ok" and ran == {"search": 1}
    rows = receipts()
    assert decisions(rows)["s2"]["result"]["blocked_by"] == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert json.loads(json.dumps(rows))  # plain JSON throughout


def test_governing_twice_adds_one_guardrail(gate: Gate) -> None:
    agent = make_agent({}, "gpt-test", hosted=True)
    twice = govern_agent(govern_agent(agent, gate), gate)
    for tool in twice.tools:
        if hasattr(tool, "tool_input_guardrails"):
            assert [g.get_name() for g in tool.tool_input_guardrails] == ["spinegate"]
            assert [g.get_name() for g in tool.tool_output_guardrails] == ["spinegate"]
    assert isinstance(twice.tools[-1], WebSearchTool)  # hosted tools are kept, not gated


async def test_the_guardrail_refuses_arguments_nested_too_deeply(gate: Gate, receipts) -> None:
    """Called directly: the SDK's own planning step fails on such arguments before any guardrail runs."""
    from agents.tool_context import ToolContext
    from agents.tool_guardrails import ToolInputGuardrailData

    ran: dict[str, int] = {}
    governed = govern_agent(make_agent(ran, "gpt-test"), gate)
    search = governed.tools[0]
    ctx = ToolContext(context=None, tool_name="search", tool_call_id="deep",
                      tool_arguments="[" * 100_000 + "]" * 100_000)
    out = await search.tool_input_guardrails[-1].run(ToolInputGuardrailData(context=ctx, agent=governed))
    assert out.behavior["type"] == "reject_content"
    assert "INVALID_ARGUMENTS_JSON" in out.behavior["message"]
    assert decisions(receipts())["deep"]["result"]["blocked_by"] == "INVALID_ARGUMENTS_JSON"
    assert ran == {}


async def test_an_unwritable_outcome_receipt_does_not_end_the_run(manifest_path, caplog) -> None:
    """The tool ran; its outcome receipt cannot be written: logged, and the model still gets the result."""
    from spinegate import MemoryReceiptStore

    class FullAfterOne(MemoryReceiptStore):
        def append(self, line: str) -> None:
            if self.receipts():
                raise OSError("No space left on device")
            super().append(line)

    store = FullAfterOne()
    first = chat_completion(tool_calls=[chat_tool_call("o1", "search", {"query": "x"})])
    with LoopbackModel(chat=[first, chat_completion(content="done")]) as server, \
            Gate.open(manifest_path, receipts=store) as gate:
        client = server.async_client()
        ran: dict[str, int] = {}
        agent = make_agent(ran, OpenAIChatCompletionsModel(model="gpt-test", openai_client=client))
        result = await Runner.run(govern_agent(agent, gate), "go")
        bodies = server.requests_to("chat")
        await client.close()
    assert result.final_output == "done" and ran == {"search": 1}
    assert [m["content"] for m in bodies[1]["messages"] if m["role"] == "tool"] == ["results for x"]
    assert "outcome receipt for decision" in caplog.text
    assert [r["proposal_id"] for r in store.receipts()] == ["o1"]
