"""Escalations through MCP elicitation, via the proxy: the person answers in the client, before anything runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from mcp import types

from mcp_support import text_of


def person(action: str, approve: Any = True, asked: list[str] | None = None) -> Any:
    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        if asked is not None:
            asked.append(params.message)
        content = {"approve": approve} if action == "accept" else None
        return types.ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    return answer


async def test_person_approves(setup: Any, h: SimpleNamespace) -> None:
    asked: list[str] = []
    async with setup.client(elicitation_callback=person("accept", True, asked)) as session:
        result = await session.call_tool("deploy", {"env": "staging"})
    assert not result.isError and text_of(result) == "ran deploy"
    assert len(asked) == 1
    assert "upstream-test.deploy" in asked[0] and "requires confirmation" in asked[0] and "staging" in asked[0]
    assert h.seen(setup.seen) == [{"tool": "deploy", "arguments": {"env": "staging"}}]
    rows = h.check_log(setup.log)
    approved = [r for r in h.of(rows, "decision") if r["result"]["status"] == "success"]
    assert len(approved) == 1 and "a person via MCP elicitation" in approved[0]["action"]["description"]
    assert len(h.of(rows, "outcome")) == 1
    # the question is its own receipt, written before the person answered
    escalation = h.of(rows, "escalation")
    assert len(escalation) == 1 and escalation[0]["result"]["blocked_by"] == "APPROVAL_REQUIRED"
    assert [r["action"]["operation"] for r in rows] == ["escalation", "decision", "outcome"]
    assert escalation[0]["receipt_id"] in approved[0]["action"]["description"]


@pytest.mark.parametrize("action, approve", [("decline", None), ("cancel", None), ("accept", False),
                                             ("accept", "yes")])
async def test_anything_but_an_explicit_yes_refuses(setup: Any, h: SimpleNamespace, action: str,
                                                    approve: Any) -> None:
    async with setup.client(elicitation_callback=person(action, approve)) as session:
        result = await session.call_tool("deploy", {"env": "prod"})
        after = await session.call_tool("echo", {"text": "still here"})
    assert result.isError and "APPROVAL_DENIED" in text_of(result)
    assert not after.isError
    assert [s["tool"] for s in h.seen(setup.seen)] == ["echo"]
    h.check_log(setup.log)


async def test_no_answer_in_time_refuses(setup: Any, h: SimpleNamespace) -> None:
    async def never(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        await anyio.sleep(4)  # the SDK's client answers after all, late: the proxy must drop that answer
        return types.ElicitResult(action="accept", content={"approve": True})

    async with setup.client("--approval-timeout", "1", elicitation_callback=never) as session:
        result = await session.call_tool("deploy", {"env": "prod"})
    # recorded as the person's refusal ("no answer within 1 s") or, with an older gate, the approver's timeout
    assert result.isError and any(code in text_of(result) for code in ("APPROVAL_DENIED", "APPROVAL_TIMEOUT",
                                                                        "APPROVER_ERROR"))
    assert h.seen(setup.seen) == []
    assert "unknown request ID" not in setup.stderr()  # the late answer was not passed on to the server
    h.check_log(setup.log)


async def test_person_approves_over_http(setup: Any, h: SimpleNamespace) -> None:
    process, url = setup.start_proxy_http()
    setup.processes.append(process)
    async with setup.http_client(url, elicitation_callback=person("accept", True)) as session:
        result = await session.call_tool("deploy", {"env": "staging"})
    assert text_of(result) == "ran deploy"
    h.check_log(setup.log)


async def test_a_call_cancelled_while_the_person_is_asked_is_refused_at_once(setup: Any, h: SimpleNamespace) -> None:
    """The model gave up on the call: a person's later yes must not approve a call that can no longer run."""
    asked = anyio.Event()

    async def slow_person(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.set()
        await anyio.sleep(3)  # would approve, after the client has cancelled the call
        return types.ElicitResult(action="accept", content={"approve": True})

    def deploy_rows() -> list[dict[str, Any]]:
        return [r for r in h.receipts(setup.log) if r["action"]["tool"] == "upstream-test.deploy"]

    async with setup.client(elicitation_callback=slow_person) as session:
        request_id = session._request_id  # the id the next request gets (the SDK numbers them in order)
        async with anyio.create_task_group() as tg:
            async def call() -> None:
                await session.call_tool("deploy", {"env": "prod"})

            tg.start_soon(call)
            with anyio.fail_after(20):
                await asked.wait()
            await session.send_notification(types.ClientNotification(types.CancelledNotification(
                params=types.CancelledNotificationParams(requestId=request_id, reason="the user pressed stop"))))
            with anyio.fail_after(2):  # decided while the person is still looking at the question
                while len(deploy_rows()) < 2:
                    await anyio.sleep(0.05)
            await anyio.sleep(2)  # the person's late yes arrives, and is dropped
            tg.cancel_scope.cancel()
        after = await session.call_tool("echo", {"text": "still here"})
    assert text_of(after) == "echo: still here"
    h.check_log(setup.log)
    deploy = deploy_rows()
    assert [r["action"]["operation"] for r in deploy] == ["escalation", "decision"]
    assert deploy[1]["result"]["blocked_by"] == "APPROVAL_DENIED"
    assert "cancelled" in deploy[1]["action"]["description"]
    assert [s["tool"] for s in h.seen(setup.seen)] == ["echo"]
