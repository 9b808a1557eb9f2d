"""Building a receipt: field limits, the one builder of `action` and `result`, timestamps, sealing. Pure.

Every receipt kind (decision, shadow_decision, escalation, outcome,
posture, reload) is built by `receipt_content` and sealed by `seal`; the
emitter adds what is the same for the whole session (ids, sequence, chain).
Text from frameworks and models is bounded here, so a receipt stays small
and always fits the schema whatever a caller hands in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from .canonical import sha256_hex
from .decision import as_text
from .effects import REVERSIBILITY, EffectClass
from .receipt_hash import SealConstants, hashed_parts, receipt_hash
from .receipts import STDOUT_LIMIT, Receipt

NAME_LIMIT = 200        # characters of a tool name, model, executor type, approver name
REASON_LIMIT = 1000     # characters of a reason or rule
DESCRIPTION_LIMIT = 2 * REASON_LIMIT
COMMAND_LIMIT = 2000    # characters of a recorded command line or argument text
PATH_LIMIT = 500        # characters of one target path in a receipt
PATHS_LIMIT = 20        # target paths listed in a receipt (the arguments' hash covers them all)

#: Enum values the receipt writes, looked up once rather than through the enum per receipt.
_EFFECT_TEXT: dict[EffectClass, str] = {e: e.value for e in EffectClass}


def bounded(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its head and a hash of the whole."""
    if len(text) <= limit:
        return text
    return text[: limit - 30] + "...[sha256:" + sha256_hex(text)[:16] + "]"


def exception_text(prefix: str, exc: BaseException, *, with_type: bool = True) -> str:
    """`prefix: <Type>: <message>` for a reason, bounded; never raises, whatever the exception's str() does."""
    message = f"{type(exc).__name__}: {as_text(exc)}" if with_type else as_text(exc)
    return bounded(f"{prefix}: {message}", REASON_LIMIT)


def text_field(value: Any, default: str = "unknown") -> str:
    """A receipt text field from a framework value: a string, bounded, never raising."""
    if type(value) is str and 0 < len(value) <= NAME_LIMIT:
        return value
    if value is None:  # as_text(None) is "": the default
        return bounded(default, NAME_LIMIT)
    return bounded(as_text(value) or default, NAME_LIMIT)


def bounded_paths(paths: list[str]) -> list[str]:
    """Target paths for a receipt: each bounded, at most PATHS_LIMIT, and a note of how many were left out."""
    if len(paths) <= PATHS_LIMIT and all(len(x) <= PATH_LIMIT for x in paths):
        return paths
    shown = [bounded(x, PATH_LIMIT) for x in paths[:PATHS_LIMIT]]
    if len(paths) > PATHS_LIMIT:
        shown[-1] = f"...[{len(paths) - PATHS_LIMIT + 1} more paths not listed; see args_sha256]"
    return shown


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with exactly six fractional digits and a +00:00 offset.

    (`datetime.isoformat()` drops the fraction when microseconds are zero;
    receipts never do.)
    """
    tz = moment.tzinfo
    if tz is None:
        raise ValueError("receipt timestamps must be timezone-aware")
    if tz is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year < 1000:  # keep strftime's own rendering of tiny years
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return (f"{moment.year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{moment.microsecond:06d}+00:00")


def receipt_content(tool: str, operation: str, effect: EffectClass, risk_delta: float, description: str,
                    command: str | None, target_paths: list[str], status: str, exit_code: int | None = None,
                    blocked_by: str | None = None, diff_hash: str | None = None,
                    stdout: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `action` and `result` objects of one receipt, for every receipt kind.

    `tool`, `description` and `command` are written as given (bound them with
    `bounded` first when they come from outside); `target_paths` are bounded
    here; `stdout` is cut to STDOUT_LIMIT.
    """
    action: dict[str, Any] = {
        "tool": tool,
        "operation": operation,
        "effect_class": _EFFECT_TEXT[effect] if type(effect) is EffectClass else effect.value,
        "risk_delta": risk_delta,
        "description": description,
        "command": command,
        "target_paths": bounded_paths(target_paths) if target_paths else [],
        "reversibility": REVERSIBILITY[effect],
    }
    result: dict[str, Any] = {
        "status": status,
        "exit_code": exit_code,
        "blocked_by": blocked_by,
        "diff_hash": diff_hash,
        "files_created": [], "files_modified": [], "files_deleted": [],
        "stdout_truncated": stdout[:STDOUT_LIMIT] if stdout is not None else None,
    }
    return action, result


def seal(body: dict[str, Any], previous_hash: str | None, constants: SealConstants | None = None) -> Receipt:
    """Add the hash fields to a receipt body and serialise it canonically.

    `body` holds the ten fields other than the two hashes. For the fixed
    receipt schema the hash input and the JSONL line are assembled in one
    pass (`receipt_hash.hashed_parts`); any other shape takes the general
    rule. Both give the same bytes (tests/perf checks this with hypothesis).
    `constants` (from `receipt_hash.seal_constants`) saves re-serialising the
    fields that never change within a session; it never changes the bytes.
    """
    hashed = hashed_parts(body, constants) if len(body) == 10 else None
    body["previous_receipt_hash"] = previous_hash
    if hashed is None:
        body["receipt_hash"] = receipt_hash(body)
        return Receipt(body)
    digest, head, proposal, tail = hashed
    body["receipt_hash"] = digest
    prev = "null" if previous_hash is None else encode_basestring_ascii(previous_hash)
    return Receipt(body, f'{head},"previous_receipt_hash":{prev},{proposal},"receipt_hash":"{digest}",{tail}')


def joined(notes: Iterable[str | None]) -> str:
    """The non-empty notes, joined with "; " (for descriptions that carry several facts)."""
    return "; ".join(n for n in notes if n)
