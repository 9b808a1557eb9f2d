"""Asking a person through MCP elicitation: the form, the message, reading the answer.

The proxy (and `govern_server`) ask with an `elicitation/create` request: a
form with one required yes/no field, saying which tool, its effect, why a
person is asked, and the arguments. Only an explicit "accept" with approve =
true approves; decline, cancel, or an answer that does not fit the form is a
refusal.
"""


from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from spinegate import Approval, EffectClass, ToolCall
from spinegate.canonical import arguments_hash

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


def approval_message(call: ToolCall, effect: EffectClass, rule: str) -> str:
    """What the person reads: the tool, its effect, why a person is asked, and the arguments."""
    try:
        shown = json.dumps(dict(call.arguments), ensure_ascii=False, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - arguments that cannot be shown are still identified by their hash
        shown = "(cannot be shown)"
    if len(shown) > ARGUMENTS_SHOWN:
        shown = shown[: ARGUMENTS_SHOWN - 3] + "..."
    return (f"spinegate: approve a call to {call.tool_name} ({effect.value})?\n"
            f"Why you are asked: {rule}.\n"
            f"Arguments: {shown}\n"
            f"(arguments sha256 {arguments_hash(call.arguments)})")


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
