"""Chat Completions: the real openai client against a local server, one turn with good, forbidden and bad calls."""

from __future__ import annotations

import json

import pytest
from openai_support import (
    CHAT_SPECS,
    EXPECTED,
    ORDER,
    SEARCH_PARAMS,
    chat_turn,
    check_replies,
    check_turn_receipts,
    decisions,
    outcomes,
)

from loopback_model import LoopbackModel, chat_completion, chat_tool_call
from spinegate import Gate
from spinegate_openai import ToolCallInterceptor, UnrecognisedOutput, parameters_from_specs

USER = [{"role": "user", "content": "find alpha, look up k1 and k2, then clean up"}]


def _follow_up(server: LoopbackModel) -> list[dict]:
    bodies = server.requests_to("chat")
    assert len(bodies) == 2
    return bodies[1]["messages"]


def test_sync_client_turn(gate: Gate, tools, check_log) -> None:
    with LoopbackModel(chat=[chat_turn(), chat_completion(content="all done")]) as server:
        client = server.client()
        first = client.chat.completions.create(model="gpt-test", messages=USER, tools=CHAT_SPECS)
        message = first.choices[0].message
        interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters=parameters_from_specs(CHAT_SPECS),
                                          model=first.model)
        replies = interceptor.handle(message)
        final = client.chat.completions.create(
            model="gpt-test", messages=[*USER, message.model_dump(exclude_none=True), *replies], tools=CHAT_SPECS)
        assert final.choices[0].message.content == "all done"
        sent = _follow_up(server)

    # the request the client actually sent carries one tool message per call, in order
    assert sent[0] == USER[0]
    assert [c["id"] for c in sent[1]["tool_calls"]] == ORDER
    check_replies(sent[2:], api="chat")
    assert json.loads(sent[2]["content"]) == {"query": "alpha", "hits": ["alpha-1", "alpha-2"]}
    # denied and malformed bodies never ran; approved ones ran once each
    assert tools.calls == {"search": 1, "lookup": 2, "explode": 1}
    check_turn_receipts(check_log())


async def test_async_client_turn_runs_calls_concurrently(gate: Gate, tools, check_log) -> None:
    with LoopbackModel(chat=[chat_turn(), chat_completion(content="all done")]) as server:
        client = server.async_client()
        first = await client.chat.completions.create(model="gpt-test", messages=USER, tools=CHAT_SPECS)
        interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters=parameters_from_specs(CHAT_SPECS))
        replies = await interceptor.ahandle(first)  # a whole ChatCompletion is accepted too
        message = first.choices[0].message
        await client.chat.completions.create(
            model="gpt-test", messages=[*USER, message.model_dump(exclude_none=True), *replies])
        sent = _follow_up(server)
        await client.close()

    check_replies(sent[2:], api="chat")
    assert tools.calls == {"search": 1, "lookup": 2, "explode": 1}
    assert tools.max_in_flight == 2  # the two async lookups overlapped
    check_turn_receipts(check_log())


async def test_sync_handle_inside_a_running_loop(gate: Gate, tools, check_log) -> None:
    """`handle` runs async tools even when called from code that already runs an event loop."""
    interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters=parameters_from_specs(CHAT_SPECS))
    replies = interceptor.handle(chat_turn()["choices"][0]["message"])  # plain dicts work as well
    check_replies(replies, api="chat")
    assert tools.calls == {"search": 1, "lookup": 2, "explode": 1}
    assert tools.max_in_flight == 2
    check_turn_receipts(check_log(), model="unknown")  # a bare message does not name its model


def test_receipts_tie_to_call_ids_and_outcomes(gate: Gate, tools, check_log) -> None:
    interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters=parameters_from_specs(CHAT_SPECS))
    results = interceptor.process(chat_turn())
    rows = check_log()
    made, done = decisions(rows), outcomes(rows)
    for result in results:
        assert made[result.call_id]["receipt_id"] == result.decision.receipt_id
        assert result.ran == (EXPECTED[result.call_id] in ("ran", "failed"))
        if result.ran:
            assert done[result.call_id]["receipt_id"] == result.outcome_receipt_id
            assert result.decision.receipt_id in done[result.call_id]["action"]["description"]
        else:
            assert result.decision.receipt_id in result.output
    failed = next(r for r in results if r.call_id == "call_explode")
    assert isinstance(failed.error, OSError)
    assert done["call_explode"]["result"]["stdout_truncated"] == "OSError: disk on fire at a"
    assert done["call_search"]["result"]["stdout_truncated"] == '{"query":"alpha","hits":["alpha-1","alpha-2"]}'


def test_without_schemas_the_signature_is_checked(gate: Gate, tools, receipts) -> None:
    """No JSON Schema given: unknown or missing argument names are still refused before running."""
    interceptor = ToolCallInterceptor(gate, tools.mapping())
    message = chat_completion(tool_calls=[
        chat_tool_call("a", "search", {"q": "x"}),
        chat_tool_call("b", "search", {}),
        chat_tool_call("c", "search", {"query": "ok"}),
    ])
    replies = interceptor.handle(message)
    assert tools.calls == {"search": 1}
    made = decisions(receipts())
    assert made["a"]["result"]["blocked_by"] == "ARGUMENTS_SCHEMA_MISMATCH"
    assert made["b"]["result"]["blocked_by"] == "ARGUMENTS_SCHEMA_MISMATCH"
    assert made["c"]["result"]["status"] == "success"
    assert "do not fit the signature of 'search'" in replies[0]["content"]


def test_schema_checks_types(gate: Gate, tools, receipts) -> None:
    interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters={"search": SEARCH_PARAMS})
    replies = interceptor.handle(chat_completion(tool_calls=[chat_tool_call("a", "search", {"query": 5})]))
    assert tools.calls == {}
    assert decisions(receipts())["a"]["result"]["blocked_by"] == "ARGUMENTS_SCHEMA_MISMATCH"
    assert "at query: 5 is not of type 'string'" in replies[0]["content"]


@pytest.mark.parametrize("raw", ["NaN", '{"query": NaN}', "", "   "])
def test_odd_argument_strings(gate: Gate, tools, receipts, raw: str) -> None:
    """Non-standard JSON constants are refused; empty arguments mean no arguments (then the schema decides)."""
    interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters={"search": SEARCH_PARAMS})
    interceptor.handle(chat_completion(tool_calls=[chat_tool_call("a", "search", raw)]))
    assert tools.calls == {}
    expected = "INVALID_ARGUMENTS_JSON" if raw.strip() else "ARGUMENTS_SCHEMA_MISMATCH"
    assert decisions(receipts())["a"]["result"]["blocked_by"] == expected


def test_malformed_calls_are_refused_even_in_shadow_mode(manifest_path, log_path, tools) -> None:
    """Shadow mode lets policy denials through, but a call that cannot run is still refused."""
    from openai_support import GIT

    with Gate.open(manifest_path, receipts=log_path, git=GIT, shadow=True) as gate:
        interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters=parameters_from_specs(CHAT_SPECS))
        results = {r.call_id: r for r in interceptor.process(chat_turn())}
    assert results["call_delete"].ran  # shadow: the policy denial is only recorded
    for cid in ("call_badjson", "call_notobject", "call_mismatch", "call_nocallable", "call_custom"):
        assert not results[cid].ran and not results[cid].decision.approved
    assert tools.calls == {"search": 1, "lookup": 2, "explode": 1, "delete_file": 1, "undeclared": 1}


def test_record_outcomes_off(gate: Gate, tools, receipts) -> None:
    interceptor = ToolCallInterceptor(gate, tools.mapping(), record_outcomes=False)
    interceptor.handle(chat_completion(tool_calls=[chat_tool_call("a", "search", {"query": "x"})]))
    rows = receipts()
    assert [r["action"]["operation"] for r in rows] == ["decision"]


def test_plugin_selects_manifest_entries(gate: Gate, tools, receipts) -> None:
    """With plugin="Files" the null-plugin entries no longer match: fail closed."""
    interceptor = ToolCallInterceptor(gate, tools.mapping(), plugin="Files")
    replies = interceptor.handle(chat_completion(tool_calls=[chat_tool_call("a", "search", {"query": "x"})]))
    assert tools.calls == {}
    row = decisions(receipts())["a"]
    assert row["result"]["blocked_by"] == "TOOL_NOT_IN_MANIFEST"
    assert row["action"]["tool"] == "Files.search"
    assert "TOOL_NOT_IN_MANIFEST" in replies[0]["content"]


def test_message_without_tool_calls_needs_no_reply(gate: Gate, tools, log_path) -> None:
    interceptor = ToolCallInterceptor(gate, tools.mapping())
    assert interceptor.handle(chat_completion(content="hello")) == []
    assert interceptor.handle({"role": "assistant", "content": "hi", "tool_calls": None}) == []
    assert not log_path.exists() or log_path.read_text() == ""


@pytest.mark.parametrize("junk", [42, "text", {"nothing": 1}, None])
def test_unrecognised_output_is_a_usage_error(gate: Gate, tools, junk) -> None:
    with pytest.raises(UnrecognisedOutput):
        ToolCallInterceptor(gate, tools.mapping()).handle(junk)
    assert tools.calls == {}


def test_missing_call_id_or_name_is_refused(gate: Gate, tools, receipts) -> None:
    message = {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "search", "arguments": '{"query": "x"}'}},
        {"id": "b", "type": "function", "function": {"arguments": '{"query": "x"}'}},
    ]}
    replies = ToolCallInterceptor(gate, tools.mapping()).handle(message)
    assert tools.calls == {}
    rows = receipts()
    assert [r["result"]["blocked_by"] for r in rows] == ["MALFORMED_TOOL_CALL", "MALFORMED_TOOL_CALL"]
    assert rows[1]["proposal_id"] == "b"
    assert all("MALFORMED_TOOL_CALL" in r["content"] for r in replies)


def test_unserialisable_result_counts_as_failure(gate: Gate, receipts) -> None:
    class Opaque:
        def __str__(self) -> str:
            raise RuntimeError("no text form")

    interceptor = ToolCallInterceptor(gate, {"search": lambda query: Opaque()})
    replies = interceptor.handle(chat_completion(tool_calls=[chat_tool_call("a", "search", {"query": "x"})]))
    assert replies[0]["content"].startswith("Error: the tool search failed")
    assert outcomes(receipts())["a"]["result"]["status"] == "failed"
