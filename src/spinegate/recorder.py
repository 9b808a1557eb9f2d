"""The recorder: every receipt of a session, written under one lock, in step with the session's counters.

The gate decides what a call is and what policy says; the recorder turns
that into a receipt in the chain and commits what the receipt records to
the session (a step, risk, posture, touched files) only once the store
took it. It owns the last checks that must happen under the lock (budgets
and posture again, a closed gate) and failing closed: a receipt that
cannot be written or made durable is a denial. Receipts other than
decisions (escalation, outcome, posture, reload) go through `write`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from .canonical import canonical_arguments, sha256_hex
from .classifier import Classification
from .decision import Decision, ToolCall, Verdict, as_text
from .effects import EffectClass, Posture
from .emitter import ReceiptEmitter
from .errors import ReceiptWriteError
from .manifest import FunctionEntry
from .native import NOT_HANDLED, native
from .policy import Limits, PolicyEvaluator, Ruling
from .reasons import EVALUATION_EXCEPTION, GATE_CLOSED, RECEIPT_WRITE_FAILED
from .receipt_body import COMMAND_LIMIT, NAME_LIMIT, bounded, exception_text, text_field
from .receipt_kinds import answer_content, decision_content, posture_content
from .receipts import Receipt
from .session import RiskRules, Session, budget_snapshot

log = logging.getLogger("spinegate")

_DENY, _ESCALATE = Verdict.DENY, Verdict.ESCALATE  # module globals: a class attribute lookup costs more per check
_NAME_CACHE_LIMIT = 1024  # distinct (plugin, function) pairs remembered per session
_DEBUG = logging.DEBUG


@dataclass(slots=True)
class PreparedCall:
    """A call classified and ruled on, not yet recorded. Treated as immutable (`with_ruling` copies);
    not frozen because a frozen dataclass costs a slow `object.__setattr__` per field on the hot path."""

    call: ToolCall
    entry: FunctionEntry | None
    classification: Classification
    ruling: Ruling
    decided_by: str | None = None
    answering: str | None = None  # the escalation receipt a person's answer resolves
    proposal_id: str | None = None  # the receipt's proposal_id when not the call's (an answer keeps its escalation's)

    def with_ruling(self, ruling: Ruling, decided_by: str | None = None) -> PreparedCall:
        return PreparedCall(self.call, self.entry, self.classification, ruling, decided_by or self.decided_by,
                            self.answering, self.proposal_id)

    def recorded_effect(self) -> EffectClass:
        """The effect a receipt records: unclassifiable is SHELL_DANGEROUS, never below a declared RESTRICTED_WRITE."""
        cls = self.classification
        if cls.effect is not None and self.entry is not None:
            return cls.effect
        if cls.effect is None and cls.declared is EffectClass.RESTRICTED_WRITE:
            return cls.declared
        return EffectClass.SHELL_DANGEROUS

    def recorded_arguments(self) -> tuple[str, str | None]:
        """(SHA-256 of the canonical arguments, the receipt's `command`); raises for arguments that cannot be hashed."""
        arguments_text, digest = arguments_digest(self.call.arguments)  # once: it is both hashed and recorded
        entry = self.entry
        command = arguments_text if (entry is not None and entry.record_arguments) else self.classification.command
        if command is not None and len(command) > COMMAND_LIMIT:
            command = bounded(command, COMMAND_LIMIT)
        return digest, command


def arguments_digest(arguments: Any) -> tuple[str, str]:
    """(canonical arguments, their SHA-256): natively where the extension takes them, else `canonical_arguments`."""
    if native is not None:
        found = native.arguments_digest(arguments)
        if found is not NOT_HANDLED:
            return cast("tuple[str, str]", found)
    text = canonical_arguments(arguments)
    return text, sha256_hex(text)


class Recorder:
    """Writes one session's receipts. Thread-safe: `lock` serialises the chain and the counters together."""

    def __init__(self, emitter: ReceiptEmitter, session: Session, *, limits: Limits, risk: RiskRules,
                 evaluator: PolicyEvaluator, shadow: bool, executor_type: str | None,
                 monotonic: Callable[[], float]) -> None:
        self.emitter = emitter
        self.store = emitter.store
        self.session = session
        self.limits = limits
        self.risk = risk
        self.evaluator = evaluator
        self.shadow = shadow
        self.executor_type = executor_type
        self.monotonic = monotonic
        self.lock = threading.RLock()
        self.closed = False
        self._tool_names: dict[tuple[str | None, str], str] = {}

    # -- decisions -------------------------------------------------------------------------------

    def decision(self, p: PreparedCall, *, enforce: bool = False) -> Decision:
        """Record the decision on a prepared call (its receipt written) and return it.

        A ruling that escalates and reaches this point was not answered:
        it is recorded as a denial. `enforce` records a refusal as enforced
        even in shadow mode (an adapter's `deny`, a person's answer).
        """
        call, entry, ruling, cls = p.call, p.entry, p.ruling, p.classification
        shadow = self.shadow and not enforce
        effect = cls.effect if (cls.effect is not None and entry is not None) else p.recorded_effect()
        denied = ruling.verdict is _DENY or ruling.verdict is _ESCALATE  # unresolved escalation never runs
        try:
            args_digest, command = p.recorded_arguments()
        except Exception as exc:  # noqa: BLE001 - arguments that cannot even be hashed
            args_digest, command = "unhashable", None
            if not denied:
                denied = True
                ruling = Ruling(Verdict.DENY, exception_text(EVALUATION_EXCEPTION, exc),
                                "the arguments could not be hashed")
        name = self.tool_name(call)
        paths = p.classification.target_paths
        with self.lock:
            s = self.session
            if self.closed:  # the log is closed: nothing can be recorded, so nothing may run
                return Decision(Verdict.DENY, GATE_CLOSED, effect, call,
                                "the gate was closed, so no receipt can be written and the call may not run",
                                None, entry, paths, shadow, (_DENY if denied else Verdict.APPROVE), p.decided_by)
            if not denied and entry is not None:
                try:  # budgets and posture again, here: concurrent calls or a slow approver cannot overrun them
                    late = self.evaluator.limits_and_posture(entry, effect, s.posture, s, self.limits)
                except Exception as exc:  # noqa: BLE001 - fail closed
                    late = Ruling(Verdict.DENY, exception_text(EVALUATION_EXCEPTION, exc),
                                  "the late budget and posture check failed")
                if late is not None:
                    denied = True
                    ruling = late if p.answering is None else Ruling(late.verdict, late.reason,
                                                                     f"{ruling.rule}, but {late.rule}")
            risk = self.risk
            delta = risk.deltas.get(effect, 0.0)
            change = s.decision_change(effect, denied, paths, not denied and entry is not None, delta, risk,
                                       self.monotonic(), self.limits)
            if p.answering is None:
                action, result = decision_content(  # positional: this runs on every check
                    name, effect, delta, ruling.reason, ruling.rule, denied, shadow, p.decided_by, args_digest,
                    command, list(paths), change[5])
            else:
                action, result = answer_content(
                    tool=name, effect=effect, risk_delta=delta, escalation_id=p.answering,
                    denied=denied, reason=ruling.reason, rule=ruling.rule, args_sha256=args_digest, command=command,
                    paths=list(paths), note=change[5])
            try:
                receipt, ticket, late_error = self.emitter.emit_unsynced(
                    proposal_id=p.proposal_id or self.proposal(call),
                    executor_type=text_field(self.executor_type or call.framework),
                    model=text_field(call.model), action=action, result=result,
                    budget=change[7])
            except Exception as exc:  # noqa: BLE001 - any store failure: fail closed, nothing runs
                return self.unrecorded(p, effect, shadow, denied, exc, None,
                                       "the receipt could not be written, so the call may not run")
            s.apply(change, entry.key if (not denied and entry is not None) else None)
        try:
            self.store.sync(ticket)  # fsync durability: outside the lock, so concurrent calls share one fsync
            if late_error is not None:
                raise late_error
        except Exception as exc:  # noqa: BLE001 - not durable: fail closed, nothing runs
            return self.unrecorded(p, effect, shadow, denied, exc, receipt, "the receipt was written but could "
                                   "not be made durable or signed, so the call may not run")
        enforced = _DENY if denied else Verdict.APPROVE
        decision = Decision(Verdict.APPROVE if shadow else enforced, ruling.reason if denied else None, effect, call,
                            ruling.rule, receipt, entry, paths, shadow, enforced if shadow else None, p.decided_by,
                            p.answering)
        if log.isEnabledFor(_DEBUG):
            log.debug("%s %s: %s (%s); receipt %s", decision.verdict.value, name, decision.reason or "-",
                      ruling.rule, receipt.receipt_id)
        return decision

    def unrecorded(self, p: PreparedCall, effect: EffectClass, shadow: bool, denied: bool, exc: Exception,
                   receipt: Receipt | None, rule: str) -> Decision:
        """The denial of a call whose receipt could not be written or made durable (logged at WARNING)."""
        reason = exception_text(RECEIPT_WRITE_FAILED, exc, with_type=False)
        log.warning("denied %s: %s", self.tool_name(p.call), reason)
        return Decision(Verdict.DENY, reason, effect, p.call, rule, receipt, p.entry, p.classification.target_paths,
                        shadow, _DENY if denied else Verdict.APPROVE, p.decided_by, p.answering)

    # -- every other receipt -------------------------------------------------------------------------

    def write(self, call: ToolCall | None, proposal: str | None, action: dict[str, Any], result: dict[str, Any],
              budget: dict[str, Any] | None, closed_what: str, closed_fix: str, *, deferred: bool = False) -> Receipt:
        """Write one receipt of the session and wait until it is durable. Raises if it cannot.

        `call` is the call the receipt is about (None for the session's own
        receipts: posture, reload); `budget` None is the session as it stands.
        `deferred` (outcomes only) seals the receipt into the chain now and
        leaves its append to the store's writer thread: it is in the store
        before the session's next receipt is, and this does not wait.
        """
        with self.lock:
            if self.closed:
                raise ReceiptWriteError(f"the gate is closed; {closed_what}", path=self.store.location,
                                        fix=closed_fix)
            receipt, ticket, late_error = self.emitter.emit_unsynced(
                proposal_id=proposal, executor_type=self.executor(call),
                model=text_field(call.model if call is not None else None), action=action, result=result,
                budget=budget if budget is not None else self.session.snapshot(self.monotonic(), self.limits),
                deferred=deferred)
        if not deferred:
            self.store.sync(ticket)  # outside the lock: concurrent writers share one fsync
        if late_error is not None:
            raise late_error
        return receipt

    def write_counted(self, decision: Decision, proposal: str | None, action: dict[str, Any],
                      result: dict[str, Any], closed_what: str, closed_fix: str) -> Receipt:
        """Write a receipt that also records `decision`'s call as approved and run (a step, its counts, its files).

        For the outcome of a call a person approved in the host's own prompt:
        no decision receipt counted it, so its outcome receipt does.
        """
        with self.lock:
            s = self.session
            change = s.decision_change(decision.effect_class, False, decision.target_paths,
                                       decision.entry is not None, self.risk.delta(decision.effect_class), self.risk,
                                       self.monotonic(), self.limits)
            receipt = self.write(decision.call, proposal, action, result, change[7], closed_what, closed_fix)
            s.apply(change, decision.entry.key if decision.entry is not None else None)
        return receipt

    def posture(self, after: Posture, *, by: str, note: str, reset_risk: bool) -> Receipt:
        """Write a `posture` receipt for the change to `after`, then make it (atomically, under the lock)."""
        with self.lock:
            s = self.session
            before = s.posture
            action, result = posture_content(before=before, after=after, by=text_field(by, "operator"),
                                             risk_reset=reset_risk, note=as_text(note))
            risk = 0.0 if reset_risk else s.risk
            budget = budget_snapshot(self.limits, s.steps, s.commands, s.writes, len(s.files),
                                     self.monotonic() - s.started, risk, after)
            receipt = self.write(None, None, action, result, budget, "the posture was not changed",
                                 "change the posture before closing the gate")
            s.posture, s.risk = after, risk
        log.debug("posture %s -> %s by %s; receipt %s", before.value, after.value, by, receipt.receipt_id)
        return receipt

    # -- fields every receipt takes from its call -------------------------------------------------------

    def tool_name(self, call: ToolCall) -> str:
        """`call.tool_name` bounded for a receipt, remembered per (plugin, function) of plain strings."""
        plugin, function = call.plugin, call.function
        if type(function) is not str or (plugin is not None and type(plugin) is not str):
            return bounded(call.tool_name, NAME_LIMIT)  # framework objects: never hashed or cached
        key = (plugin, function)
        name = self._tool_names.get(key)
        if name is None:
            name = bounded(call.tool_name, NAME_LIMIT)
            if len(self._tool_names) >= _NAME_CACHE_LIMIT:  # model-chosen names must not grow it without end
                self._tool_names.clear()
            self._tool_names[key] = name
        return name

    def executor(self, call: ToolCall | None) -> str:
        """The receipt's `executor.type`: the gate's, else the call's framework (the gate's own receipts: spinegate)."""
        return text_field(self.executor_type or (call.framework if call is not None else "spinegate"))

    @staticmethod
    def proposal(call: ToolCall) -> str | None:
        """The receipt's proposal_id from the call's, or None: the emitter then generates one."""
        # str(): a framework may hand over a non-string id; the receipt field is a string
        # bounded: the id may come from model output, and the receipt must stay small
        return bounded(as_text(call.proposal_id), NAME_LIMIT) if call.proposal_id not in (None, "") else None
