"""Escalation: a person answers through a LangGraph interrupt (with a checkpointer), or the gate's approver."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from spinegate import Approval, ApprovalRequest, ToolCall
from spinegate_langchain import APPROVAL_INTERRUPT, SpineMiddleware

USER = {"messages": [{"role": "user", "content": "ship it"}]}


def hitl_agent(gate: Any, tools: dict[str, Any], h: Any) -> Any:
    model = h.fake_model(h.ai_calls(("add", {"a": 1, "b": 2}, "c_add"), ("deploy", {"env": "prod"}, "c_deploy")))
    return create_agent(model, [tools["add"], tools["deploy"]],
                        middleware=[SpineMiddleware(gate, human_in_the_loop=True)], checkpointer=InMemorySaver())


def tool_messages(out: dict[str, Any]) -> dict[str, ToolMessage]:
    return {m.tool_call_id: m for m in out["messages"] if isinstance(m, ToolMessage)}


def test_a_person_approves_through_an_interrupt(gate, tools, calls, log_path, h) -> None:
    agent = hitl_agent(gate, tools, h)
    config = {"configurable": {"thread_id": "approve"}}
    first = agent.invoke(USER, config)

    (pending,) = first["__interrupt__"]
    assert pending.value["kind"] == APPROVAL_INTERRUPT
    assert pending.value["tool_call_id"] == "c_deploy" and pending.value["arguments"] == {"env": "prod"}
    assert pending.value["reason"] == "APPROVAL_REQUIRED"
    assert calls == {"add": 1}  # the parallel permitted call ran; deploy waits
    assert [d["proposal_id"] for d in h.decisions(h.check_log(log_path))] == ["c_add"]  # no receipt while waiting

    final = agent.invoke(Command(resume={"approved": True, "by": "alice", "note": "change 42"}), config)
    assert tool_messages(final)["c_deploy"].content == "deployed to prod"
    assert final["messages"][-1].content == "all done"
    assert calls == {"add": 1, "deploy": 1}  # nothing ran twice on resume
    rows = h.check_log(log_path)
    deploy = [d for d in h.decisions(rows) if d["proposal_id"] == "c_deploy"]
    assert len(deploy) == 1
    assert "approved by alice" in deploy[0]["action"]["description"]
    assert "change 42" in deploy[0]["action"]["description"]
    assert sorted(o["proposal_id"] for o in h.outcomes(rows)) == ["c_add", "c_deploy"]


def test_a_person_refuses_through_an_interrupt(gate, tools, calls, log_path, h) -> None:
    agent = hitl_agent(gate, tools, h)
    config = {"configurable": {"thread_id": "refuse"}}
    agent.invoke(USER, config)
    final = agent.invoke(Command(resume=False), config)
    msg = tool_messages(final)["c_deploy"]
    assert msg.status == "error" and "APPROVAL_DENIED" in msg.content
    assert calls == {"add": 1}
    (deploy,) = [d for d in h.decisions(h.check_log(log_path)) if d["proposal_id"] == "c_deploy"]
    assert deploy["result"]["blocked_by"] == "APPROVAL_DENIED"
    assert deploy["receipt_id"] in msg.content


async def test_async_interrupt_and_resume(gate, tools, calls, log_path, h) -> None:
    agent = hitl_agent(gate, tools, h)
    config = {"configurable": {"thread_id": "async"}}
    first = await agent.ainvoke(USER, config)
    assert first["__interrupt__"][0].value["tool"] == "deploy"
    assert calls == {"add": 1}
    final = await agent.ainvoke(Command(resume=True), config)
    assert tool_messages(final)["c_deploy"].content == "deployed to prod"
    assert calls == {"add": 1, "deploy": 1}
    (deploy,) = [d for d in h.decisions(h.check_log(log_path)) if d["proposal_id"] == "c_deploy"]
    assert "person via LangGraph interrupt" in deploy["action"]["description"]


def test_an_unreadable_answer_is_a_refusal(gate, tools, calls, log_path, h) -> None:
    agent = hitl_agent(gate, tools, h)
    config = {"configurable": {"thread_id": "garbage"}}
    agent.invoke(USER, config)
    final = agent.invoke(Command(resume="sure, why not"), config)
    assert "APPROVER_ERROR" in tool_messages(final)["c_deploy"].content
    assert calls["deploy"] == 0


def test_no_interrupt_for_a_call_the_gate_refuses_anyway(gate, tools, calls, log_path, h) -> None:
    gate.set_posture("LOCKDOWN")  # LOCKDOWN refuses SHELL_MUTATING before confirmation is considered
    model = h.fake_model(h.ai_calls(("deploy", {"env": "prod"}, "c1")))
    agent = create_agent(model, [tools["deploy"]], middleware=[SpineMiddleware(gate, human_in_the_loop=True)],
                         checkpointer=InMemorySaver())
    out = agent.invoke(USER, {"configurable": {"thread_id": "lockdown"}})
    assert "__interrupt__" not in out
    assert "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY" in tool_messages(out)["c1"].content
    assert calls["deploy"] == 0


def test_the_gates_approver_callback_answers_without_hitl(open_gate, tools, calls, log_path, h) -> None:
    asked: list[ApprovalRequest] = []

    def approver(request: ApprovalRequest) -> Approval:
        asked.append(request)
        return Approval(request.call.arguments.get("env") == "staging", by="release-bot", note="staging only")

    gate = open_gate(approver=approver)
    model = h.fake_model(h.ai_calls(("deploy", {"env": "staging"}, "s1"), ("deploy", {"env": "prod"}, "s2")))
    out = create_agent(model, [tools["deploy"]], middleware=[SpineMiddleware(gate)]).invoke(USER)
    msgs = tool_messages(out)
    assert msgs["s1"].content == "deployed to staging"
    assert msgs["s2"].status == "error" and "APPROVAL_DENIED" in msgs["s2"].content
    assert calls == {"deploy": 1}
    assert sorted(r.call.proposal_id for r in asked) == ["s1", "s2"]
    assert all("release-bot" in d["action"]["description"] for d in h.decisions(h.check_log(log_path)))


def test_without_any_approver_escalation_is_refused(gate, tools, calls, h) -> None:
    model = h.fake_model(h.ai_calls(("deploy", {"env": "prod"}, "n1")))
    out = create_agent(model, [tools["deploy"]], middleware=[SpineMiddleware(gate)]).invoke(USER)
    assert "APPROVAL_REQUIRED" in tool_messages(out)["n1"].content
    assert calls["deploy"] == 0


def test_core_hook_a_per_call_approver_overrides_the_gates(open_gate) -> None:
    gate = open_gate(approver=lambda request: False)
    call = ToolCall(function="deploy", arguments={"env": "prod"}, framework="langchain")
    assert not gate.check(call).approved
    assert gate.check(call, approver=lambda request: Approval(True, by="alice")).approved
    assert gate.check(call, approver=lambda request: Approval(True, by="alice")).decided_by == "alice"
    assert not gate.check(ToolCall(function="delete_everything"), approver=lambda request: True).approved


async def test_core_hook_async(open_gate) -> None:
    gate = open_gate()
    call = ToolCall(function="deploy", arguments={"env": "prod"})
    assert not (await gate.acheck(call)).approved

    async def yes(request: ApprovalRequest) -> bool:
        return True

    assert (await gate.acheck(call, approver=yes)).approved


def test_core_hook_approval_request_writes_nothing(gate, log_path) -> None:
    request = gate.approval_request(ToolCall(function="deploy", arguments={"env": "prod"}, proposal_id="q1"))
    assert request is not None and request.reason == "APPROVAL_REQUIRED" and request.call.proposal_id == "q1"
    assert gate.approval_request(ToolCall(function="add", arguments={"a": 1, "b": 2})) is None
    assert gate.approval_request(ToolCall(function="delete_everything")) is None
    assert not log_path.exists() or log_path.stat().st_size == 0
    assert gate.budget()["steps_used"] == 0


def test_parallel_interrupts_are_answered_by_id(gate, tools, calls, log_path, h) -> None:
    model = h.fake_model(h.ai_calls(("deploy", {"env": "staging"}, "d1"), ("deploy", {"env": "prod"}, "d2")))
    agent = create_agent(model, [tools["deploy"]], middleware=[SpineMiddleware(gate, human_in_the_loop=True)],
                         checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "parallel"}}
    pending = agent.invoke(USER, config)["__interrupt__"]
    assert sorted(p.value["tool_call_id"] for p in pending) == ["d1", "d2"]
    answers = {p.id: p.value["arguments"]["env"] == "staging" for p in pending}
    final = agent.invoke(Command(resume=answers), config)
    msgs = tool_messages(final)
    assert msgs["d1"].content == "deployed to staging"
    assert msgs["d2"].status == "error" and "APPROVAL_DENIED" in msgs["d2"].content
    assert calls == {"deploy": 1}
    decisions = h.decisions(h.check_log(log_path))
    assert sorted(d["proposal_id"] for d in decisions) == ["d1", "d2"]


def test_a_tool_that_interrupts_itself_is_decided_again_on_resume(gate, log_path, h) -> None:
    from langchain_core.tools import tool
    from langgraph.types import interrupt

    @tool
    def echo(text: str) -> str:
        """Echo after a person says so."""
        return f"{text} ({interrupt('ok to echo?')})"

    model = h.fake_model(h.ai_calls(("echo", {"text": "hi"}, "i1")))
    agent = create_agent(model, [echo], middleware=[SpineMiddleware(gate)], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "self-interrupt"}}
    assert agent.invoke(USER, config)["__interrupt__"][0].value == "ok to echo?"
    final = agent.invoke(Command(resume="yes"), config)
    assert tool_messages(final)["i1"].content == "hi (yes)"
    rows = h.check_log(log_path)
    assert [(r["action"]["operation"], r["result"]["status"]) for r in rows] == [
        ("decision", "success"), ("outcome", "failed"), ("decision", "success"), ("outcome", "success")]
    assert "GraphInterrupt" in rows[1]["result"]["stdout_truncated"]
