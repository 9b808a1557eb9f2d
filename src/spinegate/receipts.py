"""The twelve-field Spine v1.0.0 receipt: its schema, its hash, how it is built.

`Receipt` is the read-only view handed to callers (backed by the exact dict
that was hashed and written). `ReceiptSchema` is the strict pydantic schema
used to validate receipts read back from a log.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .canonical import canonical_json, receipt_hash
from .errors import ReceiptFormatError

STDOUT_LIMIT = 2000

RECEIPT_FIELDS = (
    "receipt_id", "session_id", "proposal_id", "sequence_number", "timestamp", "executor",
    "action", "result", "budget_snapshot", "git_context", "previous_receipt_hash", "receipt_hash",
)


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with exactly six fractional digits and a +00:00 offset.

    (`datetime.isoformat()` drops the fraction when microseconds are zero;
    receipts never do.)
    """
    if moment.tzinfo is None:
        raise ValueError("receipt timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


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


def seal(body: dict[str, Any], previous_hash: str | None) -> Receipt:
    """Add the hash fields to a receipt body and serialise it canonically."""
    body["previous_receipt_hash"] = previous_hash
    digest = receipt_hash(body)
    body["receipt_hash"] = digest
    return Receipt(body)
