"""What the command classifier returns: each part found, the one that decided, and an explanation."""

from __future__ import annotations

from dataclasses import dataclass

from ..effects import EffectClass


@dataclass(frozen=True, slots=True)
class Finding:
    """One part of the command line and what it does."""

    effect: EffectClass
    part: str
    why: str

    def __str__(self) -> str:
        return f"{self.effect.value:<16} {self.part}: {self.why}"


@dataclass(frozen=True, slots=True)
class CommandView:
    """One simple command as bash would run it: the decoded words (`?` marks a word known only at run time)."""

    part: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommandClassification:
    """The effect of a whole command line, with the part that decided it."""

    command: str
    effect: EffectClass
    decided_by: Finding
    findings: tuple[Finding, ...]
    write_targets: tuple[str, ...] = ()
    outside_roots: tuple[str, ...] = ()
    denied_programs: tuple[str, ...] = ()
    read_secrets: tuple[str, ...] = ()
    commands: tuple[CommandView, ...] = ()

    @property
    def rule(self) -> str:
        d = self.decided_by
        return f"command line is {self.effect.value}: `{d.part}` {d.why}"

    def explain(self) -> str:
        """The class first, then the deciding part, every part found (deciding one marked `>`), the words."""
        lines = [f"{self.effect.value}  {self.command}",
                 f"decided by: `{self.decided_by.part}`: {self.decided_by.why}"]
        for f in self.findings:
            mark = ">" if f is self.decided_by else " "
            lines.append(f" {mark} {f}")
        for view in self.commands:
            lines.append(f"words: {' '.join(_show(w) for w in view.words)}")
        if self.write_targets:
            lines.append("writes: " + ", ".join(self.write_targets))
        if self.read_secrets:
            lines.append("reads secrets: " + ", ".join(self.read_secrets))
        if self.outside_roots:
            lines.append("outside the writable roots: " + ", ".join(self.outside_roots))
        if self.denied_programs:
            lines.append("on the deny list: " + ", ".join(self.denied_programs))
        return "\n".join(lines)


def _show(word: str) -> str:
    """A decoded word, quoted when it holds blanks or is empty, so the word boundaries are visible."""
    if word == "" or any(c.isspace() for c in word) or any(ord(c) < 32 for c in word):
        return repr(word)
    return word


__all__ = ["Finding", "CommandClassification", "CommandView"]
