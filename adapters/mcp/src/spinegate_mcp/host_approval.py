"""Escalations recorded as the host's own: an `escalation` receipt, then the person's answer.

The MCP client asks the person (elicitation), so the escalation belongs to the
host, as SPEC.md's receipt kinds describe: `gate.acheck(call,
host_approval=True)` writes an `escalation` receipt and returns the decision
escalated; the person is asked; `gate.aresolve_escalation(...)` writes the
`decision` receipt with the answer (an approval is checked again first), and
only then is anything forwarded. No answer within the gate's
`approval_timeout`, or one that cannot be read, is a refusal.

This needs a spinegate whose gate has `resolve_escalation` (added with the
escalation, posture and reload receipts). `AVAILABLE` says whether the
installed one has it; `escalation.decide` falls back to an approver callback
(one `decision` receipt naming the person) when it does not.
"""

from __future__ import annotations

from typing import Any, cast

import anyio

from spinegate import Decision, Gate, ToolCall

from .elicitation import AskPerson, answer_of, approval_form, approval_message

#: True when the installed spinegate records host escalations.
AVAILABLE = hasattr(Gate, "resolve_escalation")


async def decide(gate: Gate, call: ToolCall, ask: AskPerson, who: str) -> Decision:
    """Decide `call`; when it escalates, ask the person through `ask` and record their answer."""
    host = cast(Any, gate)  # typed against the gate that has host escalations
    decision: Decision = await host.acheck(call, host_approval=True)
    if not getattr(decision, "escalated", False):
        return decision
    timeout = gate.approval_timeout
    try:
        with anyio.fail_after(timeout):
            result = await ask(approval_message(call, decision.effect_class, decision.rule), approval_form(), timeout)
        answer = answer_of(result, who)
        approved, note = answer.approved, answer.note
    except TimeoutError:
        approved, note = False, f"no answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - no usable answer is a refusal
        approved, note = False, f"the question could not be asked: {type(exc).__name__}: {exc}"
    resolved: Decision = await host.aresolve_escalation(decision, approved, who, note)
    return resolved
