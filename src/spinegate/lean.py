"""The lean check: an approval decided by its manifest entry alone, from a cached plan, sealed natively.

Most calls an agent makes go to tools whose entries have no argument rules,
no confirmation and no per-tool limit, under a gate with no session
budgets. For those the ruling depends only on the entry and the session's
posture, and one receipt differs from the next only in its ids, time,
counters and the arguments' hash. `LeanPath` keeps a `Plan` per
(plugin, function) with everything else worked out once, learnt from a
decision the general path made, and decides such a call in one short
function: the manifest's integrity (the file watcher's flag; the whole
object against its snapshot from load, as the general path compares it: a
change to any entry, not only this one, denies), the arguments' canonical
hash, the native sealer, one append, the counters, the `Decision`.

Anything else returns None and the gate takes its general path, which
decides and words everything: a raised flag or a changed field (it then
finds the problem and denies), another posture, arguments or ids the native
code does not take, a closed gate, a store that refuses the line (the
general path writes again, and denies if the store still refuses). The
general path's receipts are the reference: the tests compare the two
byte for byte (ids and times aside).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .decision import Decision, ToolCall, Verdict
from .effects import REVERSIBILITY
from .native import NOT_HANDLED, native
from .policy import COMMAND_EFFECTS, WRITE_EFFECTS, PolicyEvaluator
from .receipt_body import (
    COMMAND_LIMIT,
    DESCRIPTION_LIMIT,
    NAME_LIMIT,
    REASON_LIMIT,
    bounded,
    bounded_paths,
    text_field,
)
from .receipt_kinds import DECISION, OUTCOME, outcome_status, outcome_text
from .receipts import STDOUT_LIMIT, Receipt
from .recorder import PreparedCall, arguments_digest
from .session import UNLIMITED_STEPS

if TYPE_CHECKING:  # pragma: no cover
    from .classifier import Classification, EffectClassifier
    from .effects import EffectClass, Posture
    from .gate import Gate
    from .manifest import FunctionEntry, Manifest
    from .manifest_watch import ManifestWatch
    from .policy import Ruling

log = logging.getLogger("spinegate")

_APPROVE = Verdict.APPROVE
_DEBUG = logging.DEBUG
_PLAN_LIMIT = 1024  # distinct tools with a plan, per gate (model-chosen names must not grow it without end)
_NO_PATHS: list[str] = []  # never changed: the native sealer only reads it

if native is not None:
    #: `Decision(...)` and `Receipt(None, None, head)`, filled slot by slot in C (no Python __init__ per call).
    _make_decision: Any = native.SlotBuilder(Decision, (
        "verdict", "reason", "effect_class", "call", "rule", "receipt", "entry", "target_paths", "shadow",
        "would_have", "decided_by", "escalation_receipt_id"))
    _make_receipt: Any = native.SlotBuilder(Receipt, ("_data", "_line", "_head"))
    _arguments_digest: Any = native.arguments_digest
    _same_state: Any = native.same_state


def _arguments_hash(arguments: Any) -> str:
    """The arguments' hash for an outcome's description; never raises (as the general path)."""
    try:
        return arguments_digest(arguments)[1]
    except Exception:  # noqa: BLE001
        return "unhashable"


@dataclass(frozen=True, slots=True)
class Plan:
    """What one approved (entry, posture) decides and writes, worked out once from a general-path decision."""

    rules: tuple[ManifestWatch, EffectClassifier]  # the gate's rules it was made under (a reload makes new ones)
    watch: ManifestWatch
    manifest: Manifest
    entry: FunctionEntry
    owners: tuple[Any, ...]  # every model object of the manifest, and their fields and the lookup index
    verified: tuple[dict[str, Any], ...]  # as verified at load: compared by identity (natively), else by
    index: dict[Any, int]  # equality (`Manifest.unchanged`), the whole manifest as the general path compares it
    verified_index: dict[Any, int]
    position: int
    posture: Posture
    posture_text: str
    key: tuple[str | None, str]
    tool: str
    rule: str
    prefix: str  # the description up to the arguments' hash
    effect: EffectClass
    effect_text: str
    reversibility: str
    risk_delta: float
    is_command: int
    is_write: int
    record_arguments: bool
    classification: Classification
    ruling: Ruling


class LeanPath:
    """The lean check of one gate (see the module docstring). Used only with the native extension."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate
        self._plans: dict[tuple[str | None, str], Plan] = {}

    @staticmethod
    def seals(gate: Gate) -> bool:
        """True when this gate's receipts can be sealed natively with the system clock (lean outcomes)."""
        return native is not None and gate.emitter.sealer is not None and gate.emitter.clock is None

    @staticmethod
    def decides(gate: Gate) -> bool:
        """True when this gate's calls may also be decided on the lean path (`check`)."""
        return (LeanPath.seals(gate) and not gate.shadow and gate._own_classifier
                and type(gate.evaluator) is PolicyEvaluator and gate.limits.max_steps is None
                and gate.limits.max_commands is None and gate.limits.max_writes is None)

    # -- deciding ------------------------------------------------------------------------------

    def check(self, call: ToolCall) -> Decision | None:
        """The decision on `call` with its receipt written, or None: then the general path decides."""
        function, plugin = call.function, call.plugin
        if type(function) is not str or (plugin is not None and type(plugin) is not str):
            return None
        plan = self._plans.get((plugin, function))
        if plan is None:
            return None
        gate = self._gate
        session = gate.session
        watch = plan.watch
        if plan.rules is not gate._rules or plan.posture is not session.posture or watch._problem is not None:
            return None
        if watch.path is not None:
            file_watch = watch._watch
            if file_watch is None or file_watch.changed:
                return None
        manifest, entry, index = plan.manifest, plan.entry, plan.index
        if (manifest.__pydantic_private__["_index"] is not index  # type: ignore[index]
                or index.get(plan.key) != plan.position
                or not (_same_state(plan.owners, plan.verified, index, plan.verified_index) or manifest.unchanged())):
            return None  # anything changed in memory, this entry or another: the general path denies
        try:
            digest = _arguments_digest(call.arguments)
        except Exception:  # noqa: BLE001 - arguments no receipt can hash (an int past the digit limit): the
            return None  # general path denies them, in words
        if digest is NOT_HANDLED:
            return None
        text, args_sha256 = digest
        command = None
        if plan.record_arguments:
            command = text if len(text) <= COMMAND_LIMIT else bounded(text, COMMAND_LIMIT)
        proposal = call.proposal_id
        if proposal is not None:
            if type(proposal) is not str or len(proposal) > NAME_LIMIT:
                return None
            if not proposal:
                proposal = None
        executor = gate.executor_type or call.framework
        if not (type(executor) is str and 0 < len(executor) <= NAME_LIMIT):
            executor = text_field(executor)
        model = call.model
        if not (type(model) is str and 0 < len(model) <= NAME_LIMIT):
            model = text_field(model)
        description = plan.prefix + args_sha256
        recorder = gate._recorder
        emitter = gate.emitter
        store = gate.store
        with recorder.lock:
            if recorder.closed or plan.posture is not session.posture or plan.rules is not gate._rules:
                return None  # closed, or the posture or manifest changed (a reload) since the checks above
            steps = session.steps + 1
            commands = session.commands + plan.is_command
            writes = session.writes + plan.is_write
            elapsed = gate._monotonic() - session.started
            head = emitter.sealer.seal(
                None, proposal, emitter.sequence + 1, None, executor, model, plan.tool, DECISION, plan.effect_text,
                plan.risk_delta, description, command, _NO_PATHS, plan.reversibility, "success", None, None, None,
                None, _NO_PATHS, _NO_PATHS, _NO_PATHS, steps, UNLIMITED_STEPS, commands, writes, len(session.files),
                round(elapsed if elapsed > 0.0 else 0.0, 2), round(session.risk, 4), plan.posture_text,
                emitter.previous_hash)
            if head is NOT_HANDLED:
                return None
            receipt = _make_receipt(None, None, head)
            try:
                ticket = store.write_receipt(receipt)
            except Exception:  # noqa: BLE001 - the general path writes again, and denies if it still fails
                return None
            late = emitter.advance(head[4], head[5])  # a checkpoint failure: the call is denied below
            session.steps, session.commands, session.writes = steps, commands, writes
            counts = session.calls_by_tool
            counts[plan.key] = counts.get(plan.key, 0) + 1
        try:
            store.sync(ticket)
            if late is not None:
                raise late
        except Exception as exc:  # noqa: BLE001 - not durable: fail closed, nothing runs
            return recorder.unrecorded(PreparedCall(call, entry, plan.classification, plan.ruling), plan.effect,
                                       False, False, exc, receipt, "the receipt was written but could not be made "
                                       "durable or signed, so the call may not run")
        decision: Decision = _make_decision(_APPROVE, None, plan.effect, call, plan.rule, receipt, entry, (), False,
                                            None, None, None)
        if log.isEnabledFor(_DEBUG):
            log.debug("%s %s: %s (%s); receipt %s", "approve", plan.tool, "-", plan.rule, head[1])
        return decision

    # -- outcomes ------------------------------------------------------------------------------------

    def outcome(self, decision: Decision, output: Any, error: BaseException | str | None, exit_code: int | None,
                status: str | None, deferred: bool) -> Receipt | None:
        """The outcome receipt of an approved call, written (or deferred); None: the general path writes it.

        What `Gate.record_outcome` writes for an approved decision, built
        straight into the native sealer's typed fields (tests hold the two to
        the same bytes). Raises what the general path raises for values no
        receipt can hold, and when the store refuses the receipt.
        """
        receipt = decision.receipt
        if decision.verdict is not _APPROVE or decision.escalation_receipt_id is not None or receipt is None:
            return None
        status, exit_code = outcome_status(status, exit_code, error)
        text = outcome_text(output, error)
        digest = native.sha256_hex(text) if text is not None else None
        entry = decision.entry
        stdout = text if (entry is None or entry.record_output) else None
        if stdout is not None and len(stdout) > STDOUT_LIMIT:
            stdout = stdout[:STDOUT_LIMIT]
        call = decision.call
        gate = self._gate
        recorder = gate._recorder
        tool = recorder.tool_name(call)
        description = (f"outcome of {tool} for decision receipt {receipt.receipt_id}: {status}; "
                       f"output_sha256={digest or 'none'}; args_sha256={_arguments_hash(call.arguments)}")
        if len(description) > DESCRIPTION_LIMIT:
            description = bounded(description, DESCRIPTION_LIMIT)
        paths = list(decision.target_paths)
        if paths:
            paths = bounded_paths(paths)
        effect = decision.effect_class
        executor = recorder.executor(call)
        model = call.model
        if not (type(model) is str and 0 < len(model) <= NAME_LIMIT):
            model = text_field(model)
        proposal = receipt.proposal_id
        emitter, store, session, limits = gate.emitter, gate.store, gate.session, gate.limits
        defer = getattr(store, "defer_receipt", None) if deferred else None
        with recorder.lock:
            if recorder.closed:
                return None  # the general path says so
            steps = session.steps
            elapsed = gate._monotonic() - session.started
            head = emitter.sealer.seal(
                None, proposal, emitter.sequence + 1, None, executor, model, tool, OUTCOME, effect.value, 0.0,
                description, None, paths, REVERSIBILITY[effect], status, exit_code, None, digest, stdout,
                _NO_PATHS, _NO_PATHS, _NO_PATHS, steps,
                max(0, limits.max_steps - steps) if limits.max_steps is not None else UNLIMITED_STEPS,
                session.commands, session.writes, len(session.files), round(elapsed if elapsed > 0.0 else 0.0, 2),
                round(session.risk, 4), session.posture.value, emitter.previous_hash)
            if head is NOT_HANDLED:
                return None
            written: Receipt = _make_receipt(None, None, head)
            ticket = defer(written) if defer is not None else store.write_receipt(written)  # raises: nothing moves
            late = emitter.advance(head[4], head[5])  # a checkpoint failure: raised once the receipt is counted
        if defer is None:
            store.sync(ticket)
        if late is not None:
            raise late
        return written

    # -- learning ----------------------------------------------------------------------------------

    def learn(self, prepared: PreparedCall, decision: Decision) -> None:
        """Remember a plan for calls like `prepared`, if the general path's `decision` is one the lean path can make."""
        entry, call, ruling, cls = prepared.entry, prepared.call, prepared.ruling, prepared.classification
        if (entry is None or decision.verdict is not _APPROVE or decision.shadow or prepared.decided_by is not None
                or prepared.answering is not None or ruling.verdict is not _APPROVE or ruling.reason is not None
                or cls.effect is None or cls.target_paths or entry.has_argument_rules or entry.requires_confirmation
                or entry.max_calls_per_session is not None or type(call.function) is not str
                or (call.plugin is not None and type(call.plugin) is not str)):
            return
        gate = self._gate
        watch = gate._rules[0]
        if watch.path is not None and not watch.watched:
            return  # the manifest file needs a stat per check until it is watched
        state = watch.manifest.decided_by(entry)
        if state is None:
            return
        private: Any = watch.manifest.__pydantic_private__
        tool = gate._recorder.tool_name(call)
        rule = ruling.rule if len(ruling.rule) <= REASON_LIMIT else bounded(ruling.rule, REASON_LIMIT)
        prefix = f"approved {tool}: {rule}; args_sha256="
        if len(prefix) + 64 > DESCRIPTION_LIMIT:
            return
        effect = cls.effect
        posture = gate.session.posture
        plan = Plan(
            rules=gate._rules, posture=posture, posture_text=posture.value, watch=watch, manifest=watch.manifest,
            entry=entry, owners=tuple(private["_owners"]), verified=tuple(private["_snapshot"][:-1]), index=state[2],
            verified_index=private["_snapshot"][-1],
            key=entry.key, position=state[4], tool=tool, rule=ruling.rule, prefix=prefix, effect=effect,
            effect_text=effect.value,
            reversibility=REVERSIBILITY[effect], risk_delta=gate.risk.delta(effect),
            is_command=int(effect in COMMAND_EFFECTS), is_write=int(effect in WRITE_EFFECTS),
            record_arguments=entry.record_arguments, classification=cls, ruling=ruling)
        plans = self._plans
        if len(plans) >= _PLAN_LIMIT:
            plans.clear()
        plans[(call.plugin, call.function)] = plan
