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
its own module: writing receipts in step with the session (`recorder`),
the session's counters (`session`), approvers (`approvals`), the
manifest's integrity (`manifest_watch`), what each receipt kind says
(`receipt_kinds`), the chain (`emitter`), the store (`store`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, TypeVar

from .approvals import Approval, ApprovalRequest, Approver, aask, ask
from .canonical import arguments_hash, sha256_hex
from .checkpoint_writer import Checkpointer
from .checkpoints import DEFAULT_CHECKPOINT_EVERY
from .classifier import Classification, EffectClassifier
from .decision import Decision, ToolCall, Verdict, as_text
from .effects import DEFAULT_RISK_DELTAS, EffectClass, Posture
from .emitter import ReceiptEmitter
from .errors import ManifestError, ReceiptLogError
from .gitinfo import git_context as read_git_context
from .keys import SigningKey
from .lean import LeanPath
from .manifest import FunctionEntry, Manifest
from .manifest_file import load_manifest
from .manifest_watch import ManifestWatch, manifest_path_of
from .policy import Limits, PolicyEvaluator, Ruling
from .reasons import (
    APPROVAL_DENIED,
    APPROVAL_REQUIRED,
    EVALUATION_EXCEPTION,
    MANIFEST_INTEGRITY_FAILURE,
)
from .receipt_body import REASON_LIMIT, bounded, exception_text, text_field
from .receipt_kinds import (
    escalation_content,
    outcome_content,
    outcome_status,
    outcome_text,
    reload_content,
)
from .receipts import Receipt, validate_receipt
from .recorder import PreparedCall, Recorder, arguments_digest
from .session import RiskRules, Session
from .store import Durability, ReceiptStore, open_store
from .telemetry import traced_async_decision, traced_decision, traced_outcome
from .witness import Witness, open_witness
from .workspace import path_context

__all__ = ["Gate", "Approval", "ApprovalRequest", "Approver", "OutcomeReceipts"]

#: How adapters record outcome receipts: "async" (sealed now, appended by the store's writer thread or with the
#: session's next receipt, whichever is first) or "sync" (the adapter waits for the append).
OutcomeReceipts = Literal["async", "sync"]

log = logging.getLogger("spinegate")

#: The classification of a call whose preparation failed before it was classified (built once).
_NOT_CLASSIFIED = Classification(None, None, "not classified")
_ESCALATE = Verdict.ESCALATE  # a module global: a class attribute lookup costs more per check
_T = TypeVar("_T")


def _safe_arguments_hash(arguments: Any) -> str:
    """The arguments' hash for a receipt description; never raises."""
    try:
        return arguments_digest(arguments)[1]
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
        witness: Witness | None = None,
        working_dir: str | os.PathLike[str] | None = None,
        outcome_receipts: OutcomeReceipts = "async",
        project_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """A gate on a verified `manifest`, writing to an open `store`; `Gate.open` builds both from paths.

        `manifest_path` is the file the manifest came from (watched for
        changes); `session_id` continues that session's chain; `posture`
        overrides the manifest's; `limits`, `risk_deltas`, `elevated_at` and
        `lockdown_at` set budgets and how risk tightens the posture;
        `approver` (with `approval_timeout` seconds) answers escalations;
        `shadow` records without enforcing. `classifier`, `evaluator`,
        `clock`, `monotonic` and `git` replace what the gate would build or
        read itself (for tests and embedding); `executor_type` names the
        executor in every receipt; `signing_key` signs a checkpoint every
        `checkpoint_every` receipts, each also appended to `witness` if given
        (the gate closes it when it closes). `working_dir` is where the agent
        works (relative paths in its calls resolve against it; default: this
        process's working directory), for a host that reports it per session;
        `project_dir` is the project it works on, when that is not
        `working_dir` (a coding agent in a subdirectory): the manifest's
        writable roots, readable secrets and project-anchored patterns are
        taken from there (default: the same as `working_dir`).
        `outcome_receipts` says how the adapters record outcomes: "async"
        (seal now, append without waiting; see `record_outcome`'s
        `deferred`) or "sync" (wait for the append).
        """
        if outcome_receipts not in ("async", "sync"):
            raise ValueError(f"outcome_receipts must be 'async' or 'sync', not {outcome_receipts!r}")
        self.outcome_receipts: OutcomeReceipts = outcome_receipts
        if witness is not None and signing_key is None:
            raise ValueError("a witness keeps copies of signed checkpoints: give a signing_key too")
        self.store = store
        # What decides, swapped whole (one assignment) by a verified reload: the manifest with its
        # integrity watch, and the classifier built for it (kept as given when the caller gave one).
        # the gate's own files are protected from the calls it governs (spinegate.protected)
        self._context = path_context(protected_files=(
            manifest_path, getattr(store, "location", None), getattr(store, "checkpoints_location", None),
            signing_key if isinstance(signing_key, (str, os.PathLike)) else None),
            cwd=os.fspath(working_dir) if working_dir is not None else None,
            project=os.fspath(project_dir) if project_dir is not None else None)
        self._rules = (ManifestWatch(manifest, manifest_path),
                       classifier or EffectClassifier.for_manifest(manifest, context=self._context))
        self._own_classifier = classifier is None
        self.evaluator = evaluator or PolicyEvaluator()
        self.limits = limits or Limits()
        self.approver = approver
        self.approval_timeout = approval_timeout
        self.shadow = shadow
        self.risk = RiskRules({**DEFAULT_RISK_DELTAS, **(risk_deltas or {})}, elevated_at, lockdown_at)
        self.executor_type = executor_type
        self._monotonic = monotonic
        self._resolved: set[str] = set()  # escalation receipts answered through this gate

        previous = _last_receipt(store, session_id) if session_id else None
        sid = session_id or uuid.uuid4().hex[:12]
        start_posture = Posture(posture) if posture is not None else manifest.posture
        self.session = Session(sid, start_posture, monotonic())
        self.instance_id = str(uuid.uuid4())
        self.emitter = ReceiptEmitter(
            store, session_id=sid, instance_id=self.instance_id,
            git=git if git is not None else read_git_context(working_dir), clock=clock,
            sequence=previous["sequence_number"] if previous else 0,
            previous_hash=previous["receipt_hash"] if previous else None,
        )
        if previous:
            self._resume(previous)
        self._recorder = Recorder(self.emitter, self.session, limits=self.limits, risk=self.risk,
                                  evaluator=self.evaluator, shadow=shadow, executor_type=executor_type,
                                  monotonic=monotonic)
        self._lock = self._recorder.lock
        lean = LeanPath(self) if LeanPath.seals(self) else None
        self._lean = lean if lean is not None and LeanPath.decides(self) else None  # checks
        self._lean_outcomes = lean  # outcomes
        self.checkpointer: Checkpointer | None = None
        if signing_key is not None:
            self.checkpointer = Checkpointer(signing_key, store, session_id=sid, every=checkpoint_every,
                                             clock=clock or _utc_now, witness=witness)
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
        witness: Witness | str | os.PathLike[str] | None = None,
        working_dir: str | os.PathLike[str] | None = None,
        outcome_receipts: OutcomeReceipts = "async",
        project_dir: str | os.PathLike[str] | None = None,
    ) -> Gate:
        """Load and verify the manifest, open (or resume) the receipt log.

        `receipts` is a JSONL log's path, a `postgresql://` URL (the ledger a
        fleet shares: every receipt committed before `check` returns,
        checkpoints in the ledger too; docs/fleet.md), or a ReceiptStore.
        `durability` is "flush" (to the operating system, the default) or
        "fsync" (to the disk, with group commit); the ledger commits every
        receipt whatever it says. The manifest's v1.1
        `budgets` and `risk` settings apply unless given here (`max_*`,
        `elevated_at`, `lockdown_at`; `risk_deltas` are merged over the
        manifest's). `signing_key` (an Ed25519 key from `spinegate keygen`)
        makes the gate sign checkpoints every `checkpoint_every` receipts,
        in `<log>.checkpoints.jsonl` or `checkpoints`; see
        docs/tamper-evidence.md. `witness` (a file on another volume, or a
        `postgresql://` ledger) receives a copy of every checkpoint, so that
        `spinegate verify LOG --witness W` catches a log rolled back or
        missing a session. `session_id` continues that session's chain.
        The other options are `Gate`'s.

        Raises ManifestError for a manifest that is unreadable, invalid or whose
        hash does not match, TornLogError for a log that ends in a torn line,
        KeyFileError for an unusable signing key, ReceiptLogError when a
        resumed session's last receipt is not a valid receipt, its log no
        longer matches its last signed checkpoint, or the ledger holding it
        cannot be read (or its driver is not installed), and ValueError for
        a `witness` without a `signing_key`.
        """
        path: str | None
        if isinstance(manifest, Manifest):
            path = manifest_path_of(manifest)
        else:
            path = os.fspath(manifest)
            manifest = load_manifest(path)
        if witness is not None and signing_key is None:
            raise ValueError("a witness keeps copies of signed checkpoints: give a signing_key too")
        store = open_store(receipts, durability=durability, checkpoints=checkpoints, signing=signing_key is not None)
        try:
            witnessing = open_witness(witness, log_location=store.location, durability=durability) \
                if witness is not None else None
        except BaseException:
            if store is not receipts:
                store.close()
            raise
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
                       executor_type=executor_type, signing_key=signing_key, checkpoint_every=checkpoint_every,
                       witness=witnessing, working_dir=working_dir, outcome_receipts=outcome_receipts,
                       project_dir=project_dir)
        except BaseException:
            if store is not receipts:  # opened here (from a path): do not leak its file descriptor
                store.close()
            if witnessing is not None and witnessing is not witness:
                witnessing.close()
            raise

    # -- public API ------------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        """The verified manifest the gate decides by. `reload` replaces it, after verifying the file."""
        return self._rules[0].manifest

    @manifest.setter
    def manifest(self, other: Manifest) -> None:
        """Putting another manifest in the gate's place is a change after load: every call is denied from now on."""
        self._rules[0].fail("the manifest held by the gate was replaced after it was loaded")

    @property
    def classifier(self) -> EffectClassifier:
        return self._rules[1]

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
        return self._recorder.posture(new, by=by, note=note, reset_risk=False)

    def restore_posture(self, *, by: str = "person", note: str = "") -> Receipt:
        """Back to the manifest's posture, the session risk score reset to 0, with a `posture` receipt.

        What a person's new prompt does in a coding-agent host: the posture
        the session tightened into (by itself, or by an operator) and the risk
        that led there are set aside by a person, on the record. Raises
        ReceiptLogError if the receipt cannot be written (nothing changes then).
        """
        return self._recorder.posture(self.manifest.posture, by=by, note=note, reset_risk=True)

    def budget(self) -> dict[str, Any]:
        """The session's budget snapshot as the next receipt would show it."""
        with self._lock:
            return self.session.snapshot(self._monotonic(), self.limits)

    def lookup(self, plugin: str | None, function: str) -> FunctionEntry | None:
        return self.manifest.lookup(plugin, function)

    @traced_decision
    def check(self, call: ToolCall, *, approver: Approver | None = None, host_approval: bool = False) -> Decision:
        """Decide `call` and write its receipt. Never raises for a bad call: it denies.

        `approver`, when given, answers an escalation of this one call in place of
        the gate's own (for an adapter that asked a person its framework's way,
        such as a LangGraph interrupt, which must run in the framework's context).

        `host_approval=True` says the host asks the person in its own prompt
        (a coding agent's "ask", MCP elicitation): a call that needs
        confirmation then gets an `escalation` receipt and a Decision that is
        `escalated` (neither approved nor denied). The call runs only if the
        person approves there; record the answer with `resolve_escalation`,
        or the outcome with `record_outcome` if the host ran it.
        """
        lean = self._lean
        if lean is not None and approver is None:
            decision = lean.check(call)
            if decision is not None:
                return decision
        prepared = self._prepare(call)
        if prepared.ruling.verdict is _ESCALATE:
            if host_approval:
                return self._escalate_to_host(prepared)
            prepared = self._escalate_sync(prepared, approver)
        decision = self._recorder.decision(prepared)
        if lean is not None:
            lean.learn(prepared, decision)
        return decision

    @traced_async_decision
    async def acheck(self, call: ToolCall, *, approver: Approver | None = None,
                     host_approval: bool = False) -> Decision:
        """`check` for async frameworks; an async approver is awaited on the loop."""
        lean = self._lean
        if lean is not None and approver is None and not self._offload_writes:
            decision = lean.check(call)
            if decision is not None:
                return decision
        prepared = self._prepare(call)
        if prepared.ruling.verdict is _ESCALATE:
            if host_approval:
                return await self._off_loop(self._escalate_to_host, prepared)
            prepared = await self._escalate_async(prepared, approver)
        decision = await self._off_loop(self._recorder.decision, prepared)
        if lean is not None:
            lean.learn(prepared, decision)
        return decision

    @traced_decision
    def resolve_escalation(self, decision: Decision, approved: bool, by: str, note: str = "") -> Decision:
        """Record a person's answer to an escalation (`check(..., host_approval=True)`) and return the decision.

        Writes a `decision` receipt naming the escalation receipt and who
        decided (`by`, with `note`). An approval is checked again first, as
        any approval is: budgets, posture and the manifest's integrity may
        still deny the call. Raises ValueError for a decision that is not an
        escalation of this session, or one already answered here.
        """
        escalation_id = self._escalation_id(decision)
        with self._lock:
            if escalation_id in self._resolved:
                raise ValueError(f"escalation receipt {escalation_id} was already answered")
            self._resolved.add(escalation_id)
        try:
            return self._recorder.decision(self._answer(decision, escalation_id, approved, by, note), enforce=True)
        except BaseException:
            with self._lock:
                self._resolved.discard(escalation_id)
            raise

    async def aresolve_escalation(self, decision: Decision, approved: bool, by: str, note: str = "") -> Decision:
        """`resolve_escalation` for async frameworks: never blocks the event loop on fsync."""
        return await self._off_loop(self.resolve_escalation, decision, approved, by, note)

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

    @traced_decision
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
        prepared = PreparedCall(call, entry, Classification(effect, effect, rule),
                             Ruling(Verdict.DENY, bounded(as_text(reason), REASON_LIMIT), rule))
        return self._recorder.decision(prepared, enforce=True)

    async def adeny(self, call: ToolCall, reason: str, rule: str) -> Decision:
        """`deny` for async frameworks: never blocks the event loop on fsync."""
        return await self._off_loop(self.deny, call, reason, rule)

    @traced_outcome
    def record_outcome(self, decision: Decision, *, output: Any = None, error: BaseException | str | None = None,
                       exit_code: int | None = None, status: str | None = None, deferred: bool = False) -> Receipt:
        """Write a receipt for what an approved call did.

        Takes an approved decision (also one that answers an escalation), or
        an escalated one whose host ran the call after the person said yes
        in its own prompt without telling the gate (a coding agent's
        PostToolUse): the outcome receipt then names the escalation receipt,
        and the call is counted against the session's budgets now.
        `output` is written truncated to 2000 characters (unless the entry sets
        record_output: false) with the SHA-256 of the full text in `diff_hash`;
        an `error` makes the status "failed". Raises ValueError or TypeError
        for arguments no receipt can hold (before writing anything), and
        ReceiptLogError if the receipt cannot be written.

        `deferred=True` (what the adapters do by default) does not wait for
        the store: the receipt is sealed into the session's chain now (its
        time is the call's end) and appended by the store's writer thread,
        or together with the session's next receipt, whichever comes first;
        it is in the store, as durable as the store's `durability`, before
        the next decision of the session is returned and before `close()`
        returns. A store that then refuses it is logged (WARNING) and makes
        the next decision a denial.
        """
        if not (decision.approved or decision.escalated):
            raise ValueError("record_outcome takes an approved (or escalated) decision: a refused call did not run")
        lean = self._lean_outcomes
        if lean is not None:
            receipt = lean.outcome(decision, output, error, exit_code, status, deferred)
            if receipt is not None:
                return receipt
        host_approved = self._escalation_id(decision) if decision.escalated else None
        status, exit_code = outcome_status(status, exit_code, error)
        text = outcome_text(output, error)
        digest = sha256_hex(text) if text is not None else None
        record = decision.entry.record_output if decision.entry is not None else True
        call = decision.call
        action, result = outcome_content(
            tool=self._recorder.tool_name(call), effect=decision.effect_class,
            decision_id=None if host_approved else decision.receipt_id,
            escalation_id=host_approved or decision.escalation_receipt_id, status=status, exit_code=exit_code,
            output_sha256=digest, args_sha256=_safe_arguments_hash(call.arguments),
            paths=list(decision.target_paths), stdout=text if record else None)
        proposal = decision.receipt.proposal_id if decision.receipt is not None else self._recorder.proposal(call)
        closed = ("the outcome was not recorded", "record outcomes before closing the gate")
        with self._lock:
            if host_approved is None or host_approved in self._resolved:
                return self._recorder.write(call, proposal, action, result, None, *closed, deferred=deferred)
            # The person's yes reaches the gate only now: the call is counted with its outcome, once.
            receipt = self._recorder.write_counted(decision, proposal, action, result, *closed)
            self._resolved.add(host_approved)
        return receipt

    async def arecord_outcome(self, decision: Decision, *, output: Any = None,
                              error: BaseException | str | None = None, exit_code: int | None = None,
                              status: str | None = None, deferred: bool = False) -> Receipt:
        """`record_outcome` for async frameworks: never blocks the event loop on fsync."""
        run = partial(self.record_outcome, decision, output=output, error=error, exit_code=exit_code, status=status,
                      deferred=deferred)
        if deferred and decision.approved:  # sealed and queued: nothing waits on the disk
            return run()
        return await self._off_loop(run)

    def reload(self, path: str | os.PathLike[str] | None = None, *, by: str = "operator") -> Receipt:
        """Read the manifest file again and, once its seal verifies, decide by it: a `reload` receipt says so.

        `path` defaults to the file the gate's manifest came from. The new
        manifest and its classifier replace the old ones together (a
        classifier given to the gate is kept), and a sticky
        MANIFEST_INTEGRITY_FAILURE is cleared; the receipt names both
        manifest hashes and `by`. The session's posture, counters and budgets
        carry on. If the file does not load or its seal does not verify, the
        ManifestError is raised and the gate keeps denying every call until
        a reload succeeds. Raises ValueError for a gate whose manifest came
        from no file and no `path`, ReceiptLogError if the receipt cannot be
        written (the old manifest then stays).
        """
        watch, classifier = self._rules
        source = os.fspath(path) if path is not None else watch.path
        if source is None:
            raise ValueError("this gate's manifest was not loaded from a file: pass the path to reload from")
        try:
            manifest = load_manifest(source)
        except ManifestError as exc:
            watch.fail(f"a reload of {source} failed, so the manifest on disk is not trusted: {exc}")
            log.warning("reload of %s failed; every call is denied until a reload succeeds: %s", source, exc)
            raise
        rules = (ManifestWatch(manifest, source),
                 EffectClassifier.for_manifest(manifest, context=self._context) if self._own_classifier else classifier)
        action, result = reload_content(before_hash=watch.sealed_hash, after_hash=manifest.manifest_hash,
                                        source=source, by=text_field(by, "operator"), integrity_cleared=watch.found)
        with self._lock:
            receipt = self._recorder.write(None, None, action, result, None, "the manifest was not reloaded",
                                           "reload before closing the gate")
            self._rules = rules
        watch.close()
        log.info("manifest reloaded from %s: %s -> %s", source, watch.sealed_hash, manifest.manifest_hash)
        return receipt

    async def areload(self, path: str | os.PathLike[str] | None = None, *, by: str = "operator") -> Receipt:
        """`reload` for async frameworks: reading, hashing and writing happen off the event loop."""
        return await asyncio.to_thread(self.reload, path, by=by)

    def try_record_outcome(self, decision: Decision, *, output: Any = None,
                           error: BaseException | str | None = None, exit_code: int | None = None,
                           status: str | None = None, deferred: bool = False) -> Receipt | None:
        """`record_outcome` for a call that already ran: a failure is logged (WARNING), not raised; None then.

        What every adapter needs after running an approved call: raising now
        would hide a result that exists and invite the model to run the tool
        again. The next `check` fails closed if the log stays unwritable.
        """
        try:
            return self.record_outcome(decision, output=output, error=error, exit_code=exit_code, status=status,
                                       deferred=deferred)
        except Exception as exc:  # noqa: BLE001
            _log_unrecorded(decision, exc)
            return None

    async def atry_record_outcome(self, decision: Decision, *, output: Any = None,
                                  error: BaseException | str | None = None, exit_code: int | None = None,
                                  status: str | None = None, deferred: bool = False) -> Receipt | None:
        """`try_record_outcome` for async frameworks: never blocks the event loop on fsync."""
        try:
            return await self.arecord_outcome(decision, output=output, error=error, exit_code=exit_code,
                                              status=status, deferred=deferred)
        except Exception as exc:  # noqa: BLE001
            _log_unrecorded(decision, exc)
            return None

    def flush(self) -> None:
        """Append every receipt still waiting in the store (deferred outcomes), and make them durable. Raises
        ReceiptWriteError if the store cannot."""
        sync_all = getattr(self.store, "sync_all", None)
        if sync_all is not None:
            sync_all()

    @property
    def defers_outcomes(self) -> bool:
        """True when adapters should record outcomes with `deferred=True` (`outcome_receipts="async"`)."""
        return self.outcome_receipts == "async"

    @property
    def _offload_writes(self) -> bool:
        """True when writing a receipt may wait on the disk (fsync): async callers then use a thread."""
        return self.store.durability == "fsync"

    async def _off_loop(self, fn: Callable[..., _T], *args: Any) -> _T:
        """`fn(*args)`, on a worker thread when writing may wait on the disk, so the event loop never blocks."""
        if self._offload_writes:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    def close(self) -> None:
        """Write the final signed checkpoint (with a signing key), flush and close the log. Idempotent."""
        with self._lock:
            if self._recorder.closed:
                return
            self._recorder.closed = True
            try:
                if self.checkpointer is not None:
                    self.checkpointer.close()
            finally:
                self._rules[0].close()
                try:
                    self.store.close()
                finally:
                    if self.checkpointer is not None and self.checkpointer.witness is not None:
                        self.checkpointer.witness.close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Gate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # -- deciding --------------------------------------------------------------------------

    def _prepare(self, call: ToolCall) -> PreparedCall:
        entry: FunctionEntry | None = None
        classification = _NOT_CLASSIFIED
        try:
            watch, classifier = self._rules  # one consistent pair, even while a reload swaps them
            problem = watch.problem()
            if problem:
                return PreparedCall(call, None, Classification(None, None, problem),
                                 Ruling(Verdict.DENY, MANIFEST_INTEGRITY_FAILURE, problem))
            entry = watch.manifest.lookup(call.plugin, call.function)
            classification = classifier.classify(call, entry)
            with self._lock:
                ruling = self.evaluator.evaluate(call, entry, classification, self.session.posture,
                                                 self.session, self.limits)
        except Exception as exc:  # noqa: BLE001 - fail closed on anything
            ruling = Ruling(Verdict.DENY, exception_text(EVALUATION_EXCEPTION, exc),
                            "an exception was raised while classifying or evaluating the call")
        return PreparedCall(call, entry, classification, ruling)

    def _approval_request(self, p: PreparedCall) -> ApprovalRequest:
        return ApprovalRequest(p.call, p.classification.effect or EffectClass.SHELL_DANGEROUS,
                               p.ruling.reason or APPROVAL_REQUIRED, p.ruling.rule, arguments_hash(p.call.arguments))

    def _no_approver(self, p: PreparedCall) -> PreparedCall:
        return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_REQUIRED, f"{p.ruling.rule}, and no approver is configured"))

    def _escalate_sync(self, p: PreparedCall, override: Approver | None = None) -> PreparedCall:
        approver = override if override is not None else self.approver
        if approver is None:
            return self._no_approver(p)
        return p.with_ruling(*ask(approver, self._approval_request(p), self.approval_timeout))

    async def _escalate_async(self, p: PreparedCall, override: Approver | None = None) -> PreparedCall:
        approver = override if override is not None else self.approver
        if approver is None:
            return self._no_approver(p)
        return p.with_ruling(*await aask(approver, self._approval_request(p), self.approval_timeout))

    def _escalate_to_host(self, p: PreparedCall) -> Decision:
        """Write the `escalation` receipt of a call the host's person must approve, and return it escalated."""
        call, entry = p.call, p.entry
        effect = p.recorded_effect()
        try:
            args_digest, command = p.recorded_arguments()
        except Exception as exc:  # noqa: BLE001 - arguments that cannot be hashed are refused, not asked about
            return self._recorder.decision(p.with_ruling(Ruling(
                Verdict.DENY, exception_text(EVALUATION_EXCEPTION, exc), "the arguments could not be hashed")))
        paths = p.classification.target_paths
        action, result = escalation_content(tool=self._recorder.tool_name(call), effect=effect,
                                            risk_delta=self.risk.delta(effect), rule=p.ruling.rule,
                                            args_sha256=args_digest, command=command, paths=list(paths))
        try:
            receipt = self._recorder.write(call, self._recorder.proposal(call), action, result, None,
                                           "the escalation was not recorded", "open a new gate")
        except Exception as exc:  # noqa: BLE001 - no receipt, no question to a person: the call may not run
            return self._recorder.unrecorded(p, effect, False, True, exc, None,
                                             "the escalation receipt could not be written, so the call may not run")
        log.debug("escalated %s to the host: %s; receipt %s", call.tool_name, p.ruling.rule, receipt.receipt_id)
        return Decision(Verdict.ESCALATE, p.ruling.reason or APPROVAL_REQUIRED, effect, call, p.ruling.rule, receipt,
                        entry, paths)

    def _escalation_id(self, decision: Decision) -> str:
        """The escalation receipt of an escalated decision of this session; ValueError for anything else."""
        receipt = decision.receipt
        if not decision.escalated or receipt is None:
            raise ValueError("not an escalation: pass the Decision that check(..., host_approval=True) returned")
        if receipt.session_id != self.session_id:
            raise ValueError(f"escalation receipt {receipt.receipt_id} belongs to session {receipt.session_id}, "
                             f"not to this gate's session {self.session_id}")
        return receipt.receipt_id

    def _answer(self, decision: Decision, escalation_id: str, approved: bool, by: str, note: str) -> PreparedCall:
        """The person's answer to an escalation, as a call ready to be recorded (and re-checked when approved)."""
        person = text_field(by, "person")
        why = f": {bounded(as_text(note), REASON_LIMIT)}" if note else ""
        problem = self._rules[0].problem()
        if not approved:
            ruling = Ruling(Verdict.DENY, APPROVAL_DENIED, f"refused by {person}{why}")
        elif problem:
            ruling = Ruling(Verdict.DENY, MANIFEST_INTEGRITY_FAILURE, f"approved by {person}{why}, but {problem}")
        else:
            ruling = Ruling(Verdict.APPROVE, None, f"approved by {person}{why}")
        effect, entry = decision.effect_class, decision.entry
        classification = Classification(effect, entry.effect_class if entry is not None else None, decision.rule,
                                        decision.target_paths)
        proposal = decision.receipt.proposal_id if decision.receipt is not None else None
        return PreparedCall(decision.call, entry, classification, ruling, person, escalation_id, proposal)

def _utc_now() -> datetime:
    return datetime.now(UTC)


def _log_unrecorded(decision: Decision, exc: BaseException) -> None:
    log.warning("the outcome receipt for decision %s (%s) could not be written: %s: %s", decision.receipt_id,
                decision.tool_name, type(exc).__name__, exc, exc_info=exc)
