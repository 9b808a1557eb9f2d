"""Agent middleware: the gate decides every tool call a `create_agent` agent makes.

    from spinegate_langchain import SpineMiddleware
    agent = create_agent(model, tools, middleware=[SpineMiddleware(gate)])

The same object also works on a LangGraph `ToolNode`:

    mw = SpineMiddleware(gate)
    ToolNode(tools, wrap_tool_call=mw.wrap_tool_call, awrap_tool_call=mw.awrap_tool_call)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, interrupt

from spinegate import Approval, ApprovalRequest, Decision, Gate, GovernanceVeto, ToolCall

from ._common import (
    FRAMEWORK,
    OnDeny,
    adecide_malformed,
    arun_recorded,
    checked_on_deny,
    decide_malformed,
    model_arguments,
    model_of,
    run_recorded,
)

#: The `kind` of the value SpineMiddleware passes to `langgraph.types.interrupt`.
APPROVAL_INTERRUPT = "spinegate.approval"
#: Who the receipt says decided, when a person answered with a bare bool.
PERSON = "person via LangGraph interrupt"

ToolResult = ToolMessage | Command[Any]


class _Malformed(NamedTuple):
    """A tool call LangChain handed over in a shape the gate cannot read: refused (MALFORMED_TOOL_CALL)."""

    name: Any
    plugin: str | None
    proposal_id: str | None
    model: str | None
    what: str


def approval_from_resume(value: Any) -> Any:
    """Turn what a person passed to `Command(resume=...)` into the gate's answer.

    Accepted: True / False, a `spinegate.Approval`, or a mapping
    `{"approved": bool, "by": str, "note": str}`. Anything else is handed to
    the gate as is, which refuses the call (APPROVER_ERROR) with a receipt.
    """
    if isinstance(value, Approval):
        return value
    if isinstance(value, bool):
        return Approval(value, by=PERSON)
    if isinstance(value, Mapping) and isinstance(value.get("approved"), bool):
        by = value.get("by")
        note = value.get("note")
        return Approval(value["approved"], by=str(by) if by else PERSON, note=str(note) if note else "")
    return value


class SpineMiddleware(AgentMiddleware):
    """Governs every tool call of an agent, sync (`invoke`) and async (`ainvoke`).

    On deny the tool is not called and the agent receives a
    `ToolMessage(status="error")` carrying the reason and the receipt id, and
    the run goes on (or, with `on_deny="raise"`, `GovernanceVeto` ends it). The
    tool-call id becomes the receipt's `proposal_id`; an outcome receipt is
    written after each call that ran.

    Escalation (manifest entries with `requires_confirmation: true`): by default
    the gate's own approver callback answers (`Gate.open(..., approver=fn)`).
    With `human_in_the_loop=True` the middleware instead pauses the graph with
    `langgraph.types.interrupt(...)` in the tool node's own context (this needs
    a checkpointer) and a person answers with `Command(resume=True | False |
    {"approved": ..., "by": ..., "note": ...})`; the gate then writes one
    decision receipt naming who decided.
    """

    def __init__(self, gate: Gate, *, plugin: str | None = None, plugins: Mapping[str, str | None] | None = None,
                 on_deny: OnDeny = "refuse", record_outcomes: bool = True,
                 human_in_the_loop: bool = False, model: str | None = None) -> None:
        """`plugin` (or per tool name, `plugins`) is the manifest plugin the tools are declared under;
        None (the default) matches entries declared with `"plugin": null`."""
        super().__init__()
        self.gate = gate
        self.plugin = plugin
        self.plugins = dict(plugins or {})
        self.on_deny = checked_on_deny(on_deny)
        self.record_outcomes = record_outcomes
        self.human_in_the_loop = human_in_the_loop
        self.model = model
        self.tools: list[BaseTool] = []

    # -- from a LangChain tool call to the gate's terms -----------------------------

    def _call(self, request: ToolCallRequest) -> ToolCall | _Malformed:
        """The gate's ToolCall for this request, or why it is malformed (then refused with a receipt)."""
        tc = request.tool_call
        tc_id = tc.get("id") if isinstance(tc, Mapping) else None
        proposal_id = tc_id if isinstance(tc_id, str) and tc_id else None
        name = tc.get("name") if isinstance(tc, Mapping) else None
        plugin = self.plugins.get(name, self.plugin) if isinstance(name, str) else self.plugin
        model = self.model or model_of(request.state, proposal_id)
        if not isinstance(name, str) or not name:
            return _Malformed(name, plugin, proposal_id, model, "the tool call has no tool name")
        args: Any = tc.get("args")  # a dict by LangChain's types; anything by a broken caller's
        arguments = None if isinstance(args, str) else model_arguments(request.tool, args)
        if arguments is None:
            return _Malformed(name, plugin, proposal_id, model,
                              f"the tool call's args are a {type(args).__name__}, not an object")
        return ToolCall(function=name, plugin=plugin, arguments=arguments, proposal_id=proposal_id,
                        framework=FRAMEWORK, model=model)

    def _ask_person(self, call: ToolCall) -> Callable[[ApprovalRequest], Any] | None:
        """If this call needs a person, interrupt the graph and return an approver holding the answer.

        Runs in the tool node's context, where `interrupt` can pause the graph:
        the first run raises there (no receipt is written); on resume the
        answer comes back and the gate, re-deciding the call, is given it as
        this one call's approver.
        """
        if not self.human_in_the_loop:
            return None
        preview = self._preview(call)
        if preview is None:
            return None
        answer = approval_from_resume(interrupt(preview))
        return lambda _request: answer

    def _preview(self, call: ToolCall) -> dict[str, Any] | None:
        """The question for a person, if the gate would escalate this call now; else None.

        `Gate.approval_request` writes nothing; the gate decides again when
        given the answer, so this only spares a person calls refused anyway.
        """
        try:
            request = self.gate.approval_request(call)
        except Exception:  # noqa: BLE001 - e.g. arguments that cannot be hashed: check() refuses those
            return None
        if request is None:
            return None
        return {
            "kind": APPROVAL_INTERRUPT,
            "tool_call_id": call.proposal_id,
            "tool": call.tool_name,
            "arguments": dict(call.arguments),
            "effect_class": request.effect_class.value,
            "reason": request.reason,
            "rule": request.rule,
            "arguments_sha256": request.arguments_sha256,
            "session_id": self.gate.session_id,
        }

    def _refusal(self, request: ToolCallRequest, decision: Decision) -> ToolMessage:
        if self.on_deny == "raise":
            raise GovernanceVeto(decision)
        tc = request.tool_call
        tc_id = tc.get("id") if isinstance(tc, Mapping) else None
        name = tc.get("name") if isinstance(tc, Mapping) else None
        return ToolMessage(content=decision.refusal_message(), tool_call_id=tc_id if isinstance(tc_id, str) else "",
                           name=name if isinstance(name, str) else None, status="error")

    # -- the two hooks ----------------------------------------------------------

    def wrap_tool_call(self, request: ToolCallRequest,
                       handler: Callable[[ToolCallRequest], ToolResult]) -> ToolResult:
        """Decide, then call the handler only if approved; record the outcome."""
        call = self._call(request)
        if isinstance(call, _Malformed):
            decision = decide_malformed(self.gate, *call)
        else:
            decision = self.gate.check(call, approver=self._ask_person(call))
        if not decision.approved:
            return self._refusal(request, decision)
        return run_recorded(self.gate, decision, lambda: handler(request), record=self.record_outcomes)

    async def awrap_tool_call(self, request: ToolCallRequest,
                              handler: Callable[[ToolCallRequest], Awaitable[ToolResult]]) -> ToolResult:
        """Async `wrap_tool_call`: `Gate.acheck`, then the handler only if approved."""
        call = self._call(request)
        if isinstance(call, _Malformed):
            decision = await adecide_malformed(self.gate, *call)
        else:
            decision = await self.gate.acheck(call, approver=self._ask_person(call))
        if not decision.approved:
            return self._refusal(request, decision)
        return await arun_recorded(self.gate, decision, lambda: handler(request), record=self.record_outcomes)
