"""Effect classes and postures: the closed vocabularies of the wire format.

The string values are the wire strings of SPEC.md and must never change.
"""

from __future__ import annotations

from enum import Enum


class EffectClass(str, Enum):
    """What a tool call would do, from least to most restrictive in practice."""

    SHELL_SAFE = "SHELL_SAFE"
    SCOPED_WRITE = "SCOPED_WRITE"
    SHELL_MUTATING = "SHELL_MUTATING"
    NETWORK_ATTEMPT = "NETWORK_ATTEMPT"
    SHELL_DANGEROUS = "SHELL_DANGEROUS"
    RESTRICTED_WRITE = "RESTRICTED_WRITE"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """Restrictiveness: the higher, the more the gate must care."""
        return _RANK[self]


# How restrictive each class is. RESTRICTED_WRITE is always denied, so it
# outranks everything; SHELL_DANGEROUS is destructive or privileged; network
# egress leaves the machine; mutating and scoped writes change local state.
_RANK: dict[EffectClass, int] = {
    EffectClass.SHELL_SAFE: 0,
    EffectClass.SCOPED_WRITE: 1,
    EffectClass.SHELL_MUTATING: 2,
    EffectClass.NETWORK_ATTEMPT: 3,
    EffectClass.SHELL_DANGEROUS: 4,
    EffectClass.RESTRICTED_WRITE: 5,
}


def most_restrictive(*effects: EffectClass) -> EffectClass:
    """The most restrictive of the given effect classes (at least one)."""
    return max(effects, key=_RANK.__getitem__)


class Posture(str, Enum):
    """How tightly the gate holds the session. It only tightens by itself."""

    NORMAL = "NORMAL"
    ELEVATED = "ELEVATED"
    LOCKDOWN = "LOCKDOWN"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        return _POSTURE_RANK[self]


_POSTURE_RANK = {Posture.NORMAL: 0, Posture.ELEVATED: 1, Posture.LOCKDOWN: 2}


# Risk added to the session score by a denied call, per effect class
# (the original emitter's defaults).
DEFAULT_RISK_DELTAS: dict[EffectClass, float] = {
    EffectClass.SHELL_SAFE: 0.01,
    EffectClass.SHELL_MUTATING: 0.04,
    EffectClass.SHELL_DANGEROUS: 0.10,
    EffectClass.NETWORK_ATTEMPT: 0.15,
    EffectClass.RESTRICTED_WRITE: 0.08,
    EffectClass.SCOPED_WRITE: 0.02,
}

# What the receipt's `reversibility` field says for each class.
REVERSIBILITY: dict[EffectClass, str] = {
    EffectClass.SHELL_SAFE: "REVERSIBLE",
    EffectClass.SCOPED_WRITE: "REVERSIBLE",
    EffectClass.SHELL_MUTATING: "PARTIALLY_REVERSIBLE",
    EffectClass.NETWORK_ATTEMPT: "IRREVERSIBLE",
    EffectClass.SHELL_DANGEROUS: "IRREVERSIBLE",
    EffectClass.RESTRICTED_WRITE: "IRREVERSIBLE",
}
