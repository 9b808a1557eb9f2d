"""PolicyEvaluator: approve, deny or escalate. A pure function of its inputs (reason codes: `reasons`).

Follows SPEC.md's decision table in order (the first rule that applies
decides), with spinegate's own rules slotted in:

 1. tool not in the manifest                  TOOL_NOT_IN_MANIFEST
 2. classification failed                     EFFECT_CLASS_UNKNOWN
 3. RESTRICTED_WRITE                          RESTRICTED_WRITE_FORBIDDEN
 4. a write outside the writable roots        WRITE_OUTSIDE_ALLOWED_ROOTS
 5. a program on the shell deny list          COMMAND_DENIED
 6. entry has allowed: false                  the entry's reason, else MANIFEST_DENIED
 7. arguments exceed the declared effect      EFFECT_EXCEEDS_DECLARED (exceed_declared: "deny")
 8. max_calls_per_session reached             MAX_CALLS_EXCEEDED
 9. step / command / write budget used up     BUDGET_EXHAUSTED
10. ELEVATED and NETWORK_ATTEMPT              ELEVATED_BLOCKS_NETWORK
11. LOCKDOWN and not SHELL_SAFE               LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY
12. requires_confirmation, or exceed_declared: "escalate" and exceeded
                                              ESCALATE (APPROVAL_REQUIRED)
13. otherwise                                 APPROVE
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .decision import ToolCall, Verdict
from .effects import EffectClass, Posture
from .reasons import (
    APPROVAL_REQUIRED,
    BUDGET_EXHAUSTED,
    COMMAND_DENIED,
    EFFECT_CLASS_UNKNOWN,
    EFFECT_EXCEEDS_DECLARED,
    ELEVATED_BLOCKS_NETWORK,
    LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY,
    MANIFEST_DENIED,
    MAX_CALLS_EXCEEDED,
    RESTRICTED_WRITE_FORBIDDEN,
    TOOL_NOT_IN_MANIFEST,
    WRITE_OUTSIDE_ALLOWED_ROOTS,
)

if TYPE_CHECKING:  # pragma: no cover - types only: the evaluator needs no classifier to run
    from .classifier import Classification
    from .manifest import FunctionEntry

COMMAND_EFFECTS = frozenset({EffectClass.SHELL_SAFE, EffectClass.SHELL_MUTATING,
                             EffectClass.SHELL_DANGEROUS, EffectClass.NETWORK_ATTEMPT})
WRITE_EFFECTS = frozenset({EffectClass.SCOPED_WRITE, EffectClass.RESTRICTED_WRITE})


@dataclass(frozen=True, slots=True)
class Limits:
    """Session budgets. None means no limit."""

    max_steps: int | None = None
    max_commands: int | None = None
    max_writes: int | None = None


class SessionUsage(Protocol):
    """What a session has used so far, as the evaluator reads it (never changes it).

    The gate's `session.Session` is one; `Usage` is a fixed one (a fresh
    session, or a what-if).
    """

    @property
    def steps(self) -> int: ...

    @property
    def commands(self) -> int: ...

    @property
    def writes(self) -> int: ...

    @property
    def calls_by_tool(self) -> Mapping[tuple[str | None, str], int]: ...


@dataclass(frozen=True, slots=True)
class Usage:
    """A fixed `SessionUsage`: nothing used yet by default."""

    steps: int = 0
    commands: int = 0
    writes: int = 0
    calls_by_tool: Mapping[tuple[str | None, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ruling:
    """What policy decided for one call: the verdict, its reason code (None to approve), and the rule in words."""

    verdict: Verdict
    reason: str | None
    rule: str


def _deny(reason: str, rule: str) -> Ruling:
    return Ruling(Verdict.DENY, reason, rule)


# The approval rulings, built once: the hot path allocates nothing for them.
_APPROVALS: dict[tuple[Posture, EffectClass], Ruling] = {
    (p, e): Ruling(Verdict.APPROVE, None, f"posture {p.value} allows {e.value}") for p in Posture for e in EffectClass
}


class PolicyEvaluator:
    """Decides one call. Holds no state; the same inputs give the same ruling."""

    def evaluate(self, call: ToolCall, entry: FunctionEntry | None, classification: Classification,
                 posture: Posture, usage: SessionUsage, limits: Limits) -> Ruling:
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
        if classification.denied_programs:
            return _deny(COMMAND_DENIED, "the command line runs " + ", ".join(classification.denied_programs)
                         + ", on the manifest's shell deny list")
        if not entry.allowed:
            return _deny(entry.reason or MANIFEST_DENIED, "the manifest entry has allowed: false")
        exceed = classification.exceeds_declared and entry.exceed_declared
        if exceed == "deny":
            return _deny(EFFECT_EXCEEDS_DECLARED, classification.rule)
        limited = self.limits_and_posture(entry, effect, posture, usage, limits)
        if limited is not None:
            return limited
        if entry.requires_confirmation:
            return Ruling(Verdict.ESCALATE, APPROVAL_REQUIRED, f"{entry.qualified_name} requires confirmation")
        if exceed == "escalate":
            return Ruling(Verdict.ESCALATE, APPROVAL_REQUIRED,
                          f"{entry.qualified_name} needs confirmation: {classification.rule}")
        return _APPROVALS[(posture, effect)]

    @staticmethod
    def limits_and_posture(entry: FunctionEntry, effect: EffectClass, posture: Posture, usage: SessionUsage,
                           limits: Limits) -> Ruling | None:
        """The rules that depend on session state (budgets, posture): a denial, or None.

        The gate runs these again under its lock just before it records an
        approval, so concurrent calls (or a slow approver) cannot overrun a
        budget or slip past a posture that tightened in the meantime.
        """
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
            return _deny(LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY,
                         f"posture LOCKDOWN allows SHELL_SAFE only, not {effect.value}")
        return None
