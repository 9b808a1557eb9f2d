"""A session's state: counters, budgets, risk and posture, and how they resume from a log. Pure.

The gate keeps one `Session` and changes it under its lock only after the
receipt that records the change is written. Times are monotonic seconds
handed in by the caller; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .effects import DEFAULT_RISK_DELTAS, EffectClass, Posture
from .policy import COMMAND_EFFECTS, WRITE_EFFECTS, Limits

#: What one decision does to a session: (steps, commands, writes, risk, posture, the note of a
#: posture that tightened or None, the files it touches for the first time, the budget_snapshot of
#: the receipt that records it). A tuple: it is built on every check.
Change = tuple[int, int, int, float, Posture, "str | None", "set[str] | tuple[()]", dict[str, Any]]

#: steps_remaining when the session has no step budget (the field is a required integer).
UNLIMITED_STEPS = 2**31 - 1
_POSTURE_TEXT: dict[Posture, str] = {p: p.value for p in Posture}
_WRITE_EFFECT_TEXT = frozenset(e.value for e in WRITE_EFFECTS)


def budget_snapshot(limits: Limits, steps: int, commands: int, writes: int, files_touched: int,
                    elapsed: float, risk: float, posture: Posture) -> dict[str, Any]:
    """The receipt's budget_snapshot: real counters, rounded as SPEC.md asks (2 and 4 decimals)."""
    return {
        "steps_used": steps,
        "steps_remaining": max(0, limits.max_steps - steps) if limits.max_steps is not None else UNLIMITED_STEPS,
        "commands_used": commands,
        "writes_used": writes,
        "files_touched": files_touched,
        "runtime_elapsed_seconds": round(max(0.0, elapsed), 2),
        "session_risk_score": round(risk, 4),
        "current_posture": _POSTURE_TEXT[posture] if type(posture) is Posture else posture.value,
    }


@dataclass(frozen=True, slots=True)
class RiskRules:
    """Risk a denied call adds, by effect class, and the scores at which the posture tightens."""

    deltas: Mapping[EffectClass, float] = field(default_factory=lambda: dict(DEFAULT_RISK_DELTAS))
    elevated_at: float = 0.3
    lockdown_at: float = 0.5

    def delta(self, effect: EffectClass) -> float:
        return self.deltas.get(effect, 0.0)

    def tightened(self, posture: Posture, risk: float) -> tuple[Posture, str | None]:
        """The posture after a denial brought the session risk to `risk`: only ever tighter, with a note."""
        if risk >= self.lockdown_at and posture.rank < Posture.LOCKDOWN.rank:
            after, threshold = Posture.LOCKDOWN, self.lockdown_at
        elif risk >= self.elevated_at and posture.rank < Posture.ELEVATED.rank:
            after, threshold = Posture.ELEVATED, self.elevated_at
        else:
            return posture, None
        return after, (f"posture tightened automatically from {posture.value} to {after.value} "
                       f"(session risk {round(risk, 4)} >= {threshold})")


class Session:
    """Counters of one session chain. Satisfies `policy.Usage` for the evaluator (read, never written by it)."""

    def __init__(self, session_id: str, posture: Posture, started: float) -> None:
        self.session_id = session_id
        self.posture = posture
        self.started = started
        self.steps = 0
        self.commands = 0
        self.writes = 0
        self.risk = 0.0
        self.files: set[str] = set()
        self.calls_by_tool: dict[tuple[str | None, str], int] = {}

    def snapshot(self, now: float, limits: Limits) -> dict[str, Any]:
        """The budget_snapshot a receipt written at monotonic time `now` carries."""
        return budget_snapshot(limits, self.steps, self.commands, self.writes, len(self.files),
                               now - self.started, self.risk, self.posture)

    def decision_change(self, effect: EffectClass, denied: bool, paths: tuple[str, ...] | list[str],
                        counts_files: bool, delta: float, rules: RiskRules, now: float, limits: Limits) -> Change:
        """What recording this decision would change, without changing anything yet, and the snapshot to record.

        Every decision is a step (and a command or write by its effect);
        a denial adds its effect's risk and may tighten the posture;
        `counts_files` (an approved call of a declared tool) adds the paths
        it touches. `delta` is the effect's risk (`rules.delta(effect)`, looked
        up once by the caller); `now` is the monotonic time of the receipt.
        The gate applies the change only once the receipt is written.
        """
        score = self.risk + delta if denied else self.risk
        posture, tightened = rules.tightened(self.posture, score) if denied else (self.posture, None)
        files = self.files
        new_files: set[str] | tuple[()] = {x for x in paths if x not in files} if (paths and counts_files) else ()
        steps, commands = self.steps + 1, self.commands + (effect in COMMAND_EFFECTS)
        writes = self.writes + (effect in WRITE_EFFECTS)
        budget = budget_snapshot(limits, steps, commands, writes, len(files) + len(new_files), now - self.started,
                                 score, posture)
        return steps, commands, writes, score, posture, tightened, new_files, budget

    def apply(self, change: Change, approved_key: tuple[str | None, str] | None) -> None:
        """Commit a decision's change (its receipt is written); `approved_key` counts an approved call of that entry."""
        self.steps, self.commands, self.writes, self.risk, self.posture, _, new_files, _ = change
        if approved_key is not None:
            self.calls_by_tool[approved_key] = self.calls_by_tool.get(approved_key, 0) + 1
            if new_files:
                self.files.update(new_files)

    def count_approval(self, key: tuple[str | None, str], new_files: Iterable[str]) -> None:
        """An approved call of the entry `key` was recorded: count it, and the files it touches."""
        self.calls_by_tool[key] = self.calls_by_tool.get(key, 0) + 1
        self.files.update(new_files)

    # -- continuing a session from its log ------------------------------------------------

    def resume_counters(self, last: Mapping[str, Any]) -> None:
        """Take the counters of the session's last receipt; the tighter of the two postures wins."""
        snap = last.get("budget_snapshot", {})
        self.steps = int(snap.get("steps_used", 0))
        self.commands = int(snap.get("commands_used", 0))
        self.writes = int(snap.get("writes_used", 0))
        self.risk = float(snap.get("session_risk_score", 0.0))
        self.started -= float(snap.get("runtime_elapsed_seconds", 0.0))
        try:
            resumed = Posture(snap.get("current_posture", self.posture.value))
        except ValueError:
            return
        if resumed.rank > self.posture.rank:
            self.posture = resumed

    def resume_approval(self, receipt: Mapping[str, Any], keys: Mapping[str, tuple[str | None, str]]) -> None:
        """Count one earlier receipt of the session if it approved a call (per-tool counts, touched files).

        `keys` maps a receipt's `action.tool` to its manifest entry's key.
        Counts what `Gate` counts when it records an approval, so reopening
        a session neither resets `max_calls_per_session` nor shrinks `files_touched`.
        """
        action, result = receipt.get("action"), receipt.get("result")
        if not isinstance(action, dict) or not isinstance(result, dict):
            return
        operation = action.get("operation")
        if result.get("status") != "success" or operation not in ("decision", "shadow_decision"):
            return
        if operation == "shadow_decision" and "would deny" in str(action.get("description", "")):
            return
        tool = action.get("tool")
        key = keys.get(tool) if isinstance(tool, str) else None
        if key is None:
            return
        paths = action.get("target_paths") or ()
        written = [p for p in paths if isinstance(p, str)] if action.get("effect_class") in _WRITE_EFFECT_TEXT else ()
        self.count_approval(key, written)
