"""PolicyEvaluator: approve, deny or escalate. A pure function of its inputs.

Follows SPEC.md's decision table in order (the first rule that applies
decides), with spinegate's budget rules between the manifest's own deny and
the posture rules, and escalation for entries that require confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from .classifier import Classification
from .decision import ToolCall, Verdict
from .effects import EffectClass, Posture

if TYPE_CHECKING:  # pragma: no cover
    from .manifest import FunctionEntry

# Reason codes (shared with the .NET port where it has them).
TOOL_NOT_IN_MANIFEST = "TOOL_NOT_IN_MANIFEST"
EFFECT_CLASS_UNKNOWN = "EFFECT_CLASS_UNKNOWN"
RESTRICTED_WRITE_FORBIDDEN = "RESTRICTED_WRITE_FORBIDDEN"
MANIFEST_DENIED = "MANIFEST_DENIED"
ELEVATED_BLOCKS_NETWORK = "ELEVATED_BLOCKS_NETWORK"
LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY = "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY"
EVALUATION_EXCEPTION = "EVALUATION_EXCEPTION"
MANIFEST_INTEGRITY_FAILURE = "MANIFEST_INTEGRITY_FAILURE"
# spinegate's own
MAX_CALLS_EXCEEDED = "MAX_CALLS_EXCEEDED"
BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"
WRITE_OUTSIDE_ALLOWED_ROOTS = "WRITE_OUTSIDE_ALLOWED_ROOTS"
APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
APPROVAL_DENIED = "APPROVAL_DENIED"
APPROVAL_TIMEOUT = "APPROVAL_TIMEOUT"
APPROVER_ERROR = "APPROVER_ERROR"
RECEIPT_WRITE_FAILED = "RECEIPT_WRITE_FAILED"

COMMAND_EFFECTS = frozenset({EffectClass.SHELL_SAFE, EffectClass.SHELL_MUTATING,
                             EffectClass.SHELL_DANGEROUS, EffectClass.NETWORK_ATTEMPT})
WRITE_EFFECTS = frozenset({EffectClass.SCOPED_WRITE, EffectClass.RESTRICTED_WRITE})


@dataclass(frozen=True, slots=True)
class Limits:
    """Session budgets. None means no limit."""

    max_steps: int | None = None
    max_commands: int | None = None
    max_writes: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """What the session has used so far (read by the evaluator, never changed by it)."""

    steps: int = 0
    commands: int = 0
    writes: int = 0
    calls_by_tool: Mapping[tuple[str | None, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ruling:
    verdict: Verdict
    reason: str | None
    rule: str


def _deny(reason: str, rule: str) -> Ruling:
    return Ruling(Verdict.DENY, reason, rule)


class PolicyEvaluator:
    """Decides one call. Holds no state; the same inputs give the same ruling."""

    def evaluate(self, call: ToolCall, entry: "FunctionEntry | None", classification: Classification,
                 posture: Posture, usage: Usage, limits: Limits) -> Ruling:
        if entry is None:
            return _deny(TOOL_NOT_IN_MANIFEST, f"{call.tool_name} is not declared in the manifest")
        effect = classification.effect
        if effect is None:
            return _deny(EFFECT_CLASS_UNKNOWN, f"the effect of {call.tool_name} could not be classified: "
                         f"{classification.rule}")
        if effect is EffectClass.RESTRICTED_WRITE:
            return _deny(RESTRICTED_WRITE_FORBIDDEN, f"restricted write ({classification.rule})")
        if classification.outside_roots:
            return _deny(WRITE_OUTSIDE_ALLOWED_ROOTS,
                         "writes outside the declared writable roots: " + ", ".join(classification.outside_roots))
        if not entry.allowed:
            return _deny(entry.reason or MANIFEST_DENIED, "the manifest entry has allowed: false")
        if entry.max_calls_per_session is not None and \
                usage.calls_by_tool.get(entry.key, 0) >= entry.max_calls_per_session:
            return _deny(MAX_CALLS_EXCEEDED,
                         f"max_calls_per_session {entry.max_calls_per_session} reached for {entry.qualified_name}")
        if limits.max_steps is not None and usage.steps >= limits.max_steps:
            return _deny(BUDGET_EXHAUSTED, f"session step budget of {limits.max_steps} used up")
        if limits.max_commands is not None and effect in COMMAND_EFFECTS and usage.commands >= limits.max_commands:
            return _deny(BUDGET_EXHAUSTED, f"session command budget of {limits.max_commands} used up")
        if limits.max_writes is not None and effect in WRITE_EFFECTS and usage.writes >= limits.max_writes:
            return _deny(BUDGET_EXHAUSTED, f"session write budget of {limits.max_writes} used up")
        if posture is Posture.ELEVATED and effect is EffectClass.NETWORK_ATTEMPT:
            return _deny(ELEVATED_BLOCKS_NETWORK, "posture ELEVATED blocks network access")
        if posture is Posture.LOCKDOWN and effect is not EffectClass.SHELL_SAFE:
            return _deny(LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY, f"posture LOCKDOWN allows SHELL_SAFE only, not {effect.value}")
        if entry.requires_confirmation:
            return Ruling(Verdict.ESCALATE, APPROVAL_REQUIRED, f"{entry.qualified_name} requires confirmation")
        return Ruling(Verdict.APPROVE, None, f"posture {posture.value} allows {effect.value}")
