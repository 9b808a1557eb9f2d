"""The manifest's shell rules: argv patterns that give a matching simple command a class.

`{"argv": ["pytest", "**"], "effect_class": "SHELL_MUTATING"}` matches one
simple command (after wrappers have been looked through, never a whole
line): each element is a literal word, `"*"` (exactly one word) or a final
`"**"` (any remaining words, also none). Words are compared after decoding,
so `'pytest'` and `pyt\\est` are `pytest`; a word known only at run time or a
glob matches only `"**"` (it may stand for several words). The program word
matches by its base name when it is named by a system path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..effects import EffectClass
from .words import Word


@dataclass(frozen=True, slots=True)
class ShellRule:
    """One argv pattern and the class it gives the simple command it matches."""

    argv: tuple[str, ...]
    effect: EffectClass
    why: str = ""

    def __post_init__(self) -> None:
        if not self.argv or self.argv[0] in ("*", "**"):
            raise ValueError("a shell rule's argv must start with a literal program name")
        if "**" in self.argv[:-1]:
            raise ValueError('"**" may only be the last element of a shell rule\'s argv')
        if not self.why:
            object.__setattr__(self, "why", f"matches the manifest's shell rule {list(self.argv)!r} "
                                            f"({self.effect.value})")


def match_rule(rules: Iterable[ShellRule], name: str, spelled: str, args: Sequence[Word]) -> ShellRule | None:
    """The first rule matching the program (`name` or as `spelled`) with `args`, or None."""
    for rule in rules:
        if rule.argv[0] not in (name, spelled):
            continue
        if _match(rule.argv[1:], args):
            return rule
    return None


def _match(pattern: Sequence[str], args: Sequence[Word]) -> bool:
    for i, element in enumerate(pattern):
        if element == "**":
            return True
        if i >= len(args):
            return False
        word = args[i]
        if not word.literal:
            return False
        if element != "*" and word.text != element:
            return False
    return len(args) == len(pattern)


__all__ = ["ShellRule", "match_rule"]
