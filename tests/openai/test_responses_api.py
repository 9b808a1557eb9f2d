"""Responses API: the real openai client against a local server, `function_call` items in, outputs back."""

from __future__ import annotations

from openai_support import (
    RESPONSES_SPECS,
    chat_turn,
    check_replies,
    check_turn_receipts,
    decisions,
    outcomes,
    responses_turn,
)

from loopback_model import LoopbackModel, function_call, output_message, response
from spinegate import Gate
from spinegate_openai import ToolCallInterceptor, parameters_from_specs


def test_sync_client_turn(gate: Gate, tools, check_log) -> None:
    with LoopbackModel(responses=[responses_turn(), response([output_message("done")])]) as server:
        client = server.client()
        first = client.responses.create(model="gpt-test", input="go", tools=RESPONSES_SPECS)
        interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters=parameters_from_specs(RESPONSES_SPECS),
                                          model=first.model)
        items = interceptor.handle(first.output)  # reasoning and message items need no answer
        final = client.responses.create(model="gpt-test", input=items, previous_response_id=first.id)
        assert final.output_text == "done"
        sent = server.requests_to("responses")[1]

    assert sent["previous_response_id"] == first.id
    check_replies(sent["input"], api="responses")
    assert tools.calls == {"search": 1, "lookup": 2, "explode": 1}
    check_turn_receipts(check_log())


async def test_async_client_turn(gate: Gate, tools, check_log) -> None:
    with LoopbackModel(responses=[responses_turn(model="gpt-resp"), response([output_message("done")])]) as server:
        client = server.async_client()
        first = await client.responses.create(model="gpt-resp", input="go", tools=RESPONSES_SPECS)
        interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters=parameters_from_specs(RESPONSES_SPECS))
        items = await interceptor.ahandle(first)  # the whole Response: its model names the receipts
        # stateless follow-up: the model's own items, then the outputs
        await client.responses.create(model="gpt-resp", input=[*[i.model_dump(exclude_none=True) for i in first.output],
                                                                 *items])
        sent = server.requests_to("responses")[1]
        await client.close()

    outputs = [i for i in sent["input"] if i["type"].endswith("_output")]
    check_replies(outputs, api="responses")
    assert tools.max_in_flight == 2
    assert tools.calls == {"search": 1, "lookup": 2, "explode": 1}
    check_turn_receipts(check_log(), model="gpt-resp")


def test_same_turn_either_api_same_decisions(manifest_path, tmp_path, tools) -> None:
    """The two APIs' versions of one turn lead to the same verdicts and reasons."""
    from openai_support import GIT

    verdicts = []
    for name, payload in (("chat", chat_turn()), ("responses", responses_turn())):
        with Gate.open(manifest_path, receipts=tmp_path / f"{name}.jsonl", git=GIT) as gate:
            results = ToolCallInterceptor(gate, tools.mapping(),
                                          parameters=parameters_from_specs(RESPONSES_SPECS)).process(payload)
        verdicts.append([(r.call_id, r.decision.approved, r.decision.reason, r.ran) for r in results])
    assert verdicts[0] == verdicts[1]


def test_namespaced_function_is_its_own_tool(gate: Gate, tools, receipts) -> None:
    """A call in a tool namespace is looked up as "namespace.name": never confused with a bare tool."""
    item = function_call("ns1", "search", {"query": "x"})
    item["namespace"] = "crm"
    out = ToolCallInterceptor(gate, tools.mapping()).handle([item])
    assert tools.calls == {}
    row = decisions(receipts())["ns1"]
    assert row["action"]["tool"] == "crm.search"
    assert row["result"]["blocked_by"] == "TOOL_NOT_IN_MANIFEST"
    assert out == [{"type": "function_call_output", "call_id": "ns1", "output": out[0]["output"]}]


def test_client_side_hosted_calls_are_refused_with_a_matching_output(gate: Gate, tools, receipts) -> None:
    """Shell and patch calls the client would have to run are refused with outputs the API accepts."""
    items = [
        {"type": "shell_call", "id": "sh_1", "call_id": "shell1", "action": {"commands": ["rm -rf /"]},
         "status": "completed"},
        {"type": "apply_patch_call", "id": "ap_1", "call_id": "patch1", "status": "completed",
         "operation": {"type": "delete_file", "path": "a.txt"}},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},  # the service ran it: no answer
    ]
    out = ToolCallInterceptor(gate, tools.mapping()).handle(items)
    assert [o["type"] for o in out] == ["shell_call_output", "apply_patch_call_output"]
    assert out[0]["call_id"] == "shell1" and out[1]["call_id"] == "patch1" and out[1]["status"] == "failed"
    rows = receipts()
    assert [r["result"]["blocked_by"] for r in rows] == ["UNSUPPORTED_TOOL_CALL_TYPE"] * 2
    assert not outcomes(rows)


def test_a_programs_call_is_answered_to_that_program(gate: Gate, tools) -> None:
    """A function call made by a hosted program carries its caller; the output must carry it back."""
    item = function_call("p1", "search", {"query": "x"})
    item["caller"] = {"type": "program", "caller_id": "prog_7"}
    with LoopbackModel(responses=[response([item, function_call("d1", "search", {"query": "y"})])]) as server:
        first = server.client().responses.create(model="gpt-test", input="go")
    out = ToolCallInterceptor(gate, tools.mapping()).handle(first.output)
    assert out[0]["caller"] == {"type": "program", "caller_id": "prog_7"}
    assert "caller" not in out[1]
    assert tools.calls == {"search": 2}
