"""Escalations through MCP elicitation: a person answers in the client's own prompt.

When the manifest says a call needs a person (`requires_confirmation`, or
`exceed_declared: "escalate"`) and the client declared the `elicitation`
capability at initialize, the escalation belongs to the host, as SPEC.md's
receipt kinds describe: `gate.acheck(call, host_approval=True)` writes an
`escalation` receipt and returns the decision escalated; the proxy asks the
person with an `elicitation/create` request (a form with one yes/no field);
`gate.aresolve_escalation(...)` writes the `decision` receipt with the answer
(an approval is checked again first), and only then is anything forwarded.
Only an explicit "accept" with approve = true approves; decline, cancel, no
answer within the gate's `approval_timeout`, or an answer that does not fit
the form denies. A client without elicitation gets the call refused with
APPROVAL_REQUIRED and a text saying that a person must approve.
"""

from __future__ import annotations

import anyio

from spinegate import Decision, Gate, ToolCall

from .elicitation import AskPerson, answer_of, approval_form, approval_message


async def decide(gate: Gate, call: ToolCall, ask: AskPerson | None, client: str = "the MCP client") -> Decision:
    """The gate's decision on `call`; an escalation is put to the person through `ask` (None: refused)."""
    if ask is None:
        return await gate.acheck(call)
    decision = await gate.acheck(call, host_approval=True)
    if not decision.escalated:
        return decision
    who = f"a person via MCP elicitation in {client}"
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
    return await gate.aresolve_escalation(decision, approved, who, note)
