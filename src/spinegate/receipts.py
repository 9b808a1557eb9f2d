"""The twelve-field Spine v1.0.0 receipt: its schema, its hash, how it is built.

`Receipt` is the read-only view handed to callers (backed by the exact dict
that was hashed and written). `ReceiptSchema` is the strict pydantic schema
used to validate receipts read back from a log.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from json.encoder import encode_basestring_ascii as _enc  # type: ignore[attr-defined]
from typing import Any, Iterator, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .canonical import canonical_json, receipt_hash
from .errors import ReceiptFormatError

STDOUT_LIMIT = 2000


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with exactly six fractional digits and a +00:00 offset.

    (`datetime.isoformat()` drops the fraction when microseconds are zero;
    receipts never do.)
    """
    tz = moment.tzinfo
    if tz is None:
        raise ValueError("receipt timestamps must be timezone-aware")
    if tz is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    if moment.year < 1000:  # keep strftime's own rendering of tiny years
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return (f"{moment.year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{moment.microsecond:06d}+00:00")


class Receipt(Mapping[str, Any]):
    """A written receipt: a read-only mapping over its twelve fields."""

    __slots__ = ("_data", "_line")

    def __init__(self, data: dict[str, Any], line: str | None = None) -> None:
        self._data = data
        self._line = line

    # Mapping protocol
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return (f"Receipt(id={self.receipt_id!r}, session={self.session_id!r}, "
                f"seq={self.sequence_number}, status={self._data['result']['status']!r})")

    @property
    def receipt_id(self) -> str:
        return self._data["receipt_id"]

    @property
    def session_id(self) -> str:
        return self._data["session_id"]

    @property
    def proposal_id(self) -> str:
        return self._data["proposal_id"]

    @property
    def sequence_number(self) -> int:
        return self._data["sequence_number"]

    @property
    def receipt_hash(self) -> str:
        return self._data["receipt_hash"]

    @property
    def previous_receipt_hash(self) -> str | None:
        return self._data["previous_receipt_hash"]

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the receipt as plain JSON data."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        """The canonical serialisation of the whole receipt (one JSONL line, no newline)."""
        if self._line is None:
            self._line = canonical_json(self._data)
        return self._line

    def compute_hash(self) -> str:
        """The receipt hash recomputed from the fields (equals `receipt_hash` unless altered)."""
        return receipt_hash(self._data)


# --------------------------------------------------------------------------
# Strict schema, for receipts read back from a log.

_Strict = ConfigDict(extra="forbid", strict=True, frozen=True)
NonNegInt = Field(ge=0)


class Executor(BaseModel):
    model_config = _Strict
    type: str
    model: str
    instance_id: str


class Action(BaseModel):
    model_config = _Strict
    tool: str
    operation: str
    effect_class: str
    risk_delta: float | int
    description: str
    command: str | None
    target_paths: list[str]
    reversibility: str


class Result(BaseModel):
    model_config = _Strict
    status: Literal["success", "blocked", "failed"]
    exit_code: int | None
    blocked_by: str | None
    diff_hash: str | None
    files_created: list[str]
    files_modified: list[str]
    files_deleted: list[str]
    stdout_truncated: str | None = Field(max_length=STDOUT_LIMIT)


class BudgetSnapshot(BaseModel):
    model_config = _Strict
    steps_used: int = NonNegInt
    steps_remaining: int = NonNegInt
    commands_used: int = NonNegInt
    writes_used: int = NonNegInt
    files_touched: int = NonNegInt
    runtime_elapsed_seconds: float | int = Field(ge=0)
    session_risk_score: float | int = Field(ge=0)
    current_posture: str


class GitContext(BaseModel):
    model_config = _Strict
    branch: str
    commit_before: str | None
    commit_after: str | None


class ReceiptSchema(BaseModel):
    """The receipt schema of SPEC.md: twelve required fields, no others, at any depth."""

    model_config = _Strict
    receipt_id: str
    session_id: str
    proposal_id: str
    sequence_number: int = Field(ge=1)
    timestamp: str
    executor: Executor
    action: Action
    result: Result
    budget_snapshot: BudgetSnapshot
    git_context: GitContext
    previous_receipt_hash: str | None
    receipt_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


def validate_receipt(data: Any) -> ReceiptSchema:
    """Validate parsed JSON against the receipt schema; raise ReceiptFormatError."""
    if not isinstance(data, dict):
        raise ReceiptFormatError(f"a receipt must be a JSON object, got {type(data).__name__}")
    try:
        return ReceiptSchema.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "<receipt>"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ReceiptFormatError(f"field {where}: {err['msg']}{more}") from None


class SealConstants:
    """Canonical fragments of the fields that stay the same across one emitter's receipts, computed once.

    The session id, the executor's instance id and the git context do not
    change within a gate. `seal` uses these fragments only while the body holds
    the very objects they were computed from (checked by identity), so a
    changed value is always serialised afresh.
    """

    __slots__ = ("session_id", "instance_id", "branch", "commit_after", "commit_before",
                 "session_text", "instance_text", "git_text")

    def __init__(self, session_id: str, instance_id: str, git: Mapping[str, Any]) -> None:
        """Raises TypeError or KeyError for values the fast path does not take (use no constants then)."""
        self.session_id, self.instance_id = session_id, instance_id
        self.branch, self.commit_after, self.commit_before = git["branch"], git["commit_after"], git["commit_before"]
        self.session_text, self.instance_text = _enc(session_id), _enc(instance_id)
        self.git_text = _git_fragment(git)


def seal_constants(session_id: Any, instance_id: Any, git: Any) -> SealConstants | None:
    """`SealConstants` for these values, or None when they are not plain text (they then take the usual path)."""
    if type(session_id) is not str or type(instance_id) is not str or type(git) is not dict or len(git) != 3:
        return None
    try:
        return SealConstants(session_id, instance_id, git)
    except (KeyError, TypeError):
        return None


def seal(body: dict[str, Any], previous_hash: str | None, constants: SealConstants | None = None) -> Receipt:
    """Add the hash fields to a receipt body and serialise it canonically.

    `body` holds the ten fields other than the two hashes. For the fixed
    receipt schema the hash input and the JSONL line are assembled in one
    pass (`_fast_parts`); any other shape takes the general `json.dumps` path.
    Both give the same bytes (tests/perf checks this with hypothesis).
    `constants` (from `seal_constants`) saves re-serialising the fields that
    never change within a session; it never changes the bytes.
    """
    parts = _fast_parts(body, constants) if len(body) == 10 else None
    body["previous_receipt_hash"] = previous_hash
    if parts is None:
        digest = receipt_hash(body)
        body["receipt_hash"] = digest
        return Receipt(body)
    head, proposal, tail = parts
    digest = hashlib.sha256(f"{head},{proposal},{tail}".encode("ascii")).hexdigest()
    body["receipt_hash"] = digest
    prev = "null" if previous_hash is None else _value(previous_hash)
    return Receipt(body, f'{head},"previous_receipt_hash":{prev},{proposal},"receipt_hash":"{digest}",{tail}')


# --------------------------------------------------------------------------
# Fast canonical form for the fixed receipt schema.
#
# Byte-identical to ``json.dumps(value, sort_keys=True, separators=(",", ":"))``
# (ensure_ascii on): strings (str subclasses too, as json treats them) go
# through the same C escaper json uses, exact ints and finite floats through
# their own repr (as json does), and anything else (bools, NaN, nested
# containers) through json.dumps itself. Object keys are written in sorted order; an object whose key set is
# not exactly the schema's falls back to the general path.

_SEP = (",", ":")
_dumps = json.dumps


def _value(v: Any) -> str:
    """Canonical JSON of one field value."""
    if v is None:
        return "null"
    t = type(v)
    if t is str:
        return _enc(v)
    if t is int:
        return int.__repr__(v)
    if t is float and v - v == 0.0:  # finite; json writes NaN/Infinity itself
        return float.__repr__(v)
    if t is list:
        if not v:
            return "[]"
        if all(type(x) is str for x in v):
            return "[" + ",".join(map(_enc, v)) + "]"
    return _dumps(v, sort_keys=True, separators=_SEP)


def _git_fragment(g: Mapping[str, Any]) -> str:
    """The canonical `"git_context":{...}` member of a three-field git context (TypeError for non-text values)."""
    commit_after, commit_before = ["null" if x is None else _enc(x) for x in (g["commit_after"], g["commit_before"])]
    return (f'"git_context":{{"branch":{_enc(g["branch"])},"commit_after":{commit_after},'
            f'"commit_before":{commit_before}}}')


def _fast_parts(b: dict[str, Any], k: SealConstants | None = None) -> tuple[str, str, str] | None:
    """(head, proposal member, tail) of a ten-field receipt body, or None if it is not the fixed schema.

    The hash input is ``head + "," + proposal + "," + tail``; the JSONL line
    puts the two hash members between them, in their sorted places. `k`'s
    fragments stand in for the session id, instance id and git context while
    the body holds exactly the objects they were made from.
    """
    try:
        a = b["action"]
        bs = b["budget_snapshot"]
        ex = b["executor"]
        g = b["git_context"]
        r = b["result"]
        if (type(a) is not dict or len(a) != 8 or type(bs) is not dict or len(bs) != 8
                or type(ex) is not dict or len(ex) != 3 or type(g) is not dict or len(g) != 3
                or type(r) is not dict or len(r) != 8):
            return None
        v = _value
        if (k is not None and b["session_id"] is k.session_id and ex["instance_id"] is k.instance_id
                and g["branch"] is k.branch and g["commit_after"] is k.commit_after
                and g["commit_before"] is k.commit_before):
            session_id, instance_id, git = k.session_text, k.instance_text, k.git_text
        else:
            session_id, instance_id, git = _enc(b["session_id"]), _enc(ex["instance_id"]), _git_fragment(g)
        # Strings through json's own escaper (it takes str subclasses exactly as json.dumps
        # does; anything else raises TypeError and the general path takes over).
        (tool, operation, effect_class, description, reversibility, posture, model, etype,
         proposal_id, receipt_id, status, timestamp) = map(_enc, (
            a["tool"], a["operation"], a["effect_class"], a["description"], a["reversibility"],
            bs["current_posture"], ex["model"], ex["type"],
            b["proposal_id"], b["receipt_id"], r["status"], b["timestamp"]))
        command, blocked_by, diff_hash, stdout = [
            "null" if x is None else _enc(x)
            for x in (a["command"], r["blocked_by"], r["diff_hash"], r["stdout_truncated"])]
        commands_used, files_touched, steps_remaining, steps_used, writes_used, sequence, exit_code = [
            int.__repr__(x) if type(x) is int else ("null" if x is None else v(x))
            for x in (bs["commands_used"], bs["files_touched"], bs["steps_remaining"], bs["steps_used"],
                      bs["writes_used"], b["sequence_number"], r["exit_code"])]
        risk_delta, runtime, risk_score = [
            float.__repr__(x) if (type(x) is float and x - x == 0.0) else v(x)
            for x in (a["risk_delta"], bs["runtime_elapsed_seconds"], bs["session_risk_score"])]
        target_paths, files_created, files_deleted, files_modified = [
            "[]" if (type(x) is list and not x) else v(x)
            for x in (a["target_paths"], r["files_created"], r["files_deleted"], r["files_modified"])]
        head = (
            f'{{"action":{{"command":{command},"description":{description},"effect_class":{effect_class},'
            f'"operation":{operation},"reversibility":{reversibility},"risk_delta":{risk_delta},'
            f'"target_paths":{target_paths},"tool":{tool}}},'
            f'"budget_snapshot":{{"commands_used":{commands_used},"current_posture":{posture},'
            f'"files_touched":{files_touched},"runtime_elapsed_seconds":{runtime},'
            f'"session_risk_score":{risk_score},"steps_remaining":{steps_remaining},'
            f'"steps_used":{steps_used},"writes_used":{writes_used}}},'
            f'"executor":{{"instance_id":{instance_id},"model":{model},"type":{etype}}},{git}'
        )
        proposal = f'"proposal_id":{proposal_id}'
        tail = (
            f'"receipt_id":{receipt_id},'
            f'"result":{{"blocked_by":{blocked_by},"diff_hash":{diff_hash},"exit_code":{exit_code},'
            f'"files_created":{files_created},"files_deleted":{files_deleted},'
            f'"files_modified":{files_modified},"status":{status},"stdout_truncated":{stdout}}},'
            f'"sequence_number":{sequence},"session_id":{session_id},"timestamp":{timestamp}}}'
        )
    except (KeyError, TypeError):
        return None
    return head, proposal, tail


def validated_receipt_hash(d: dict[str, Any]) -> str:
    """`canonical.receipt_hash` of a receipt that passed the strict schema (exact types known).

    For the verifier's hot loop: with the types settled by `ReceiptSchema`
    (str, str | None, int, list[str]; numbers through `_value`), each member
    is written without dispatching on its type. Same bytes as the general
    rule (tests/perf checks it).
    """
    a = d["action"]
    b = d["budget_snapshot"]
    ex = d["executor"]
    g = d["git_context"]
    r = d["result"]
    v = _value
    (tool, operation, effect_class, description, reversibility, posture, instance_id, model, etype, branch,
     proposal_id, receipt_id, status, session_id, timestamp) = map(_enc, (
        a["tool"], a["operation"], a["effect_class"], a["description"], a["reversibility"],
        b["current_posture"], ex["instance_id"], ex["model"], ex["type"], g["branch"],
        d["proposal_id"], d["receipt_id"], r["status"], d["session_id"], d["timestamp"]))
    command, commit_after, commit_before, blocked_by, diff_hash, stdout = [
        "null" if x is None else _enc(x)
        for x in (a["command"], g["commit_after"], g["commit_before"], r["blocked_by"], r["diff_hash"],
                  r["stdout_truncated"])]
    target_paths, files_created, files_deleted, files_modified = [
        "[" + ",".join(map(_enc, x)) + "]" if x else "[]"
        for x in (a["target_paths"], r["files_created"], r["files_deleted"], r["files_modified"])]
    exit_code = r["exit_code"]
    body = (
        f'{{"action":{{"command":{command},"description":{description},"effect_class":{effect_class},'
        f'"operation":{operation},"reversibility":{reversibility},"risk_delta":{v(a["risk_delta"])},'
        f'"target_paths":{target_paths},"tool":{tool}}},'
        f'"budget_snapshot":{{"commands_used":{b["commands_used"]!r},"current_posture":{posture},'
        f'"files_touched":{b["files_touched"]!r},"runtime_elapsed_seconds":{v(b["runtime_elapsed_seconds"])},'
        f'"session_risk_score":{v(b["session_risk_score"])},"steps_remaining":{b["steps_remaining"]!r},'
        f'"steps_used":{b["steps_used"]!r},"writes_used":{b["writes_used"]!r}}},'
        f'"executor":{{"instance_id":{instance_id},"model":{model},"type":{etype}}},'
        f'"git_context":{{"branch":{branch},"commit_after":{commit_after},"commit_before":{commit_before}}},'
        f'"proposal_id":{proposal_id},"receipt_id":{receipt_id},'
        f'"result":{{"blocked_by":{blocked_by},"diff_hash":{diff_hash},'
        f'"exit_code":{"null" if exit_code is None else repr(exit_code)},'
        f'"files_created":{files_created},"files_deleted":{files_deleted},"files_modified":{files_modified},'
        f'"status":{status},"stdout_truncated":{stdout}}},'
        f'"sequence_number":{d["sequence_number"]!r},"session_id":{session_id},"timestamp":{timestamp}}}'
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()
