"""The gate: the one entry point every adapter calls.

    gate = Gate.open("manifest.json", receipts="receipts.jsonl")
    decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={...}))
    if decision.approved:
        output = run_the_tool()
        gate.record_outcome(decision, output=output)

`check` classifies the call (EffectClassifier), decides (PolicyEvaluator),
and writes the receipt (ReceiptEmitter) before it returns. If the receipt
cannot be written the decision is a denial: no receipt, no execution.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import operator
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping, Union

from .canonical import arguments_hash, canonical_arguments, manifest_hash, sha256_hex
from .classifier import Classification, EffectClassifier
from .workspace import path_context
from .decision import Decision, ToolCall, Verdict, as_text
from .effects import DEFAULT_RISK_DELTAS, REVERSIBILITY, EffectClass, Posture
from .errors import ManifestError, ReceiptLogError, ReceiptWriteError
from .gitinfo import git_context as read_git_context
from .manifest import (
    FunctionEntry, Manifest, file_fingerprint, fingerprint_is_racy, load_manifest, parse_raw_manifest,
    read_manifest_text,
)
from .policy import (
    APPROVAL_DENIED, APPROVAL_REQUIRED, APPROVAL_TIMEOUT, APPROVER_ERROR, COMMAND_EFFECTS,
    EVALUATION_EXCEPTION, MANIFEST_INTEGRITY_FAILURE, RECEIPT_WRITE_FAILED, WRITE_EFFECTS,
    Limits, PolicyEvaluator, Ruling,
)
from .receipts import STDOUT_LIMIT, Receipt, format_timestamp, seal, seal_constants, validate_receipt
from .signing import DEFAULT_CHECKPOINT_EVERY, Checkpointer, SigningKey, checkpoint_path_for
from .store import Durability, ReceiptStore, open_store

NAME_LIMIT = 200
REASON_LIMIT = 1000
COMMAND_LIMIT = 2000
PATH_LIMIT = 500     # characters of one target path in a receipt
PATHS_LIMIT = 20     # target paths listed in a receipt (the arguments' hash covers them all)
#: reason code of a call checked after `close()`
GATE_CLOSED = "GATE_CLOSED"
#: steps_remaining when the session has no step budget (the field is a required integer).
UNLIMITED_STEPS = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What an approver is asked: the call, its effect and why it needs a person."""

    call: ToolCall
    effect_class: EffectClass
    reason: str
    rule: str
    arguments_sha256: str


@dataclass(frozen=True, slots=True)
class Approval:
    """An approver's answer. `by` names who or what decided; `note` says why."""

    approved: bool
    by: str = "approver"
    note: str = ""


ApproverResult = Union[bool, Approval]
Approver = Callable[[ApprovalRequest], Union[ApproverResult, Awaitable[ApproverResult]]]


#: The classification of a call whose preparation failed before it was classified (built once).
_NOT_CLASSIFIED = Classification(None, None, "not classified")
#: Enum values the receipt writes, looked up once rather than through the enum per receipt.
_EFFECT_TEXT: dict[EffectClass, str] = {e: e.value for e in EffectClass}
_POSTURE_TEXT: dict[Posture, str] = {p: p.value for p in Posture}
_DENY, _ESCALATE = Verdict.DENY, Verdict.ESCALATE  # module globals: a class attribute lookup costs more per check
_NAME_CACHE_LIMIT = 1024  # distinct (plugin, function) pairs remembered per gate


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 30] + "...[sha256:" + sha256_hex(text)[:16] + "]"


def _exception_text(prefix: str, exc: BaseException, *, with_type: bool = True) -> str:
    """`prefix: <Type>: <message>` for a reason, bounded; never raises, whatever the exception's str() does."""
    message = f"{type(exc).__name__}: {as_text(exc)}" if with_type else as_text(exc)
    return _bounded(f"{prefix}: {message}", REASON_LIMIT)


def _text_field(value: Any, default: str = "unknown") -> str:
    """A receipt text field from a framework value: a string, bounded, never raising."""
    if type(value) is str and 0 < len(value) <= NAME_LIMIT:
        return value
    if value is None:  # as_text(None) is "": the default
        return _bounded(default, NAME_LIMIT)
    return _bounded(as_text(value) or default, NAME_LIMIT)


def _safe_arguments_hash(arguments: Any) -> str:
    """The arguments' hash for a receipt description; never raises."""
    try:
        return arguments_hash(arguments)
    except Exception:  # noqa: BLE001
        return "unhashable"


def _read_bytes(path: str) -> bytes | None:
    """The file's bytes, or None when it cannot be read (the caller then reports why)."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _bounded_paths(paths: list[str]) -> list[str]:
    """Target paths for a receipt: each bounded, at most PATHS_LIMIT, and a note of how many were left out."""
    if len(paths) <= PATHS_LIMIT and all(len(x) <= PATH_LIMIT for x in paths):
        return paths
    shown = [_bounded(x, PATH_LIMIT) for x in paths[:PATHS_LIMIT]]
    if len(paths) > PATHS_LIMIT:
        shown[-1] = f"...[{len(paths) - PATHS_LIMIT + 1} more paths not listed; see args_sha256]"
    return shown


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_receipt_id(random_bytes: bytes | None = None) -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` gives, at a third of the cost.

    `random_bytes`: 16 bytes from `os.urandom` to build it from (default: drawn here).
    """
    raw = bytearray(os.urandom(16) if random_bytes is None else random_bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Session:
    """Counters of one session, updated by the gate under its lock."""

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
        self.posture_note: str | None = None

    def snapshot(self, now: float, limits: Limits) -> dict[str, Any]:
        return budget_snapshot(limits, self.steps, self.commands, self.writes, len(self.files),
                               now - self.started, self.risk, self.posture)


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


class ReceiptEmitter:
    """Builds, hashes and writes the receipts of one session chain.

    Not thread-safe by itself: the gate calls it under its lock so that the
    sequence, the chain and the session counters move together.
    """

    def __init__(self, store: ReceiptStore, *, session_id: str, instance_id: str,
                 git: Mapping[str, str | None], clock: Callable[[], datetime],
                 sequence: int = 0, previous_hash: str | None = None) -> None:
        self.store = store
        self.session_id = session_id
        self.instance_id = instance_id
        self.git = dict(git)
        self.clock = clock
        self.sequence = sequence
        self.previous_hash = previous_hash
        self.checkpointer: Checkpointer | None = None  # signs checkpoints when the gate has a key
        # Serialised once: these fields are the same in every receipt of the session.
        self._constants = seal_constants(session_id, instance_id, self.git)
        self._second = -1
        self._second_text = ""

    def _now_utc_text(self) -> str:
        """`format_timestamp(datetime.now(timezone.utc))`, without building a datetime per receipt."""
        seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
        if seconds != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
            self._second = seconds
        return f"{self._second_text}.{micros:06d}+00:00"

    def emit(self, *, proposal_id: str | None, executor_type: str, model: str, action: dict[str, Any],
             result: dict[str, Any], budget: dict[str, Any]) -> Receipt:
        receipt, sync = self.emit_unsynced(proposal_id=proposal_id, executor_type=executor_type, model=model,
                                           action=action, result=result, budget=budget)
        sync()
        return receipt

    def emit_unsynced(self, *, proposal_id: str | None, executor_type: str, model: str, action: dict[str, Any],
                      result: dict[str, Any], budget: dict[str, Any]) -> tuple[Receipt, Callable[[], None]]:
        """`emit`, but the receipt may not be on disk yet: call the returned function before the call runs.

        With fsync durability the gate calls it outside its lock, so that
        concurrent calls share one fsync (group commit). A `proposal_id` of
        None is generated (32 random hex digits).
        """
        if proposal_id is None:  # one read of random bytes for both ids
            random_bytes = os.urandom(32)
            receipt_id, proposal_id = new_receipt_id(random_bytes[:16]), random_bytes[16:].hex()
        else:
            receipt_id = new_receipt_id()
        body = {
            "receipt_id": receipt_id,
            "session_id": self.session_id,
            "proposal_id": proposal_id,
            "sequence_number": self.sequence + 1,
            "timestamp": self._now_utc_text() if self.clock is _utcnow else format_timestamp(self.clock()),
            "executor": {"type": executor_type, "model": model, "instance_id": self.instance_id},
            "action": action,
            "result": result,
            "budget_snapshot": budget,
            "git_context": dict(self.git),
        }
        receipt = seal(body, self.previous_hash, self._constants)
        store = self.store
        write, store_sync = getattr(store, "write", None), getattr(store, "sync", None)
        sync: Callable[[], None]
        if callable(write) and callable(store_sync):
            ticket = write(receipt.to_json())  # raises: then nothing advances

            def sync() -> None:
                store_sync(ticket)
        else:
            store.append(receipt.to_json())
            sync = _nothing_to_sync
        previous = self.previous_hash
        self.sequence += 1
        self.previous_hash = receipt.receipt_hash
        if self.checkpointer is not None:
            try:
                self.checkpointer.add(receipt.sequence_number, receipt.receipt_hash, previous)
            except Exception as exc:  # noqa: BLE001
                # The receipt is written and chained: report the failure through `sync`, so the
                # caller still counts the receipt (counters stay in step with the log) and denies.
                def sync(exc: Exception = exc) -> None:
                    raise exc
        return receipt, sync


def _nothing_to_sync() -> None:
    """The `sync` of a store that has no separate sync step: its append already wrote the receipt."""


def _last_receipt(store: ReceiptStore, session_id: str) -> dict[str, Any] | None:
    """The last receipt of `session_id` in `store`, checked against the schema before a chain continues from it.

    Raises ReceiptLogError (naming the log and what to do) for anything else.
    """
    location = getattr(store, "location", "<store>")
    fix = "run `spinegate verify` on the log, or open a new session"
    try:
        previous = store.last_receipt(session_id)
        if previous is not None:
            validate_receipt(previous)
    except ReceiptLogError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile line or a broken store: never continue from it
        raise ReceiptLogError(f"the last receipt of session {session_id} is not a valid receipt "
                              f"({type(exc).__name__}: {_bounded(as_text(exc), REASON_LIMIT)}), so its chain "
                              "cannot be continued", path=location, fix=fix) from None
    return previous


class Gate:
    """Decides every tool call before it runs, and records each decision.

    Thread-safe and usable from asyncio. One gate is one session chain in the
    receipt log (a new `session_id` per gate unless one is given to continue).
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
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        git: Mapping[str, str | None] | None = None,
        executor_type: str | None = None,
        signing_key: SigningKey | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        checkpoints: str | os.PathLike[str] | None = None,
    ) -> None:
        self.manifest = manifest
        self.store = store
        # the gate's own files are protected from the calls it governs (spinegate.protected)
        log = getattr(store, "location", None)
        own = (manifest_path, log, checkpoint_path_for(log) if isinstance(log, str) and log != "<memory>" else None,
               checkpoints, signing_key if isinstance(signing_key, (str, os.PathLike)) else None)
        self.classifier = classifier or EffectClassifier.for_manifest(manifest, context=path_context(
            protected_files=own))
        self.evaluator = evaluator or PolicyEvaluator()
        self.limits = limits or Limits()
        self.approver = approver
        self.approval_timeout = approval_timeout
        self.shadow = shadow
        self.risk_deltas = {**DEFAULT_RISK_DELTAS, **(risk_deltas or {})}
        self.elevated_at = elevated_at
        self.lockdown_at = lockdown_at
        self.executor_type = executor_type
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._manifest_path = manifest_path
        # None: the first check reads and hashes the file, so a change between loading the
        # manifest and opening the gate (a Manifest object loaded earlier) is caught too.
        self._manifest_fp: tuple[int, int, int, int, int] | None = None
        self._manifest_settled = False  # True once the unchanged file is older than the racy window
        self._manifest_text: bytes | None = None  # the file's bytes when last verified (see _check_integrity)
        self._sealed_hash = manifest.manifest_hash
        self._loaded_manifest = manifest  # `self.manifest` swapped for another object is a change too
        self._integrity_problem: str | None = None
        self._tool_names: dict[tuple[str | None, str], str] = {}  # see _tool_name

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
            self._resume_counters(previous)
            self._resume_tool_counts()
        self._closed = False
        self.checkpointer: Checkpointer | None = None
        if signing_key is not None:
            self.checkpointer = self._make_checkpointer(signing_key, checkpoint_every, checkpoints, clock,
                                                        resume=previous is not None)
            self.emitter.checkpointer = self.checkpointer

    def _make_checkpointer(self, key: SigningKey, every: int, path: str | os.PathLike[str] | None,
                           clock: Callable[[], datetime], *, resume: bool) -> Checkpointer:
        """Signed checkpoints in `<log>.checkpoints.jsonl` (or `path`), continuing a resumed session's chain."""
        location = getattr(self.store, "location", None)
        on_disk = isinstance(location, str) and location != "<memory>"
        if path is None and not on_disk:
            raise ValueError("signing_key needs a file receipt log, or checkpoints=PATH for the checkpoint file")
        cp = Checkpointer(key, path if path is not None else checkpoint_path_for(location), session_id=self.session_id,
                          every=every, durability=getattr(self.store, "durability", "flush"), clock=clock,
                          before_write=getattr(self.store, "sync_all", None))
        if resume and on_disk:
            cp.resume(location)
        elif not resume:
            cp.open_session()  # signed before the first receipt: a session without one was not written here
        return cp

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
        **options: Any,
    ) -> "Gate":
        """Load and verify the manifest, open (or resume) the receipt log.

        `durability` is "flush" (to the operating system, the default) or
        "fsync" (to the disk, with group commit). Options include
        `signing_key=PATH` (an Ed25519 key from `spinegate keygen`: signed
        checkpoints go to `<log>.checkpoints.jsonl`) and `checkpoint_every=N`;
        see docs/tamper-evidence.md.

        Raises ManifestError for a manifest that is unreadable, invalid or whose
        hash does not match, TornLogError for a log that ends in a torn line,
        KeyFileError for an unusable signing key, and ReceiptLogError when a
        resumed session's last receipt is not a valid receipt or its log no
        longer matches its last signed checkpoint.
        """
        path: str | None = None
        if not isinstance(manifest, Manifest):
            path = os.fspath(manifest)
            manifest = load_manifest(path)
        elif manifest.source != "<memory>" and os.path.exists(manifest.source):
            path = manifest.source
        store = open_store(receipts, durability=durability)
        b = manifest.budgets  # v1.1: the manifest's budgets; explicit arguments win
        limits = Limits(
            max_steps=max_steps if max_steps is not None else (b.max_steps if b is not None else None),
            max_commands=max_commands if max_commands is not None else (b.max_commands if b is not None else None),
            max_writes=max_writes if max_writes is not None else (b.max_writes if b is not None else None),
        )
        if manifest.risk is not None:  # v1.1: the manifest's risk settings; explicit arguments win
            options.setdefault("elevated_at", manifest.risk.elevated_at)
            options.setdefault("lockdown_at", manifest.risk.lockdown_at)
            options["risk_deltas"] = {**manifest.risk.deltas, **(options.get("risk_deltas") or {})}
        try:
            return cls(manifest, store, manifest_path=path, limits=limits, **options)
        except BaseException:
            if store is not receipts:  # opened here (from a path): do not leak its file descriptor
                store.close()
            raise

    def _resume_counters(self, last: Mapping[str, Any]) -> None:
        snap = last.get("budget_snapshot", {})
        s = self.session
        s.steps = int(snap.get("steps_used", 0))
        s.commands = int(snap.get("commands_used", 0))
        s.writes = int(snap.get("writes_used", 0))
        s.risk = float(snap.get("session_risk_score", 0.0))
        s.started -= float(snap.get("runtime_elapsed_seconds", 0.0))
        try:
            resumed = Posture(snap.get("current_posture", s.posture.value))
            if resumed.rank > s.posture.rank:
                s.posture = resumed
        except ValueError:
            pass

    def _resume_tool_counts(self) -> None:
        """Per-tool call counts and touched files of a continued session, read back from its receipts.

        Without this, reopening a session would reset `max_calls_per_session`
        and shrink `files_touched`. Counts approved decisions, as `_finish` does.
        """
        receipts = getattr(self.store, "session_receipts", None)
        if not callable(receipts):
            return
        keys = {e.qualified_name: e.key for e in self.manifest.functions}
        s = self.session
        for r in receipts(self.session_id):
            action, result = r.get("action") or {}, r.get("result") or {}
            operation = action.get("operation")
            if result.get("status") != "success" or operation not in ("decision", "shadow_decision"):
                continue
            if operation == "shadow_decision" and "would deny" in str(action.get("description", "")):
                continue
            key = keys.get(action.get("tool"))
            if key is None:
                continue
            s.calls_by_tool[key] = s.calls_by_tool.get(key, 0) + 1
            if action.get("effect_class") in {e.value for e in WRITE_EFFECTS}:
                s.files.update(p for p in action.get("target_paths") or () if isinstance(p, str))

    # -- public API ------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def posture(self) -> Posture:
        return self.session.posture

    def set_posture(self, posture: Posture | str, *, by: str = "operator") -> None:
        """Change the posture (tighten or loosen). The next receipt shows it."""
        new = Posture(posture)  # raises ValueError for an unknown posture before anything changes
        with self._lock:
            old = self.session.posture
            self.session.posture = new
            self.session.posture_note = f"posture set from {old.value} to {new.value} by {_bounded(by, NAME_LIMIT)}"

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

    async def acheck(self, call: ToolCall, *, approver: Approver | None = None) -> Decision:
        """`check` for async frameworks; an async approver is awaited on the loop."""
        prepared = self._prepare(call)
        if prepared.ruling.verdict is Verdict.ESCALATE:
            prepared = await self._escalate_async(prepared, approver)
        if self._offload_writes:  # never block the event loop on fsync
            return await asyncio.to_thread(self._finish, prepared)
        return self._finish(prepared)

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
                             Ruling(Verdict.DENY, _bounded(as_text(reason), REASON_LIMIT), rule))
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
        if error is not None and status is None:
            status = "failed"
        status = status or "success"
        if status not in ("success", "failed"):
            raise ValueError(f"status must be 'success' or 'failed', not {status!r}")
        if exit_code is None:
            exit_code = 0 if status == "success" else 1
        elif isinstance(exit_code, bool) or not hasattr(type(exit_code), "__index__"):
            # checked before anything is written: a non-integer would make the receipt fail the schema
            raise TypeError(f"exit_code must be an int or None, not {type(exit_code).__name__}")
        else:
            exit_code = operator.index(exit_code)  # a plain int, also from an IntEnum or a numpy integer
        text: str | None
        if error is not None and output is None:
            text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
        elif output is None:
            text = None
        else:
            text = output if isinstance(output, str) else canonical_arguments(output)
        digest = sha256_hex(text) if text is not None else None
        record = decision.entry.record_output if decision.entry is not None else True
        call = decision.call
        action = self._action(
            call, decision.effect_class, "outcome", 0.0,
            f"outcome of {_bounded(call.tool_name, NAME_LIMIT)} for decision receipt {decision.receipt_id}: "
            f"{status}; output_sha256={digest or 'none'}; args_sha256={_safe_arguments_hash(call.arguments)}",
            None, list(decision.target_paths),
        )
        result = {
            "status": status, "exit_code": exit_code, "blocked_by": None, "diff_hash": digest,
            "files_created": [], "files_modified": [], "files_deleted": [],
            "stdout_truncated": text[:STDOUT_LIMIT] if (text is not None and record) else None,
        }
        with self._lock:
            if self._closed:
                raise ReceiptWriteError("the gate is closed; the outcome was not recorded",
                                        path=getattr(self.store, "location", "<store>"),
                                        fix="record outcomes before closing the gate")
            note = self.session.posture_note
            if note:  # a posture change shows in the next receipt, whichever kind it is
                action["description"] = _bounded(f"{action['description']}; {note}", REASON_LIMIT * 2)
            receipt, sync = self.emitter.emit_unsynced(
                proposal_id=decision.receipt["proposal_id"] if decision.receipt is not None else self._proposal(call),
                executor_type=self._executor_type(call), model=_text_field(call.model),
                action=action, result=result,
                budget=self.session.snapshot(self._monotonic(), self.limits),
            )
            self.session.posture_note = None
        sync()  # outside the lock: concurrent writers share one fsync
        return receipt

    async def arecord_outcome(self, decision: Decision, **kwargs: Any) -> Receipt:
        if self._offload_writes:
            return await asyncio.to_thread(lambda: self.record_outcome(decision, **kwargs))
        return self.record_outcome(decision, **kwargs)

    @property
    def _offload_writes(self) -> bool:
        """True when writing a receipt may wait on the disk (fsync): async callers then use a thread."""
        return getattr(self.store, "durability", "flush") == "fsync"

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

    def __enter__(self) -> "Gate":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Gate":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------

    def _executor_type(self, call: ToolCall) -> str:
        return _text_field(self.executor_type or call.framework)

    @staticmethod
    def _proposal(call: ToolCall) -> str | None:
        """The receipt's proposal_id from the call's, or None: the emitter then generates one."""
        # str(): a framework may hand over a non-string id; the receipt field is a string
        # bounded: the id may come from model output, and the receipt must stay small
        return _bounded(as_text(call.proposal_id), NAME_LIMIT) if call.proposal_id not in (None, "") else None

    def _check_integrity(self) -> str | None:
        if self._integrity_problem:
            return self._integrity_problem
        problem: str | None = None
        if self.manifest is not self._loaded_manifest:
            problem = "the manifest held by the gate was replaced after it was loaded"
        elif not self.manifest.unchanged():
            problem = "the manifest held by the gate was modified after it was loaded"
        elif self._manifest_path is not None:
            fp = file_fingerprint(self._manifest_path)
            if fp is not None and fp == self._manifest_fp and self._manifest_settled:
                pass  # unchanged since it was verified, and too old to change unseen
            elif fp is None or fp != self._manifest_fp or fingerprint_is_racy(fp):
                # Re-read the file: it moved, changed, or changed so recently that an equal
                # fingerprint proves nothing. Text identical to the last verified text needs
                # no re-hash (keeps checks cheap in the seconds after a manifest is written).
                try:
                    text = _read_bytes(self._manifest_path)
                    if text is not None and text == self._manifest_text:
                        raw, current = {"manifest_hash": self._sealed_hash}, self._sealed_hash
                    else:  # hash exactly the bytes that will be remembered as verified
                        try:
                            decoded = text.decode("utf-8-sig") if text is not None else None
                        except UnicodeDecodeError:
                            decoded = None
                        if decoded is None:
                            read_manifest_text(self._manifest_path)  # raises ManifestError saying why
                            raise ManifestError("the file changed while it was being read",
                                                source=self._manifest_path)
                        raw = parse_raw_manifest(decoded, source=self._manifest_path)
                        current = manifest_hash(raw)
                except ManifestError as exc:
                    current = None
                    problem = f"the manifest file can no longer be read: {exc}"
                if current is not None and current != self._sealed_hash:
                    problem = (f"the manifest file {self._manifest_path} changed after load "
                               f"(content hash {current}, loaded {self._sealed_hash})")
                elif current is not None and raw.get("manifest_hash") != self._sealed_hash:
                    problem = f"the manifest file {self._manifest_path} no longer carries the loaded manifest_hash"
                if problem is None:
                    self._manifest_fp = fp
                    self._manifest_text = text
                    self._manifest_settled = False
            else:
                self._manifest_settled = True
        if problem:
            self._integrity_problem = problem  # sticky: reopen the gate after a review
        return problem

    def _prepare(self, call: ToolCall) -> "_Prepared":
        entry: FunctionEntry | None = None
        classification = _NOT_CLASSIFIED
        try:
            problem = self._check_integrity()
            if problem:
                return _Prepared(call, None, Classification(None, None, problem),
                                 Ruling(Verdict.DENY, MANIFEST_INTEGRITY_FAILURE, problem))
            entry = self.manifest.lookup(call.plugin, call.function)
            classification = self.classifier.classify(call, entry)
            with self._lock:
                ruling = self.evaluator.evaluate(call, entry, classification, self.session.posture,
                                                 self.session, self.limits)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - fail closed on anything
            ruling = Ruling(Verdict.DENY, _exception_text(EVALUATION_EXCEPTION, exc),
                            "an exception was raised while classifying or evaluating the call")
        return _Prepared(call, entry, classification, ruling)

    def _approval_request(self, p: "_Prepared") -> ApprovalRequest:
        return ApprovalRequest(p.call, p.classification.effect or EffectClass.SHELL_DANGEROUS,
                               p.ruling.reason or APPROVAL_REQUIRED, p.ruling.rule, arguments_hash(p.call.arguments))

    @staticmethod
    def _apply_answer(p: "_Prepared", answer: Any) -> "_Prepared":
        if isinstance(answer, Approval):
            try:  # the approver's own values, made plain: they end up in the receipt
                verdict = Approval(bool(answer.approved), _text_field(answer.by, "approver"),
                                   _bounded(as_text(answer.note), REASON_LIMIT))
            except Exception as exc:  # noqa: BLE001 - a malformed answer denies
                return p.with_ruling(Ruling(Verdict.DENY, APPROVER_ERROR,
                                            _exception_text("the approver's answer is unusable", exc)))
        elif isinstance(answer, bool):
            verdict = Approval(answer)
        else:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVER_ERROR,
                                        f"the approver returned {type(answer).__name__}, not a bool or Approval"))
        note = f": {verdict.note}" if verdict.note else ""
        if verdict.approved:
            return p.with_ruling(Ruling(Verdict.APPROVE, None, f"approved by {verdict.by}{note}"), verdict.by)
        return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_DENIED, f"refused by {verdict.by}{note}"), verdict.by)

    def _escalate_sync(self, p: "_Prepared", override: Approver | None = None) -> "_Prepared":
        approver = override if override is not None else self.approver
        if approver is None:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_REQUIRED,
                                        f"{p.ruling.rule}, and no approver is configured"))
        request = self._approval_request(p)

        def ask() -> Any:
            answer = approver(request)
            if inspect.isawaitable(answer):
                return asyncio.run(_await(answer))
            return answer

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="spinegate-approver")
        try:
            answer = pool.submit(ask).result(timeout=self.approval_timeout)
        except concurrent.futures.TimeoutError:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_TIMEOUT,
                                        f"no answer from the approver within {self.approval_timeout:g} s"))
        except Exception as exc:  # noqa: BLE001
            return p.with_ruling(Ruling(Verdict.DENY, APPROVER_ERROR,
                                        _exception_text("the approver raised", exc)))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return self._apply_answer(p, answer)

    async def _escalate_async(self, p: "_Prepared", override: Approver | None = None) -> "_Prepared":
        approver = override if override is not None else self.approver
        if approver is None:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_REQUIRED,
                                        f"{p.ruling.rule}, and no approver is configured"))
        request = self._approval_request(p)
        try:
            if inspect.iscoroutinefunction(approver):
                answer = await asyncio.wait_for(approver(request), self.approval_timeout)  # type: ignore[arg-type]
            else:
                answer = await asyncio.wait_for(asyncio.to_thread(approver, request), self.approval_timeout)
                if inspect.isawaitable(answer):
                    answer = await asyncio.wait_for(answer, self.approval_timeout)
        except asyncio.TimeoutError:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_TIMEOUT,
                                        f"no answer from the approver within {self.approval_timeout:g} s"))
        except Exception as exc:  # noqa: BLE001
            return p.with_ruling(Ruling(Verdict.DENY, APPROVER_ERROR,
                                        _exception_text("the approver raised", exc)))
        return self._apply_answer(p, answer)

    def _action(self, call: ToolCall, effect: EffectClass, operation: str, risk: float, description: str,
                command: str | None, paths: list[str], tool: str | None = None) -> dict[str, Any]:
        return {
            "tool": tool if tool is not None else _bounded(call.tool_name, NAME_LIMIT),
            "operation": operation,
            "effect_class": effect.value,
            "risk_delta": risk,
            "description": description,
            "command": command,
            "target_paths": _bounded_paths(paths),
            "reversibility": REVERSIBILITY[effect],
        }

    def _tool_name(self, call: ToolCall) -> str:
        """`call.tool_name` bounded for a receipt, remembered per (plugin, function) of plain strings."""
        plugin, function = call.plugin, call.function
        if type(function) is not str or (plugin is not None and type(plugin) is not str):
            return _bounded(call.tool_name, NAME_LIMIT)  # framework objects: never hashed or cached
        key = (plugin, function)
        name = self._tool_names.get(key)
        if name is None:
            name = _bounded(call.tool_name, NAME_LIMIT)
            if len(self._tool_names) >= _NAME_CACHE_LIMIT:  # model-chosen names must not grow it without end
                self._tool_names.clear()
            self._tool_names[key] = name
        return name

    def _finish(self, p: "_Prepared", *, enforce: bool = False) -> Decision:
        call, entry, cls, ruling = p.call, p.entry, p.classification, p.ruling
        shadow = self.shadow and not enforce
        effect = cls.effect if (cls.effect is not None and entry is not None) else EffectClass.SHELL_DANGEROUS
        if cls.effect is None and cls.declared is EffectClass.RESTRICTED_WRITE:
            effect = cls.declared  # unclassifiable is recorded as SHELL_DANGEROUS, never below the declaration
        enforced = ruling.verdict
        if enforced is _ESCALATE:  # unresolved escalation never runs
            enforced = Verdict.DENY
        verdict = Verdict.APPROVE if shadow else enforced
        denied = enforced is _DENY
        risk = self.risk_deltas.get(effect, 0.0)
        try:
            arguments_text = canonical_arguments(call.arguments)  # once: it is both hashed and recorded
            args_digest = sha256_hex(arguments_text)
            command = arguments_text if (entry is not None and entry.record_arguments) else cls.command
            if command is not None and len(command) > COMMAND_LIMIT:
                command = _bounded(command, COMMAND_LIMIT)
        except Exception as exc:  # noqa: BLE001 - arguments that cannot even be hashed
            args_digest = "unhashable"
            command = None
            if not denied:
                denied, enforced = True, Verdict.DENY
                verdict = Verdict.APPROVE if shadow else Verdict.DENY
                ruling = Ruling(Verdict.DENY, _exception_text(EVALUATION_EXCEPTION, exc),
                                "the arguments could not be hashed")
        name = self._tool_name(call)
        decided_by = p.decided_by
        by = _bounded(f" by {decided_by}", NAME_LIMIT) if decided_by else ""
        paths = list(cls.target_paths)
        with self._lock:
            s = self.session
            if self._closed:  # the log is closed: nothing can be recorded, so nothing may run
                return Decision(Verdict.DENY, GATE_CLOSED, effect, call,
                                "the gate was closed, so no receipt can be written and the call may not run",
                                None, entry, tuple(paths), shadow, enforced, decided_by)
            if not denied and entry is not None:
                # Budgets and posture again, under the lock: concurrent calls or a slow
                # approver must not overrun a budget or slip past a tightened posture.
                try:
                    recheck = getattr(self.evaluator, "limits_and_posture", PolicyEvaluator.limits_and_posture)
                    late = recheck(entry, effect, s.posture, s, self.limits)
                except Exception as exc:  # noqa: BLE001 - fail closed
                    late = Ruling(Verdict.DENY, _exception_text(EVALUATION_EXCEPTION, exc),
                                  "the late budget and posture check failed")
                if late is not None:
                    ruling, enforced, denied = late, Verdict.DENY, True
                    verdict = Verdict.APPROVE if shadow else Verdict.DENY
            blocked = denied and not shadow
            if shadow and denied:
                operation = "shadow_decision"
                # rule and reason bounded on their own, so the arguments' hash always survives in the receipt
                description = (f"SHADOW (not enforced): would deny {name}: {_bounded(ruling.reason or '', 300)}; "
                               f"{_bounded(ruling.rule, REASON_LIMIT)}; args_sha256={args_digest}")
            else:
                operation = "shadow_decision" if shadow else "decision"
                word = "denied" if denied else "approved"
                prefix = "SHADOW (not enforced): " if shadow else ""
                rule = ruling.rule
                if len(rule) > REASON_LIMIT:
                    rule = _bounded(rule, REASON_LIMIT)
                description = f"{prefix}{word}{by} {name}: {rule}; args_sha256={args_digest}"
            # What this decision adds to the session; committed only once its receipt is written,
            # so a failed write leaves the counters as they were (and costs no copy of them).
            steps = s.steps + 1
            commands = s.commands + (effect in COMMAND_EFFECTS)
            writes = s.writes + (effect in WRITE_EFFECTS)
            score = s.risk + risk if denied else s.risk
            posture, tightened = self._tightened(s.posture, score) if denied else (s.posture, None)
            new_files = {x for x in paths if x not in s.files} if (paths and not denied and entry is not None) else ()
            if s.posture_note or tightened:  # a posture change (operator or automatic) shows in this receipt
                description = f"{description}; {'; '.join(n for n in (s.posture_note, tightened) if n)}"
            if len(description) > REASON_LIMIT * 2:
                description = _bounded(description, REASON_LIMIT * 2)
            try:
                action = {
                    "tool": name,
                    "operation": operation,
                    "effect_class": _EFFECT_TEXT[effect] if type(effect) is EffectClass else effect.value,
                    "risk_delta": risk,
                    "description": description,
                    "command": command,
                    "target_paths": _bounded_paths(paths) if paths else paths,
                    "reversibility": REVERSIBILITY[effect],
                }
                result = {
                    "status": "blocked" if blocked else "success",
                    "exit_code": None,
                    "blocked_by": _bounded(ruling.reason or "", REASON_LIMIT) if blocked else None,
                    "diff_hash": None, "files_created": [], "files_modified": [], "files_deleted": [],
                    "stdout_truncated": None,
                }
                receipt, sync = self.emitter.emit_unsynced(
                    proposal_id=self._proposal(call), executor_type=self._executor_type(call),
                    model=_text_field(call.model), action=action, result=result,
                    budget=budget_snapshot(self.limits, steps, commands, writes, len(s.files) + len(new_files),
                                           self._monotonic() - s.started, score, posture),
                )
            except Exception as exc:  # noqa: BLE001 - any store failure: fail closed, nothing runs
                return Decision(Verdict.DENY, _exception_text(RECEIPT_WRITE_FAILED, exc, with_type=False),
                                effect, call, "the receipt could not be written, so the call may not run", None,
                                entry, tuple(paths), shadow, enforced, decided_by)
            s.steps, s.commands, s.writes, s.risk, s.posture, s.posture_note = \
                steps, commands, writes, score, posture, None
            if not denied and entry is not None:
                key = entry.key
                s.calls_by_tool[key] = s.calls_by_tool.get(key, 0) + 1
                if new_files:
                    s.files.update(new_files)
        try:
            sync()  # fsync durability: outside the lock, so concurrent calls share one fsync (group commit)
        except Exception as exc:  # noqa: BLE001 - not durable: fail closed, nothing runs
            return Decision(Verdict.DENY, _exception_text(RECEIPT_WRITE_FAILED, exc, with_type=False),
                            effect, call,
                            "the receipt was written but could not be made durable or signed, so the call may not run",
                            receipt, entry, tuple(paths), shadow, enforced, decided_by)
        return Decision(verdict, ruling.reason if denied else None, effect, call, ruling.rule, receipt, entry,
                        tuple(paths), shadow, enforced if shadow else None, decided_by)

    def _tightened(self, posture: Posture, risk: float) -> tuple[Posture, str | None]:
        """The posture after a denial brought the session risk to `risk`: only ever tighter, with a note."""
        if risk >= self.lockdown_at and posture.rank < Posture.LOCKDOWN.rank:
            after, threshold = Posture.LOCKDOWN, self.lockdown_at
        elif risk >= self.elevated_at and posture.rank < Posture.ELEVATED.rank:
            after, threshold = Posture.ELEVATED, self.elevated_at
        else:
            return posture, None
        return after, (f"posture tightened automatically from {posture.value} to {after.value} "
                       f"(session risk {round(risk, 4)} >= {threshold})")


@dataclass(slots=True)
class _Prepared:
    """A call classified and ruled on, not yet recorded. Treated as immutable (`with_ruling` copies);
    not frozen because a frozen dataclass costs a slow `object.__setattr__` per field on the hot path."""

    call: ToolCall
    entry: FunctionEntry | None
    classification: Classification
    ruling: Ruling
    decided_by: str | None = None

    def with_ruling(self, ruling: Ruling, decided_by: str | None = None) -> "_Prepared":
        return _Prepared(self.call, self.entry, self.classification, ruling, decided_by or self.decided_by)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
