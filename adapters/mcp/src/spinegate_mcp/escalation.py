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

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from spinegate import Approval, ApprovalRequest, Decision, Gate, ToolCall

#: Puts the form to the person and returns the client's `ElicitResult` as JSON:
#: (message, requestedSchema, timeout in seconds). Raises when there is no usable answer.
AskPerson = Callable[[str, dict[str, Any], float], Awaitable[Mapping[str, Any]]]

#: The form field the person answers.
APPROVE_FIELD = "approve"
#: Longest argument text shown to the person.
ARGUMENTS_SHOWN = 1500


def approval_form() -> dict[str, Any]:
    """The `requestedSchema` of the elicitation: one required boolean."""
    return {
        "type": "object",
        "properties": {APPROVE_FIELD: {"type": "boolean", "title": "Approve this call",
                                       "description": "Yes runs the tool call once; no refuses it."}},
        "required": [APPROVE_FIELD],
    }


def approval_message(request: ApprovalRequest) -> str:
    """What the person reads: the tool, its effect, why a person is asked, and the arguments."""
    call = request.call
    try:
        shown = json.dumps(dict(call.arguments), ensure_ascii=False, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - arguments that cannot be shown are still identified by their hash
        shown = "(cannot be shown)"
    if len(shown) > ARGUMENTS_SHOWN:
        shown = shown[: ARGUMENTS_SHOWN - 3] + "..."
    return (f"spinegate: approve a call to {call.tool_name} ({request.effect_class.value})?\n"
            f"Why you are asked: {request.rule}.\n"
            f"Arguments: {shown}\n"
            f"(arguments sha256 {request.arguments_sha256})")


def answer_of(result: Mapping[str, Any], who: str) -> Approval:
    """The person's answer: approved only for action "accept" with approve = true."""
    action = result.get("action")
    content = result.get("content")
    approved = action == "accept" and isinstance(content, Mapping) and content.get(APPROVE_FIELD) is True
    note = f"elicitation {action}" if isinstance(action, str) else "an elicitation answer without an action"
    if action == "accept" and not approved:
        note += f", {APPROVE_FIELD} not true"
    return Approval(approved, by=who, note=note)


def can_elicit(initialize_params: Mapping[str, Any] | None) -> bool:
    """True when the client's initialize request declares form elicitation."""
    capabilities = (initialize_params or {}).get("capabilities")
    elicitation = capabilities.get("elicitation") if isinstance(capabilities, Mapping) else None
    if not isinstance(elicitation, Mapping):
        return False
    # an empty object means form mode (protocol 2025-06-18); later versions list the modes
    return not elicitation or isinstance(elicitation.get("form"), Mapping)


def client_label(initialize_params: Mapping[str, Any] | None) -> str:
    """`the MCP client 'NAME'` from the initialize request, for receipts."""
    info = (initialize_params or {}).get("clientInfo")
    name = info.get("name") if isinstance(info, Mapping) else None
    return f"the MCP client {name[:100]!r}" if isinstance(name, str) and name else "the MCP client"


async def decide(gate: Gate, call: ToolCall, ask: AskPerson | None, client: str = "the MCP client") -> Decision:
    """The gate's decision on `call`; an escalation is put to the person through `ask` (None: refused)."""
    if ask is None:
        return await gate.acheck(call)

    async def ask_person(request: ApprovalRequest) -> Approval:
        result = await ask(approval_message(request), approval_form(), gate.approval_timeout)
        return answer_of(result, f"a person via MCP elicitation in {client}")

    return await gate.acheck(call, approver=ask_person)
