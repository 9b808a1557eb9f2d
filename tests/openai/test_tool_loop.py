"""The one-call tool loops, sync and async, for both APIs, and their bound on rounds."""

from __future__ import annotations

import pytest
from openai_support import CHAT_SPECS, RESPONSES_SPECS, chat_turn, check_replies, check_turn_receipts, responses_turn

from loopback_model import (
    LoopbackModel,
    chat_completion,
    chat_tool_call,
    function_call,
    output_message,
    response,
)
from spinegate import Gate
from spinegate_openai import (
    ToolLoopLimitExceeded,
    arun_responses_tool_loop,
    arun_tool_loop,
    run_responses_tool_loop,
    run_tool_loop,
)

USER = [{"role": "user", "content": "go"}]


def test_chat_loop(gate: Gate, tools, check_log) -> None:
    with LoopbackModel(chat=[chat_turn(), chat_completion(content="finished")]) as server:
        result = run_tool_loop(server.client(), gate, tools.mapping(), model="gpt-test", messages=USER,
                               tool_specs=CHAT_SPECS)
        bodies = server.requests_to("chat")
    assert result.response.choices[0].message.content == "finished"
    assert result.rounds == 2 and len(bodies) == 2
    assert bodies[0]["tools"] == CHAT_SPECS and bodies[1]["tools"] == CHAT_SPECS
    assert bodies[1]["messages"][1]["role"] == "assistant"
    check_replies(bodies[1]["messages"][2:], api="chat")
    assert bodies[1]["messages"] == result.transcript
    assert tools.calls == {"search": 1, "lookup": 2, "explode": 1}
    check_turn_receipts(check_log())


async def test_async_chat_loop(gate: Gate, tools, check_log) -> None:
    with LoopbackModel(chat=[chat_turn(), chat_completion(content="finished")]) as server:
        client = server.async_client()
        result = await arun_tool_loop(client, gate, tools.mapping(), model="gpt-test", messages=USER,
                                      tool_specs=CHAT_SPECS, temperature=0)
        bodies = server.requests_to("chat")
        await client.close()
    assert result.rounds == 2 and bodies[1]["temperature"] == 0
    check_replies(bodies[1]["messages"][2:], api="chat")
    assert tools.max_in_flight == 2
    check_turn_receipts(check_log())


def test_chat_loop_bound(gate: Gate, tools, receipts) -> None:
    again = [chat_completion(tool_calls=[chat_tool_call(f"c{i}", "search", {"query": str(i)})]) for i in range(3)]
    with LoopbackModel(chat=again) as server:
        with pytest.raises(ToolLoopLimitExceeded, match="after 2 requests") as caught:
            run_tool_loop(server.client(), gate, tools.mapping(), model="gpt-test", messages=USER, max_rounds=2)
        assert len(server.requests_to("chat")) == 2
    assert tools.calls == {"search": 1}  # the calls of the last answer were not run, nor gated
    assert caught.value.response.choices[0].message.tool_calls[0].id == "c1"
    assert {r["proposal_id"] for r in receipts()} == {"c0"}


def test_max_rounds_must_be_positive(gate: Gate, tools) -> None:
    with pytest.raises(ValueError):
        run_tool_loop(object(), gate, tools.mapping(), model="m", messages=USER, max_rounds=0)


def test_responses_loop(gate: Gate, tools, check_log) -> None:
    turn = responses_turn()
    with LoopbackModel(responses=[turn, response([output_message("finished")])]) as server:
        result = run_responses_tool_loop(server.client(), gate, tools.mapping(), model="gpt-test", input="go",
                                         tool_specs=RESPONSES_SPECS)
        bodies = server.requests_to("responses")
    assert result.response.output_text == "finished" and result.rounds == 2
    assert bodies[0]["input"] == "go" and "previous_response_id" not in bodies[0]
    assert bodies[1]["previous_response_id"] == turn["id"]
    check_replies(bodies[1]["input"], api="responses")
    check_turn_receipts(check_log())


async def test_async_responses_loop_bound(gate: Gate, tools, receipts) -> None:
    again = [response([function_call(f"f{i}", "lookup", {"key": str(i)})]) for i in range(4)]
    with LoopbackModel(responses=again) as server:
        client = server.async_client()
        with pytest.raises(ToolLoopLimitExceeded):
            await arun_responses_tool_loop(client, gate, tools.mapping(), model="gpt-test", input="go", max_rounds=3)
        bodies = server.requests_to("responses")
        await client.close()
    assert len(bodies) == 3
    assert [b["input"][0]["call_id"] for b in bodies[1:]] == ["f0", "f1"]
    assert tools.calls == {"lookup": 2}
    assert [r["proposal_id"] for r in receipts()] == ["f0", "f0", "f1", "f1"]


def test_an_answer_without_choices_ends_the_chat_loop(gate: Gate, tools, receipts) -> None:
    empty = chat_completion(content="unused")
    empty["choices"] = []
    with LoopbackModel(chat=[empty]) as server:
        result = run_tool_loop(server.client(), gate, tools.mapping(), model="gpt-test", messages=USER)
    assert result.rounds == 1 and result.response.choices == [] and result.results == []
    assert tools.calls == {} and receipts() == []
