"""The twelve-field Spine v1.0.0 receipt: the read-only view, the strict schema, reading one back. Pure.

`Receipt` is the read-only view handed to callers (backed by the exact dict
that was hashed and written). `ReceiptSchema` is the strict pydantic schema
of SPEC.md, used to validate receipts read back from a log;
`parse_receipt_line` parses and validates one stored line in a single step
(the verifier's fast path). Building and sealing new receipts is
`receipt_body`'s; the hash is `receipt_hash`'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import SchemaValidator

from .canonical import canonical_json
from .errors import ReceiptFormatError
from .receipt_hash import receipt_hash

#: Longest `stdout_truncated` a receipt holds (SPEC.md).
STDOUT_LIMIT = 2000


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
        value: str = self._data["receipt_id"]  # annotated, not cast: no call on the hot path
        return value

    @property
    def session_id(self) -> str:
        value: str = self._data["session_id"]  # annotated, not cast: no call on the hot path
        return value

    @property
    def proposal_id(self) -> str:
        value: str = self._data["proposal_id"]  # annotated, not cast: no call on the hot path
        return value

    @property
    def sequence_number(self) -> int:
        value: int = self._data["sequence_number"]  # annotated, not cast: no call on the hot path
        return value

    @property
    def receipt_hash(self) -> str:
        value: str = self._data["receipt_hash"]  # annotated, not cast: no call on the hot path
        return value

    @property
    def previous_receipt_hash(self) -> str | None:
        value: str | None = self._data["previous_receipt_hash"]
        return value

    @property
    def operation(self) -> str:
        """`action.operation`: the receipt's kind (decision, outcome, escalation, posture, reload, ...)."""
        value: str = self._data["action"]["operation"]
        return value

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the receipt as plain JSON data."""
        return cast("dict[str, Any]", json.loads(self.to_json()))

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
# The bound inside each branch of the union, so pydantic-core checks it in the schema itself
# (a bound on the union as a whole becomes a Python-level validator).
NonNegNumber = Annotated[float, Field(ge=0)] | Annotated[int, Field(ge=0)]


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
    runtime_elapsed_seconds: NonNegNumber
    session_risk_score: NonNegNumber
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




# --------------------------------------------------------------------------
# One stored line, parsed and validated in one step.


def _as_typed_dict(schema: Any) -> Any:
    """ReceiptSchema's core schema with every model turned into a typed dict (same fields, same rules).

    Derived from the model itself, so the two cannot drift apart. The schema
    must be checked by pydantic-core alone: a Python-level validator (a
    ``function-*`` schema) would be lost in the conversion, so it is refused here.
    """
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, str) and kind.startswith("function-"):
            raise TypeError("ReceiptSchema must be validated by pydantic-core alone; found a Python validator")
        if kind == "model":
            fields = {  # in sorted order: the validated dicts come out with their keys sorted
                name: {"type": "typed-dict-field", "schema": _as_typed_dict(f["schema"]),
                       "required": f["schema"].get("type") != "default"}
                for name, f in sorted(schema["schema"]["fields"].items())
            }
            return {"type": "typed-dict", "fields": fields, "config": schema.get("config", {}),
                    "extra_behavior": "forbid", "strict": True}
        return {k: _as_typed_dict(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_as_typed_dict(v) for v in schema]
    return schema


_validate_line = SchemaValidator(_as_typed_dict(ReceiptSchema.__pydantic_core_schema__)).validate_json


def parse_receipt_line(raw: bytes | str) -> dict[str, Any] | None:
    """One stored line as a schema-valid receipt with its keys sorted at every level, or None.

    Accepts only what `json.loads` followed by `validate_receipt` accepts,
    with the same values (tests/perf checks this); None means "take the
    general path", which also words what is wrong.
    """
    try:
        return cast("dict[str, Any]", _validate_line(raw))
    except ValidationError:
        return None
