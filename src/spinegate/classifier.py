"""EffectClassifier: what a call would do. Pure: no clock, no I/O, no randomness.

The declared effect comes from the manifest entry. Where the entry asks for
it, the call's arguments refine it; the effective effect is never less
restrictive than the declared one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .decision import ToolCall
from .effects import EffectClass

if TYPE_CHECKING:  # pragma: no cover
    from .manifest import FunctionEntry


@dataclass(frozen=True, slots=True)
class Classification:
    """The effect of one call. `effect` is None when it could not be classified."""

    effect: EffectClass | None
    declared: EffectClass | None
    rule: str
    target_paths: tuple[str, ...] = ()
    command: str | None = None
    outside_roots: tuple[str, ...] = ()


class EffectClassifier:
    """Classifies a call against its manifest entry."""

    def classify(self, call: ToolCall, entry: "FunctionEntry | None") -> Classification:
        if entry is None:
            return Classification(None, None, "tool not in the manifest")
        declared = entry.effect_class
        return Classification(declared, declared, f"declared {declared.value} in the manifest")
