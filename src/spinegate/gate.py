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
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping, Union

from .canonical import arguments_hash, canonical_arguments, manifest_hash, sha256_hex
from .classifier import Classification, EffectClassifier
from .decision import Decision, ToolCall, Verdict
from .effects import DEFAULT_RISK_DELTAS, REVERSIBILITY, EffectClass, Posture
from .errors import ManifestError, ReceiptLogError
from .gitinfo import git_context as read_git_context
from .manifest import FunctionEntry, Manifest, file_fingerprint, load_manifest, parse_raw_manifest, read_manifest_text
from .policy import (
    APPROVAL_DENIED, APPROVAL_REQUIRED, APPROVAL_TIMEOUT, APPROVER_ERROR, COMMAND_EFFECTS,
    EVALUATION_EXCEPTION, MANIFEST_INTEGRITY_FAILURE, RECEIPT_WRITE_FAILED, WRITE_EFFECTS,
    Limits, PolicyEvaluator, Ruling,
)
from .receipts import STDOUT_LIMIT, Receipt, format_timestamp, seal
from .store import Durability, ReceiptStore, open_store

NAME_LIMIT = 200
REASON_LIMIT = 1000
COMMAND_LIMIT = 2000


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


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 30] + "...[sha256:" + sha256_hex(text)[:16] + "]"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
        remaining = max(0, limits.max_steps - self.steps) if limits.max_steps is not None else 0
        return {
            "steps_used": self.steps,
            "steps_remaining": remaining,
            "commands_used": self.commands,
            "writes_used": self.writes,
            "files_touched": len(self.files),
            "runtime_elapsed_seconds": round(max(0.0, now - self.started), 2),
            "session_risk_score": round(self.risk, 4),
            "current_posture": self.posture.value,
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

    def emit(self, *, proposal_id: str, executor_type: str, model: str, action: dict[str, Any],
             result: dict[str, Any], budget: dict[str, Any]) -> Receipt:
        body = {
            "receipt_id": str(uuid.uuid4()),
            "session_id": self.session_id,
            "proposal_id": proposal_id,
            "sequence_number": self.sequence + 1,
            "timestamp": format_timestamp(self.clock()),
            "executor": {"type": executor_type, "model": model, "instance_id": self.instance_id},
            "action": action,
            "result": result,
            "budget_snapshot": budget,
            "git_context": dict(self.git),
        }
        receipt = seal(body, self.previous_hash)
        self.store.append(receipt.to_json())  # raises: then nothing advances
        self.sequence += 1
        self.previous_hash = receipt.receipt_hash
        return receipt


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
    ) -> None:
        self.manifest = manifest
        self.store = store
        self.classifier = classifier or EffectClassifier()
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
        self._manifest_fp = file_fingerprint(manifest_path) if manifest_path else None
        self._sealed_hash = manifest.manifest_hash
        self._integrity_problem: str | None = None

        previous = store.last_receipt(session_id) if session_id else None
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

        Raises ManifestError for a manifest that is unreadable, invalid or whose
        hash does not match, and TornLogError for a log that ends in a torn line.
        """
        path: str | None = None
        if not isinstance(manifest, Manifest):
            path = os.fspath(manifest)
            manifest = load_manifest(path)
        elif manifest.source != "<memory>" and os.path.exists(manifest.source):
            path = manifest.source
        store = open_store(receipts, durability=durability)
        limits = Limits(max_steps=max_steps, max_commands=max_commands, max_writes=max_writes)
        return cls(manifest, store, manifest_path=path, limits=limits, **options)

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

    # -- public API ------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def posture(self) -> Posture:
        return self.session.posture

    def set_posture(self, posture: Posture | str, *, by: str = "operator") -> None:
        """Change the posture (tighten or loosen). The next receipt shows it."""
        with self._lock:
            self.session.posture = Posture(posture)
            self.session.posture_note = f"posture set to {Posture(posture).value} by {by}"

    def budget(self) -> dict[str, Any]:
        """The session's budget snapshot as the next receipt would show it."""
        with self._lock:
            return self.session.snapshot(self._monotonic(), self.limits)

    def lookup(self, plugin: str | None, function: str) -> FunctionEntry | None:
        return self.manifest.lookup(plugin, function)

    def check(self, call: ToolCall) -> Decision:
        """Decide `call` and write its receipt. Never raises for a bad call: it denies."""
        prepared = self._prepare(call)
        if prepared.ruling.verdict is Verdict.ESCALATE:
            prepared = self._escalate_sync(prepared)
        return self._finish(prepared)

    async def acheck(self, call: ToolCall) -> Decision:
        """`check` for async frameworks; an async approver is awaited on the loop."""
        prepared = self._prepare(call)
        if prepared.ruling.verdict is Verdict.ESCALATE:
            prepared = await self._escalate_async(prepared)
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
        prepared = _Prepared(call, entry, Classification(effect, effect, rule),
                             Ruling(Verdict.DENY, _bounded(reason, REASON_LIMIT), rule))
        return self._finish(prepared, enforce=True)

    def record_outcome(self, decision: Decision, *, output: Any = None, error: BaseException | str | None = None,
                       exit_code: int | None = None, status: str | None = None) -> Receipt:
        """Write a receipt for what an approved call did.

        `output` is written truncated to 2000 characters (unless the entry sets
        record_output: false) with the SHA-256 of the full text in `diff_hash`;
        an `error` makes the status "failed". Raises ReceiptLogError if the
        receipt cannot be written.
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
            f"{status}; output_sha256={digest or 'none'}",
            None, list(decision.target_paths),
        )
        result = {
            "status": status, "exit_code": exit_code, "blocked_by": None, "diff_hash": digest,
            "files_created": [], "files_modified": [], "files_deleted": [],
            "stdout_truncated": text[:STDOUT_LIMIT] if (text is not None and record) else None,
        }
        with self._lock:
            return self.emitter.emit(
                proposal_id=decision.receipt["proposal_id"] if decision.receipt is not None else self._proposal(call),
                executor_type=self._executor_type(call), model=call.model or "unknown",
                action=action, result=result,
                budget=self.session.snapshot(self._monotonic(), self.limits),
            )

    async def arecord_outcome(self, decision: Decision, **kwargs: Any) -> Receipt:
        return self.record_outcome(decision, **kwargs)

    def close(self) -> None:
        with self._lock:
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
        return self.executor_type or call.framework

    @staticmethod
    def _proposal(call: ToolCall) -> str:
        return call.proposal_id if call.proposal_id else uuid.uuid4().hex

    def _check_integrity(self) -> str | None:
        if self._integrity_problem:
            return self._integrity_problem
        problem: str | None = None
        if not self.manifest.unchanged():
            problem = "the manifest held by the gate was modified after it was loaded"
        elif self._manifest_path is not None:
            fp = file_fingerprint(self._manifest_path)
            if fp != self._manifest_fp:
                try:
                    raw = parse_raw_manifest(read_manifest_text(self._manifest_path), source=self._manifest_path)
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
        if problem:
            self._integrity_problem = problem  # sticky: reopen the gate after a review
        return problem

    def _prepare(self, call: ToolCall) -> "_Prepared":
        entry: FunctionEntry | None = None
        classification = Classification(None, None, "not classified")
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
            reason = _bounded(f"{EVALUATION_EXCEPTION}: {type(exc).__name__}: {exc}", REASON_LIMIT)
            ruling = Ruling(Verdict.DENY, reason, "an exception was raised while classifying or evaluating the call")
        return _Prepared(call, entry, classification, ruling)

    def _approval_request(self, p: "_Prepared") -> ApprovalRequest:
        return ApprovalRequest(p.call, p.classification.effect or EffectClass.SHELL_DANGEROUS,
                               p.ruling.reason or APPROVAL_REQUIRED, p.ruling.rule, arguments_hash(p.call.arguments))

    @staticmethod
    def _apply_answer(p: "_Prepared", answer: Any) -> "_Prepared":
        if isinstance(answer, Approval):
            verdict = Approval(bool(answer.approved), answer.by, answer.note)
        elif isinstance(answer, bool):
            verdict = Approval(answer)
        else:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVER_ERROR,
                                        f"the approver returned {type(answer).__name__}, not a bool or Approval"))
        note = f": {verdict.note}" if verdict.note else ""
        if verdict.approved:
            return p.with_ruling(Ruling(Verdict.APPROVE, None, f"approved by {verdict.by}{note}"), verdict.by)
        return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_DENIED, f"refused by {verdict.by}{note}"), verdict.by)

    def _escalate_sync(self, p: "_Prepared") -> "_Prepared":
        if self.approver is None:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_REQUIRED,
                                        f"{p.ruling.rule}, and no approver is configured"))
        request = self._approval_request(p)
        approver = self.approver

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
                                        _bounded(f"the approver raised {type(exc).__name__}: {exc}", REASON_LIMIT)))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return self._apply_answer(p, answer)

    async def _escalate_async(self, p: "_Prepared") -> "_Prepared":
        if self.approver is None:
            return p.with_ruling(Ruling(Verdict.DENY, APPROVAL_REQUIRED,
                                        f"{p.ruling.rule}, and no approver is configured"))
        request = self._approval_request(p)
        approver = self.approver
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
                                        _bounded(f"the approver raised {type(exc).__name__}: {exc}", REASON_LIMIT)))
        return self._apply_answer(p, answer)

    def _action(self, call: ToolCall, effect: EffectClass, operation: str, risk: float, description: str,
                command: str | None, paths: list[str]) -> dict[str, Any]:
        return {
            "tool": _bounded(call.tool_name, NAME_LIMIT),
            "operation": operation,
            "effect_class": effect.value,
            "risk_delta": risk,
            "description": description,
            "command": command,
            "target_paths": paths,
            "reversibility": REVERSIBILITY[effect],
        }

    def _finish(self, p: "_Prepared", *, enforce: bool = False) -> Decision:
        call, entry, cls, ruling = p.call, p.entry, p.classification, p.ruling
        shadow = self.shadow and not enforce
        effect = cls.effect if (cls.effect is not None and entry is not None) else EffectClass.SHELL_DANGEROUS
        enforced = ruling.verdict
        if enforced is Verdict.ESCALATE:  # unresolved escalation never runs
            enforced = Verdict.DENY
        verdict = Verdict.APPROVE if shadow else enforced
        denied = enforced is Verdict.DENY
        risk = self.risk_deltas.get(effect, 0.0)
        try:
            args_digest = arguments_hash(call.arguments)
            command = cls.command
            if entry is not None and entry.record_arguments:
                command = canonical_arguments(call.arguments)
            command = _bounded(command, COMMAND_LIMIT) if command is not None else None
        except Exception as exc:  # noqa: BLE001 - arguments that cannot even be hashed
            args_digest = "unhashable"
            command = None
            if not denied:
                denied, enforced = True, Verdict.DENY
                verdict = Verdict.APPROVE if shadow else Verdict.DENY
                ruling = Ruling(Verdict.DENY, _bounded(f"{EVALUATION_EXCEPTION}: {type(exc).__name__}: {exc}",
                                                       REASON_LIMIT), "the arguments could not be hashed")
        name = _bounded(call.tool_name, NAME_LIMIT)
        by = f" by {p.decided_by}" if p.decided_by else ""
        if shadow and denied:
            operation = "shadow_decision"
            description = (f"SHADOW (not enforced): would deny {name}: {ruling.reason}; {ruling.rule}; "
                           f"args_sha256={args_digest}")
        else:
            operation = "shadow_decision" if shadow else "decision"
            word = "approved" if not denied else "denied"
            prefix = "SHADOW (not enforced): " if shadow else ""
            description = f"{prefix}{word}{by} {name}: {ruling.rule}; args_sha256={args_digest}"
        description = _bounded(description, REASON_LIMIT * 2)
        paths = list(cls.target_paths)
        result = {
            "status": "blocked" if (denied and not shadow) else "success",
            "exit_code": None,
            "blocked_by": _bounded(ruling.reason or "", REASON_LIMIT) if (denied and not shadow) else None,
            "diff_hash": None, "files_created": [], "files_modified": [], "files_deleted": [],
            "stdout_truncated": None,
        }
        with self._lock:
            s = self.session
            saved = (s.steps, s.commands, s.writes, s.risk, s.posture, set(s.files), dict(s.calls_by_tool))
            s.steps += 1
            if effect in COMMAND_EFFECTS:
                s.commands += 1
            elif effect in WRITE_EFFECTS:
                s.writes += 1
            if denied:
                s.risk += risk
                self._tighten_posture()
            elif entry is not None:
                s.calls_by_tool[entry.key] = s.calls_by_tool.get(entry.key, 0) + 1
                if effect in WRITE_EFFECTS:
                    s.files.update(paths)
            try:
                receipt = self.emitter.emit(
                    proposal_id=self._proposal(call), executor_type=self._executor_type(call),
                    model=call.model or "unknown",
                    action=self._action(call, effect, operation, risk if denied else 0.0, description, command, paths),
                    result=result, budget=s.snapshot(self._monotonic(), self.limits),
                )
            except (ReceiptLogError, OSError, ValueError) as exc:
                (s.steps, s.commands, s.writes, s.risk, s.posture, s.files, s.calls_by_tool) = saved
                return Decision(Verdict.DENY, _bounded(f"{RECEIPT_WRITE_FAILED}: {exc}", REASON_LIMIT), effect, call,
                                "the receipt could not be written, so the call may not run", None, entry,
                                tuple(paths), shadow, enforced, p.decided_by)
        return Decision(verdict, ruling.reason if denied else None, effect, call, ruling.rule, receipt, entry,
                        tuple(paths), shadow, enforced if shadow else None, p.decided_by)

    def _tighten_posture(self) -> None:
        s = self.session
        if s.risk >= self.lockdown_at and s.posture.rank < Posture.LOCKDOWN.rank:
            s.posture = Posture.LOCKDOWN
        elif s.risk >= self.elevated_at and s.posture.rank < Posture.ELEVATED.rank:
            s.posture = Posture.ELEVATED


@dataclass(frozen=True, slots=True)
class _Prepared:
    call: ToolCall
    entry: FunctionEntry | None
    classification: Classification
    ruling: Ruling
    decided_by: str | None = None

    def with_ruling(self, ruling: Ruling, decided_by: str | None = None) -> "_Prepared":
        return _Prepared(self.call, self.entry, self.classification, ruling, decided_by or self.decided_by)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
