"""Escalations through MCP elicitation: a person answers in the client's own prompt.

When the manifest says a call needs a person (`requires_confirmation`, or
`exceed_declared: "escalate"`) and the client declared the `elicitation`
capability at initialize, the proxy asks the person with an
`elicitation/create` request (a form with one yes/no field) before anything is
forwarded. Only an explicit "accept" with approve = true approves; decline,
cancel, no answer within the gate's `approval_timeout`, or an answer that does
not fit the form denies. A client without elicitation gets the call refused
with APPROVAL_REQUIRED and a text saying that a person must approve.
"""

from __future__ import annotations

from spinegate import Approval, ApprovalRequest, Decision, Gate, ToolCall

from . import host_approval
from .elicitation import AskPerson, answer_of, approval_form, approval_message


async def decide(gate: Gate, call: ToolCall, ask: AskPerson | None, client: str = "the MCP client") -> Decision:
    """The gate's decision on `call`; an escalation is put to the person through `ask` (None: refused).

    With a gate that records host escalations (`host_approval`), the question
    is an `escalation` receipt and the answer a `decision` receipt (see
    `host_approval`); with an older gate, the answer is one `decision` receipt
    naming the person as the approver.
    """
    if ask is None:
        return await gate.acheck(call)
    who = f"a person via MCP elicitation in {client}"
    if host_approval.AVAILABLE:
        return await host_approval.decide(gate, call, ask, who)

    async def ask_person(request: ApprovalRequest) -> Approval:
        result = await ask(approval_message(request.call, request.effect_class, request.rule), approval_form(),
                           gate.approval_timeout)
        return answer_of(result, who)

    return await gate.acheck(call, approver=ask_person)
