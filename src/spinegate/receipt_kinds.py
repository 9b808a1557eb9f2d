"""spinegate's receipt kinds (SPEC.md): what each one's `action` and `result` say. Pure.

Every kind is a v1.0.0 receipt like any other (`action.operation` is a free
string there), built by `receipt_body.receipt_content`:

    decision         the gate decided a call (approve or deny)
    shadow_decision  shadow mode: decided, not enforced
    escalation       the host asks a person in its own prompt; blocked by APPROVAL_REQUIRED until answered
    outcome          what an approved (or person-approved) call did
    posture          an operator or a person's new prompt changed the session's posture
    reload           a long-running gate loaded a changed, correctly sealed manifest

Descriptions follow one pattern: what happened, to which tool or state, why,
then ``args_sha256=`` / ``output_sha256=`` where a call is concerned.
"""

from __future__ import annotations

import operator
from typing import Any

from .canonical import canonical_arguments
from .effects import EffectClass, Posture
from .reasons import APPROVAL_REQUIRED
from .receipt_body import DESCRIPTION_LIMIT, NAME_LIMIT, REASON_LIMIT, bounded, receipt_content

DECISION = "decision"
SHADOW_DECISION = "shadow_decision"
ESCALATION = "escalation"
OUTCOME = "outcome"
POSTURE = "posture"
RELOAD = "reload"

Content = tuple[dict[str, Any], dict[str, Any]]


def _with_note(description: str, note: str | None) -> str:
    """`description` with a note that applies (a posture that tightened, say), bounded."""
    if note:
        description = f"{description}; {note}"
    return bounded(description, DESCRIPTION_LIMIT) if len(description) > DESCRIPTION_LIMIT else description


def decision_content(tool: str, effect: EffectClass, risk_delta: float, reason: str | None, rule: str,
                     denied: bool, shadow: bool, decided_by: str | None, args_sha256: str, command: str | None,
                     paths: list[str], note: str | None = None) -> Content:
    """A `decision` (or `shadow_decision`) receipt: the verdict, who decided, the rule, the arguments' hash."""
    if shadow and denied:
        operation = SHADOW_DECISION
        # rule and reason bounded on their own, so the arguments' hash always survives in the receipt
        description = (f"SHADOW (not enforced): would deny {tool}: {bounded(reason or '', 300)}; "
                       f"{bounded(rule, REASON_LIMIT)}; args_sha256={args_sha256}")
    else:
        operation = SHADOW_DECISION if shadow else DECISION
        word = "denied" if denied else "approved"
        prefix = "SHADOW (not enforced): " if shadow else ""
        by = bounded(f" by {decided_by}", NAME_LIMIT) if decided_by else ""
        if len(rule) > REASON_LIMIT:
            rule = bounded(rule, REASON_LIMIT)
        description = f"{prefix}{word}{by} {tool}: {rule}; args_sha256={args_sha256}"
    if note or len(description) > DESCRIPTION_LIMIT:  # checked here: the common case calls nothing more
        description = _with_note(description, note)
    blocked = denied and not shadow
    return receipt_content(tool, operation, effect, risk_delta, description, command, paths,
                           "blocked" if blocked else "success",
                           blocked_by=bounded(reason or "", REASON_LIMIT) if blocked else None)


def escalation_content(*, tool: str, effect: EffectClass, risk_delta: float, rule: str, args_sha256: str,
                       command: str | None, paths: list[str]) -> Content:
    """An `escalation` receipt: the host asks a person; the call runs only if the person approves there."""
    description = (f"escalated {tool} to a person in the host's prompt: {bounded(rule, REASON_LIMIT)}; "
                   f"args_sha256={args_sha256}")
    return receipt_content(tool, ESCALATION, effect, risk_delta, _with_note(description, None), command, paths,
                           "blocked", blocked_by=APPROVAL_REQUIRED)


def answer_content(*, tool: str, effect: EffectClass, risk_delta: float, escalation_id: str, denied: bool,
                   reason: str | None, rule: str, args_sha256: str, command: str | None, paths: list[str],
                   note: str | None = None) -> Content:
    """The `decision` receipt of a person's answer to an escalation: which escalation, who decided, the rule."""
    word = "denied" if denied else "approved"
    if len(rule) > REASON_LIMIT:
        rule = bounded(rule, REASON_LIMIT)
    description = f"{word} {tool}, answering escalation receipt {escalation_id}: {rule}; args_sha256={args_sha256}"
    return receipt_content(tool, DECISION, effect, risk_delta, _with_note(description, note), command, paths,
                           "blocked" if denied else "success",
                           blocked_by=bounded(reason or "", REASON_LIMIT) if denied else None)


def outcome_content(*, tool: str, effect: EffectClass, decision_id: str | None, escalation_id: str | None,
                    status: str, exit_code: int, output_sha256: str | None, args_sha256: str, paths: list[str],
                    stdout: str | None) -> Content:
    """An `outcome` receipt: what the call did, the receipt that let it run, the output's hash.

    `decision_id` None with an `escalation_id`: the host's person approved
    the call in the host's prompt and the gate learns it only now.
    """
    if decision_id is None:
        which = f"escalation receipt {escalation_id} (approved in the host's prompt)"
    elif escalation_id is not None:
        which = f"decision receipt {decision_id} (answering escalation receipt {escalation_id})"
    else:
        which = f"decision receipt {decision_id}"
    description = (f"outcome of {tool} for {which}: {status}; "
                   f"output_sha256={output_sha256 or 'none'}; args_sha256={args_sha256}")
    return receipt_content(tool, OUTCOME, effect, 0.0, _with_note(description, None), None, paths, status,
                           exit_code=exit_code, diff_hash=output_sha256, stdout=stdout)


def outcome_status(status: str | None, exit_code: int | None, error: object) -> tuple[str, int]:
    """The outcome's status and exit code; ValueError / TypeError for values no receipt can hold."""
    if error is not None and status is None:
        status = "failed"
    status = status or "success"
    if status not in ("success", "failed"):
        raise ValueError(f"status must be 'success' or 'failed', not {status!r}")
    if exit_code is None:
        return status, 0 if status == "success" else 1
    if isinstance(exit_code, bool) or not hasattr(type(exit_code), "__index__"):
        # checked before anything is written: a non-integer would make the receipt fail the schema
        raise TypeError(f"exit_code must be an int or None, not {type(exit_code).__name__}")
    return status, operator.index(exit_code)  # a plain int, also from an IntEnum or a numpy integer


def outcome_text(output: Any, error: BaseException | str | None) -> str | None:
    """The text an outcome receipt records: the output (as canonical JSON unless text), else the error."""
    if error is not None and output is None:
        return f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    if output is None:
        return None
    return output if isinstance(output, str) else canonical_arguments(output)


def posture_content(*, before: Posture, after: Posture, by: str, risk_reset: bool, note: str = "") -> Content:
    """A `posture` receipt: the session's posture changed from `before` to `after`, and by whom."""
    what = "restored" if risk_reset else "set"
    description = f"posture {what} from {before.value} to {after.value} by {bounded(by, NAME_LIMIT)}"
    if risk_reset:
        description += "; session risk reset to 0"
    if note:
        description += f": {bounded(note, REASON_LIMIT)}"
    return receipt_content("spinegate.posture", POSTURE, EffectClass.SHELL_SAFE, 0.0, description, None, [],
                           "success")


def reload_content(*, before_hash: str | None, after_hash: str | None, source: str, by: str,
                   integrity_cleared: str | None) -> Content:
    """A `reload` receipt: the manifest was read again, its seal verified, and the gate now decides by it."""
    description = (f"manifest reloaded from {bounded(source, NAME_LIMIT)} by {bounded(by, NAME_LIMIT)}: "
                   f"manifest_hash {before_hash} -> {after_hash}")
    if integrity_cleared:
        description += f"; cleared MANIFEST_INTEGRITY_FAILURE ({bounded(integrity_cleared, REASON_LIMIT)})"
    return receipt_content("spinegate.reload", RELOAD, EffectClass.SHELL_SAFE, 0.0,
                           bounded(description, DESCRIPTION_LIMIT), None, [], "success")
