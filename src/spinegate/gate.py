"""The gate: the one entry point every adapter calls.

    gate = Gate.open("manifest.json", receipts="receipts.jsonl")
    decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={...}))
    if decision.approved:
        output = run_the_tool()
        gate.record_outcome(decision, output=output)

`check` classifies the call (`EffectClassifier`), decides
(`PolicyEvaluator`), and writes the receipt (`ReceiptEmitter`) before it
returns. If the receipt cannot be written the decision is a denial: no
receipt, no execution. The gate holds the pieces together; each lives in
its own module: the session's counters (`session`), approvers
(`approvals`), the manifest's integrity (`manifest_watch`), what each
receipt kind says (`receipt_kinds`), the chain (`emitter`), the store
(`store`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .approvals import Approval, ApprovalRequest, Approver, aask, ask
from .canonical import arguments_hash, canonical_arguments, sha256_hex
from .checkpoint_writer import Checkpointer
from .checkpoints import DEFAULT_CHECKPOINT_EVERY
from .classifier import Classification, EffectClassifier
from .decision import Decision, ToolCall, Verdict, as_text
from .effects import DEFAULT_RISK_DELTAS, EffectClass, Posture
from .emitter import ReceiptEmitter
from .errors import ReceiptLogError, ReceiptWriteError
from .gitinfo import git_context as read_git_context
from .keys import SigningKey
from .manifest import FunctionEntry, Manifest
from .manifest_file import load_manifest
from .manifest_watch import ManifestWatch, manifest_path_of
from .policy import Limits, PolicyEvaluator, Ruling
from .reasons import (
    APPROVAL_REQUIRED,
    EVALUATION_EXCEPTION,
    GATE_CLOSED,
    MANIFEST_INTEGRITY_FAILURE,
    RECEIPT_WRITE_FAILED,
)
from .receipt_body import COMMAND_LIMIT, NAME_LIMIT, REASON_LIMIT, bounded, exception_text, text_field
from .receipt_kinds import decision_content, outcome_content, outcome_status, outcome_text, posture_content
from .receipts import Receipt, validate_receipt
from .session import RiskRules, Session, budget_snapshot
from .store import Durability, ReceiptStore, open_store

__all__ = ["Gate", "Approval", "ApprovalRequest", "Approver"]

log = logging.getLogger("spinegate")

#: The classification of a call whose preparation failed before it was classified (built once).
_NOT_CLASSIFIED = Classification(None, None, "not classified")
_DENY, _ESCALATE = Verdict.DENY, Verdict.ESCALATE  # module globals: a class attribute lookup costs more per check
_NAME_CACHE_LIMIT = 1024  # distinct (plugin, function) pairs remembered per gate
_DEBUG = logging.DEBUG


@dataclass(slots=True)
class _Prepared:
    """A call classified and ruled on, not yet recorded. Treated as immutable (`with_ruling` copies);
    not frozen because a frozen dataclass costs a slow `object.__setattr__` per field on the hot path."""

    call: ToolCall
    entry: FunctionEntry | None
    classification: Classification
    ruling: Ruling
    decided_by: str | None = None

    def with_ruling(self, ruling: Ruling, decided_by: str | None = None) -> _Prepared:
        return _Prepared(self.call, self.entry, self.classification, ruling, decided_by or self.decided_by)

    def recorded_effect(self) -> EffectClass:
        """The effect a receipt records: unclassifiable is SHELL_DANGEROUS, never below a declared RESTRICTED_WRITE."""
        cls = self.classification
        if cls.effect is not None and self.entry is not None:
            return cls.effect
        if cls.effect is None and cls.declared is EffectClass.RESTRICTED_WRITE:
            return cls.declared
        return EffectClass.SHELL_DANGEROUS


def _safe_arguments_hash(arguments: Any) -> str:
    """The arguments' hash for a receipt description; never raises."""
    try:
        return arguments_hash(arguments)
    except Exception:  # noqa: BLE001
        return "unhashable"


def _last_receipt(store: ReceiptStore, session_id: str) -> dict[str, Any] | None:
    """The last receipt of `session_id` in `store`, checked against the schema before a chain continues from it.

    Raises ReceiptLogError (naming the log and what to do) for anything else.
    """
    fix = "run `spinegate verify` on the log, or open a new session"
    try:
        previous = store.last_receipt(session_id)
        if previous is not None:
            validate_receipt(previous)
    except ReceiptLogError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile line or a broken store: never continue from it
        raise ReceiptLogError(f"the last receipt of session {session_id} is not a valid receipt "
                              f"({type(exc).__name__}: {bounded(as_text(exc), REASON_LIMIT)}), so its chain "
                              "cannot be continued", path=store.location, fix=fix) from None
    return previous


class Gate:
    """Decides every tool call before it runs, and records each decision.

    Thread-safe and usable from asyncio. One gate is one session chain in the
    receipt store (a new `session_id` per gate unless one is given to continue).
    """

    def __init__(
        self,
        manifest: Manifest,
        store: ReceiptStore,
        *,
        manifest_path: str | None = None,
        session_id: str | None = None,
        posture: Posture | str | None = None,
        limits: Limits | None = None,
        approver: Approver | None = None,
        approval_timeout: float = 300.0,
        shadow: bool = False,
        risk_deltas: Mapping[EffectClass, float] | None = None,
        elevated_at: float = 0.3,
        lockdown_at: float = 0.5,
        classifier: EffectClassifier | None = None,
        evaluator: PolicyEvaluator | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        git: Mapping[str, str | None] | None = None,
        executor_type: str | None = None,
        signing_key: SigningKey | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    ) -> None:
        self.manifest = manifest
        self.store = store
        self.classifier = classifier or EffectClassifier.for_manifest(manifest)
        self.evaluator = evaluator or PolicyEvaluator()
        self.limits = limits or Limits()
        self.approver = approver
        self.approval_timeout = approval_timeout
        self.shadow = shadow
        self.risk = RiskRules({**DEFAULT_RISK_DELTAS, **(risk_deltas or {})}, elevated_at, lockdown_at)
        self.executor_type = executor_type
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._watch = ManifestWatch(manifest, manifest_path)
        self._tool_names: dict[tuple[str | None, str], str] = {}  # see _tool_name
        self._closed = False

        previous = _last_receipt(store, session_id) if session_id else None
        sid = session_id or uuid.uuid4().hex[:12]
        start_posture = Posture(posture) if posture is not None else manifest.posture
        self.session = Session(sid, start_posture, monotonic())
        self.instance_id = str(uuid.uuid4())
        self.emitter = ReceiptEmitter(
            store, session_id=sid, instance_id=self.instance_id,
            git=git if git is not None else read_git_context(), clock=clock,
            sequence=previous["sequence_number"] if previous else 0,
            previous_hash=previous["receipt_hash"] if previous else None,
        )
        if previous:
            self._resume(previous)
        self.checkpointer: Checkpointer | None = None
        if signing_key is not None:
            self.checkpointer = Checkpointer(signing_key, store, session_id=sid, every=checkpoint_every,
                                             clock=clock or _utc_now)
            if previous is not None:
                self.checkpointer.resume()
            else:
                # signed before the first receipt: a session without one was not written here
                self.checkpointer.open_session()
            self.emitter.checkpointer = self.checkpointer

    def _resume(self, last: Mapping[str, Any]) -> None:
        """Continue a session: its counters from its last receipt, per-tool counts and files from all of them."""
        s = self.session
        s.resume_counters(last)
        keys = {e.qualified_name: e.key for e in self.manifest.functions}
        for record in self.store.session_receipts(self.session_id):
            s.resume_approval(record.data, keys)

    # -- construction --------------------------------------------------------

    @classmethod
    def open(
        cls,
        manifest: Manifest | str | os.PathLike[str],
        receipts: ReceiptStore | str | os.PathLike[str],
        *,
        durability: Durability = "flush",
        max_steps: int | None = None,
        max_commands: int | None = None,
        max_writes: int | None = None,
        session_id: str | None = None,
        posture: Posture | str | None = None,
        approver: Approver | None = None,
        approval_timeout: float = 300.0,
        shadow: bool = False,
        risk_deltas: Mapping[EffectClass, float] | None = None,
        elevated_at: float | None = None,
        lockdown_at: float | None = None,
        classifier: EffectClassifier | None = None,
        evaluator: PolicyEvaluator | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        git: Mapping[str, str | None] | None = None,
        executor_type: str | None = None,
        signing_key: SigningKey | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        checkpoints: str | os.PathLike[str] | None = None,
    ) -> Gate:
        """Load and verify the manifest, open (or resume) the receipt log.

        `durability` is "flush" (to the operating system, the default) or
        "fsync" (to the disk, with group commit). The manifest's v1.1
        `budgets` and `risk` settings apply unless given here (`max_*`,
        `elevated_at`, `lockdown_at`; `risk_deltas` are merged over the
        manifest's). `signing_key` (an Ed25519 key from `spinegate keygen`)
        makes the gate sign checkpoints every `checkpoint_every` receipts,
        in `<log>.checkpoints.jsonl` or `checkpoints`; see
        docs/tamper-evidence.md. `session_id` continues that session's chain.
        The other options are `Gate`'s.

        Raises ManifestError for a manifest that is unreadable, invalid or whose
        hash does not match, TornLogError for a log that ends in a torn line,
        KeyFileError for an unusable signing key, and ReceiptLogError when a
        resumed session's last receipt is not a valid receipt or its log no
        longer matches its last signed checkpoint.
        """
        path: str | None
        if isinstance(manifest, Manifest):
            path = manifest_path_of(manifest)
        else:
            path = os.fspath(manifest)
            manifest = load_manifest(path)
        store = open_store(receipts, durability=durability, checkpoints=checkpoints, signing=signing_key is not None)
        b, r = manifest.budgets, manifest.risk  # v1.1: the manifest's settings; explicit arguments win
        limits = Limits(
            max_steps=max_steps if max_steps is not None else (b.max_steps if b is not None else None),
            max_commands=max_commands if max_commands is not None else (b.max_commands if b is not None else None),
            max_writes=max_writes if max_writes is not None else (b.max_writes if b is not None else None),
        )
        deltas = {**(r.deltas if r is not None else {}), **(risk_deltas or {})}
        try:
            return cls(manifest, store, manifest_path=path, session_id=session_id, posture=posture, limits=limits,
                       approver=approver, approval_timeout=approval_timeout, shadow=shadow, risk_deltas=deltas,
                       elevated_at=elevated_at if elevated_at is not None else (r.elevated_at if r else 0.3),
                       lockdown_at=lockdown_at if lockdown_at is not None else (r.lockdown_at if r else 0.5),
                       classifier=classifier, evaluator=evaluator, clock=clock, monotonic=monotonic, git=git,
                       executor_type=executor_type, signing_key=signing_key, checkpoint_every=checkpoint_every)
        except BaseException:
            if store is not receipts:  # opened here (from a path): do not leak its file descriptor
                store.close()
            raise

    # -- public API ------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def posture(self) -> Posture:
        return self.session.posture

    @property
    def elevated_at(self) -> float:
        return self.risk.elevated_at

    @property
    def lockdown_at(self) -> float:
        return self.risk.lockdown_at

    @property
    def risk_deltas(self) -> Mapping[EffectClass, float]:
        return self.risk.deltas

    def set_posture(self, posture: Posture | str, *, by: str = "operator", note: str = "") -> Receipt:
        """Change the session's posture (tighten or loosen) and write a `posture` receipt saying so.

        The receipt says from what to what and by whom (`by`, and `note` if
        given) and carries the new posture in its budget snapshot. Raises
        ValueError for an unknown posture and ReceiptLogError if the receipt
        cannot be written; either way the posture stays as it was.
        """
        new = Posture(posture)  # raises ValueError for an unknown posture before anything changes
        return self._change_posture(lambda old: new, by=by, note=note, reset_risk=False)

    def restore_posture(self, *, by: str = "person", note: str = "") -> Receipt:
        """Back to the manifest's posture, the session risk score reset to 0, with a `posture` receipt.

        What a person's new prompt does in a coding-agent host: the posture
        the session tightened into (by itself, or by an operator) and the risk
        that led there are set aside by a person, on the record. Raises
        ReceiptLogError if the receipt cannot be written (nothing changes then).
        """
        return self._change_posture(lambda old: self.manifest.posture, by=by, note=note, reset_risk=True)

    def budget(self) -> dict[str, Any]:
        """The session's budget snapshot as the next receipt would show it."""
        with self._lock:
            return self.session.snapshot(self._monotonic(), self.limits)

    def lookup(self, plugin: str | None, function: str) -> FunctionEntry | None:
        return self.manifest.lookup(plugin, function)

    def check(self, call: ToolCall, *, approver: Approver | None = None) -> Decision:
        """Decide `call` and write its receipt. Never raises for a bad call: it denies.

        `approver`, when given, answers an escalation of this one call in place of
        the gate's own (for an adapter that asked a person its framework's way,
        such as a LangGraph interrupt, which must run in the framework's context).
        """
        prepared = self._prepare(call)
        if prepared.ruling.verdict is _ESCALATE:
            prepared = self._escalate_sync(prepared, approver)
        return self._finish(prepared)

    async def acheck(self, call: ToolCall, *, approver: Approver | None = None) -> Decision:
        """`check` for async frameworks; an async approver is awaited on the loop."""
        prepared = self._prepare(call)
        if prepared.ruling.verdict is _ESCALATE:
            prepared = await self._escalate_async(prepared, approver)
        if self._offload_writes:  # never block the event loop on fsync
            return await asyncio.to_thread(self._finish, prepared)
        return self._finish(prepared)

    def approval_request(self, call: ToolCall) -> ApprovalRequest | None:
        """The question an approver would be asked about `call` now, or None if it would not escalate.

        Writes nothing and changes nothing. For adapters that must ask a person
        in their framework's own way before `check` (then passed as `check`'s
        `approver`); `check` decides again, so a stale answer cannot widen it.
        """
        prepared = self._prepare(call)
        if prepared.ruling.verdict is not Verdict.ESCALATE:
            return None
        return self._approval_request(prepared)

    def deny(self, call: ToolCall, reason: str, rule: str) -> Decision:
        """Record a refusal decided before policy could run, and return it.

        For adapters that find a call unusable on its own terms (arguments that
        are not valid JSON, a tool with no callable): the call is refused with
        `reason` and a receipt like any other, even in shadow mode, since it
        cannot run anyway.
        """
        try:
            entry = self.manifest.lookup(call.plugin, call.function)
        except Exception:  # noqa: BLE001
            entry = None
        effect = entry.effect_class if entry is not None else None
        rule = as_text(rule)
        prepared = _Prepared(call, entry, Classification(effect, effect, rule),
                             Ruling(Verdict.DENY, bounded(as_text(reason), REASON_LIMIT), rule))
        return self._finish(prepared, enforce=True)

    async def adeny(self, call: ToolCall, reason: str, rule: str) -> Decision:
        """`deny` for async frameworks: never blocks the event loop on fsync."""
        if self._offload_writes:
            return await asyncio.to_thread(self.deny, call, reason, rule)
        return self.deny(call, reason, rule)

    def record_outcome(self, decision: Decision, *, output: Any = None, error: BaseException | str | None = None,
                       exit_code: int | None = None, status: str | None = None) -> Receipt:
        """Write a receipt for what an approved call did.

        `output` is written truncated to 2000 characters (unless the entry sets
        record_output: false) with the SHA-256 of the full text in `diff_hash`;
        an `error` makes the status "failed". Raises ValueError or TypeError
        for arguments no receipt can hold (before writing anything), and
        ReceiptLogError if the receipt cannot be written.
        """
        if not decision.approved:
            raise ValueError("record_outcome takes an approved decision: a refused call did not run")
        status, exit_code = outcome_status(status, exit_code, error)
        text = outcome_text(output, error)
        digest = sha256_hex(text) if text is not None else None
        record = decision.entry.record_output if decision.entry is not None else True
        call = decision.call
        action, result = outcome_content(
            tool=self._tool_name(call), effect=decision.effect_class, decision_id=decision.receipt_id,
            status=status, exit_code=exit_code, output_sha256=digest,
            args_sha256=_safe_arguments_hash(call.arguments), paths=list(decision.target_paths),
            stdout=text if record else None)
        proposal = decision.receipt["proposal_id"] if decision.receipt is not None else self._proposal(call)
        return self._write(call, proposal, action, result, None, "the outcome was not recorded",
                           "record outcomes before closing the gate")

    async def arecord_outcome(self, decision: Decision, *, output: Any = None,
                              error: BaseException | str | None = None, exit_code: int | None = None,
                              status: str | None = None) -> Receipt:
        """`record_outcome` for async frameworks: never blocks the event loop on fsync."""
        if self._offload_writes:
            return await asyncio.to_thread(self.record_outcome, decision, output=output, error=error,
                                           exit_code=exit_code, status=status)
        return self.record_outcome(decision, output=output, error=error, exit_code=exit_code, status=status)

    def try_record_outcome(self, decision: Decision, *, output: Any = None,
                           error: BaseException | str | None = None, exit_code: int | None = None,
                           status: str | None = None) -> Receipt | None:
        """`record_outcome` for a call that already ran: a failure is logged (WARNING), not raised; None then.

        What every adapter needs after running an approved call: raising now
        would hide a result that exists and invite the model to run the tool
        again. The next `check` fails closed if the log stays unwritable.
        """
        try:
            return self.record_outcome(decision, output=output, error=error, exit_code=exit_code, status=status)
        except Exception as exc:  # noqa: BLE001
            _log_unrecorded(decision, exc)
            return None

    async def atry_record_outcome(self, decision: Decision, *, output: Any = None,
                                  error: BaseException | str | None = None, exit_code: int | None = None,
                                  status: str | None = None) -> Receipt | None:
        """`try_record_outcome` for async frameworks: never blocks the event loop on fsync."""
        try:
            return await self.arecord_outcome(decision, output=output, error=error, exit_code=exit_code,
                                              status=status)
        except Exception as exc:  # noqa: BLE001
            _log_unrecorded(decision, exc)
            return None

    @property
    def _offload_writes(self) -> bool:
        """True when writing a receipt may wait on the disk (fsync): async callers then use a thread."""
        return self.store.durability == "fsync"

    def close(self) -> None:
        """Write the final signed checkpoint (with a signing key), flush and close the log. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self.checkpointer is not None:
                    self.checkpointer.close()
            finally:
                self.store.close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Gate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # -- deciding --------------------------------------------------------------------------

    def _prepare(self, call: ToolCall) -> _Prepared:
        entry: FunctionEntry | None = None
        classification = _NOT_CLASSIFIED
        try:
            problem = self._watch.problem(self.manifest)
            if problem:
                return _Prepared(call, None, Classification(None, None, problem),
                                 Ruling(Verdict.DENY, MANIFEST_INTEGRITY_FAILURE, problem))
            entry = self.manifest.lookup(call.plugin, call.function)
            classification = self.classifier.classify(call, entry)
            with self._lock:
                ruling = self.evaluator.evaluate(call, entry, classification, self.session.posture,
                                                 self.session, self.limits)
        except Exception as exc:  # noqa: BLE001 - fail closed on anything
            ruling = Ruling(Verdict.DENY, exception_text(EVALUATION_EXCEPTION, exc),
                            "an exception was raised while classifying or evaluating the call")
        return _Prepared(call, entry, classification, ruling)

    def _approval_request(self, p: _Prepared) -> ApprovalRequest:
        return ApprovalRequest(p.call, p.classification.effect or EffectClass.SHELL_DANGEROUS,
                               p.ruling.reason or APPROVAL_REQUIRED, p.ruling.rule, arguments_hash(p.call.arguments))

    def _no_approver(self, p: _Prepared) -> _Prepared:
        return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_REQUIRED, f"{p.ruling.rule}, and no approver is configured"))

    def _escalate_sync(self, p: _Prepared, override: Approver | None = None) -> _Prepared:
        approver = override if override is not None else self.approver
        if approver is None:
            return self._no_approver(p)
        return p.with_ruling(*ask(approver, self._approval_request(p), self.approval_timeout))

    async def _escalate_async(self, p: _Prepared, override: Approver | None = None) -> _Prepared:
        approver = override if override is not None else self.approver
        if approver is None:
            return self._no_approver(p)
        return p.with_ruling(*await aask(approver, self._approval_request(p), self.approval_timeout))

    def _tool_name(self, call: ToolCall) -> str:
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

    @staticmethod
    def _recorded_arguments(p: _Prepared) -> tuple[str, str | None]:
        """(SHA-256 of the canonical arguments, the receipt's `command`); raises for arguments that cannot be hashed."""
        arguments_text = canonical_arguments(p.call.arguments)  # once: it is both hashed and recorded
        command = arguments_text if (p.entry is not None and p.entry.record_arguments) else p.classification.command
        if command is not None and len(command) > COMMAND_LIMIT:
            command = bounded(command, COMMAND_LIMIT)
        return sha256_hex(arguments_text), command

    def _late_check(self, p: _Prepared, effect: EffectClass) -> Ruling | None:
        """Budgets and posture again, under the lock: concurrent calls or a slow approver must not
        overrun a budget or slip past a tightened posture. A denial, or None."""
        assert p.entry is not None
        try:
            return self.evaluator.limits_and_posture(p.entry, effect, self.session.posture, self.session, self.limits)
        except Exception as exc:  # noqa: BLE001 - fail closed
            return Ruling(Verdict.DENY, exception_text(EVALUATION_EXCEPTION, exc),
                          "the late budget and posture check failed")

    def _finish(self, p: _Prepared, *, enforce: bool = False) -> Decision:
        """Record the decision on a prepared call (its receipt written) and return it."""
        call, entry, ruling = p.call, p.entry, p.ruling
        shadow = self.shadow and not enforce
        effect = p.recorded_effect()
        denied = ruling.verdict is _DENY or ruling.verdict is _ESCALATE  # unresolved escalation never runs
        try:
            args_digest, command = self._recorded_arguments(p)
        except Exception as exc:  # noqa: BLE001 - arguments that cannot even be hashed
            args_digest, command = "unhashable", None
            if not denied:
                denied = True
                ruling = Ruling(Verdict.DENY, exception_text(EVALUATION_EXCEPTION, exc),
                                "the arguments could not be hashed")
        name = self._tool_name(call)
        paths = p.classification.target_paths
        with self._lock:
            s = self.session
            if self._closed:  # the log is closed: nothing can be recorded, so nothing may run
                return Decision(Verdict.DENY, GATE_CLOSED, effect, call,
                                "the gate was closed, so no receipt can be written and the call may not run",
                                None, entry, paths, shadow, _enforced(denied), p.decided_by)
            if not denied and entry is not None:
                late = self._late_check(p, effect)
                if late is not None:
                    ruling, denied = late, True
            change = s.decision_change(effect, denied, paths, not denied and entry is not None, self.risk)
            action, result = decision_content(
                tool=name, effect=effect, risk_delta=self.risk.delta(effect), reason=ruling.reason, rule=ruling.rule,
                denied=denied, shadow=shadow, decided_by=p.decided_by, args_sha256=args_digest, command=command,
                paths=list(paths), notes=(change[5],))
            try:
                receipt, ticket, late_error = self.emitter.emit_unsynced(
                    proposal_id=self._proposal(call), executor_type=self._executor_type(call),
                    model=text_field(call.model), action=action, result=result,
                    budget=s.snapshot_after(change, self._monotonic(), self.limits))
            except Exception as exc:  # noqa: BLE001 - any store failure: fail closed, nothing runs
                return self._unrecorded(p, effect, shadow, denied, exc, None,
                                        "the receipt could not be written, so the call may not run")
            s.apply(change, entry.key if (not denied and entry is not None) else None)
        try:
            self.store.sync(ticket)  # fsync durability: outside the lock, so concurrent calls share one fsync
            if late_error is not None:
                raise late_error
        except Exception as exc:  # noqa: BLE001 - not durable: fail closed, nothing runs
            return self._unrecorded(p, effect, shadow, denied, exc, receipt, "the receipt was written but could "
                                    "not be made durable or signed, so the call may not run")
        enforced = _enforced(denied)
        decision = Decision(Verdict.APPROVE if shadow else enforced, ruling.reason if denied else None, effect, call,
                            ruling.rule, receipt, entry, paths, shadow, enforced if shadow else None, p.decided_by)
        if log.isEnabledFor(_DEBUG):
            log.debug("%s %s: %s (%s); receipt %s", decision.verdict.value, name, decision.reason or "-",
                      ruling.rule, receipt.receipt_id)
        return decision

    def _unrecorded(self, p: _Prepared, effect: EffectClass, shadow: bool, denied: bool, exc: Exception,
                    receipt: Receipt | None, rule: str) -> Decision:
        """The denial of a call whose receipt could not be written or made durable (logged at WARNING)."""
        reason = exception_text(RECEIPT_WRITE_FAILED, exc, with_type=False)
        log.warning("denied %s: %s", self._tool_name(p.call), reason)
        return Decision(Verdict.DENY, reason, effect, p.call, rule, receipt, p.entry,
                        p.classification.target_paths, shadow, _enforced(denied), p.decided_by)

    # -- writing the other receipt kinds ---------------------------------------------------------

    def _change_posture(self, target: Callable[[Posture], Posture], *, by: str, note: str,
                        reset_risk: bool) -> Receipt:
        """Write a `posture` receipt for the change `target` makes, then make it (under the lock, atomically)."""
        with self._lock:
            s = self.session
            before, after = s.posture, target(s.posture)
            action, result = posture_content(before=before, after=after, by=text_field(by, "operator"),
                                             risk_reset=reset_risk, note=as_text(note))
            risk = 0.0 if reset_risk else s.risk
            budget = budget_snapshot(self.limits, s.steps, s.commands, s.writes, len(s.files),
                                     self._monotonic() - s.started, risk, after)
            receipt = self._write(None, None, action, result, budget, "the posture was not changed",
                                  "change the posture before closing the gate")
            s.posture, s.risk = after, risk
        log.debug("posture %s -> %s by %s; receipt %s", before.value, after.value, by, receipt.receipt_id)
        return receipt

    def _write(self, call: ToolCall | None, proposal: str | None, action: dict[str, Any], result: dict[str, Any],
               budget: dict[str, Any] | None, closed_what: str, closed_fix: str) -> Receipt:
        """Write one receipt of the session (not a decision) and wait until it is durable. Raises if it cannot.

        `call` is the call the receipt is about (None for the session's own
        receipts: posture, reload); `budget` None is the session as it stands.
        """
        with self._lock:
            if self._closed:
                raise ReceiptWriteError(f"the gate is closed; {closed_what}", path=self.store.location,
                                        fix=closed_fix)
            receipt, ticket, late_error = self.emitter.emit_unsynced(
                proposal_id=proposal, executor_type=self._executor_type(call),
                model=text_field(call.model if call is not None else None), action=action, result=result,
                budget=budget if budget is not None else self.session.snapshot(self._monotonic(), self.limits))
        self.store.sync(ticket)  # outside the lock: concurrent writers share one fsync
        if late_error is not None:
            raise late_error
        return receipt

    def _executor_type(self, call: ToolCall | None) -> str:
        return text_field(self.executor_type or (call.framework if call is not None else "spinegate"))

    @staticmethod
    def _proposal(call: ToolCall) -> str | None:
        """The receipt's proposal_id from the call's, or None: the emitter then generates one."""
        # str(): a framework may hand over a non-string id; the receipt field is a string
        # bounded: the id may come from model output, and the receipt must stay small
        return bounded(as_text(call.proposal_id), NAME_LIMIT) if call.proposal_id not in (None, "") else None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _enforced(denied: bool) -> Verdict:
    return _DENY if denied else Verdict.APPROVE


def _log_unrecorded(decision: Decision, exc: BaseException) -> None:
    log.warning("the outcome receipt for decision %s (%s) could not be written: %s: %s", decision.receipt_id,
                decision.tool_name, type(exc).__name__, exc, exc_info=exc)
