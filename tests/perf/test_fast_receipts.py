"""The fast receipt serialiser and timestamp formatter against the general ones.

The fast paths in spinegate.receipts must give exactly the bytes of
``json.dumps(value, sort_keys=True, separators=(",", ":"))`` and of
``strftime``; hypothesis drives both with arbitrary values.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spinegate.canonical import receipt_hash
from spinegate.effects import EffectClass
from spinegate.receipts import _fast_parts, format_timestamp, seal


def general(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# Text over the whole code-point range, lone surrogates and control characters included.
chars = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None, codec=None),
    st.sampled_from(["\ud800", "\udfff", "\x00", "\x1f", "\x7f", "\u2028", '"', "\\", "\U0001F600"]),
)
text = st.text(alphabet=chars, max_size=12)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), text,
    st.sampled_from([0.0, -0.0, 0.15, 1e-05, 1e16, 1.0, 2**53 + 0.0]),
    st.sampled_from(list(EffectClass)),  # str subclasses take json's own path
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
field = st.one_of(json_values, st.lists(text, max_size=3))


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    def obj(keys: list[str]) -> dict[str, Any]:
        return {k: draw(field) for k in keys}

    body = {
        "receipt_id": draw(field), "session_id": draw(field), "proposal_id": draw(field),
        "sequence_number": draw(field), "timestamp": draw(field),
        "executor": obj(["type", "model", "instance_id"]),
        "action": obj(["tool", "operation", "effect_class", "risk_delta", "description", "command",
                       "target_paths", "reversibility"]),
        "result": obj(["status", "exit_code", "blocked_by", "diff_hash", "files_created", "files_modified",
                       "files_deleted", "stdout_truncated"]),
        "budget_snapshot": obj(["steps_used", "steps_remaining", "commands_used", "writes_used", "files_touched",
                                "runtime_elapsed_seconds", "session_risk_score", "current_posture"]),
        "git_context": obj(["branch", "commit_before", "commit_after"]),
    }
    # Sometimes bend the shape: a missing, extra or replaced member must take the general path.
    mutation = draw(st.sampled_from(["none", "none", "none", "drop", "extra", "replace"]))
    if mutation != "none":
        target = draw(st.sampled_from(["executor", "action", "result", "budget_snapshot", "git_context", None]))
        holder = body if target is None else body[target]
        key = draw(st.sampled_from(sorted(holder)))
        if mutation == "drop":
            del holder[key]
        elif mutation == "extra":
            holder[draw(text)] = draw(field)
        else:
            holder[key] = draw(json_values)
    # Key order as a caller might build it.
    items = list(body.items())
    order = draw(st.permutations(range(len(items))))
    return {items[i][0]: items[i][1] for i in order}


@settings(max_examples=400, deadline=None)
@given(body=bodies(), prev=st.one_of(st.none(), text))
def test_seal_matches_json_dumps(body: dict[str, Any], prev: str | None) -> None:
    expected = copy.deepcopy(body)
    expected["previous_receipt_hash"] = prev
    digest = receipt_hash(expected)
    expected["receipt_hash"] = digest

    receipt = seal(copy.deepcopy(body), prev)

    assert receipt.receipt_hash == digest
    assert receipt.to_json() == general(expected)


def test_fixed_schema_takes_the_fast_path() -> None:
    """The fast path is really used for an ordinary receipt (not only its fallback)."""
    body = {
        "receipt_id": "r", "session_id": "s", "proposal_id": "p", "sequence_number": 1,
        "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "executor": {"type": "t", "model": "m", "instance_id": "i"},
        "action": {"tool": "T", "operation": "decision", "effect_class": "SHELL_SAFE", "risk_delta": 0.0,
                   "description": "d\u00e9", "command": None, "target_paths": ["a"], "reversibility": "REVERSIBLE"},
        "result": {"status": "success", "exit_code": None, "blocked_by": None, "diff_hash": None,
                   "files_created": [], "files_modified": [], "files_deleted": [], "stdout_truncated": None},
        "budget_snapshot": {"steps_used": 1, "steps_remaining": 0, "commands_used": 0, "writes_used": 0,
                            "files_touched": 0, "runtime_elapsed_seconds": 0.5, "session_risk_score": 0.15,
                            "current_posture": "NORMAL"},
        "git_context": {"branch": "main", "commit_before": None, "commit_after": None},
    }
    assert _fast_parts(body) is not None
    receipt = seal(dict(body), "f" * 64)
    full = {**body, "previous_receipt_hash": "f" * 64, "receipt_hash": receipt.receipt_hash}
    assert receipt.to_json() == general(full)
    assert receipt.receipt_hash == receipt_hash(full)


def test_non_finite_and_special_floats() -> None:
    for x in (float("nan"), float("inf"), -float("inf"), -0.0, 1e-05, 1e16, 0.15):
        body = {"receipt_id": "r", "session_id": "s", "proposal_id": "p", "sequence_number": 1, "timestamp": "t",
                "executor": {"type": "t", "model": "m", "instance_id": "i"},
                "action": {"tool": "T", "operation": "o", "effect_class": "E", "risk_delta": x, "description": "",
                           "command": None, "target_paths": [], "reversibility": "R"},
                "result": {"status": "success", "exit_code": 0, "blocked_by": None, "diff_hash": None,
                           "files_created": [], "files_modified": [], "files_deleted": [], "stdout_truncated": None},
                "budget_snapshot": {"steps_used": 1, "steps_remaining": 0, "commands_used": 0, "writes_used": 0,
                                    "files_touched": 0, "runtime_elapsed_seconds": x, "session_risk_score": x,
                                    "current_posture": "NORMAL"},
                "git_context": {"branch": "main", "commit_before": None, "commit_after": None}}
        receipt = seal(copy.deepcopy(body), None)
        assert receipt.to_json() == general({**body, "previous_receipt_hash": None,
                                             "receipt_hash": receipt.receipt_hash})


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(timezones=st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))])))
def test_format_timestamp_matches_strftime(moment: datetime) -> None:
    try:
        expected = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    except OverflowError:
        return
    assert format_timestamp(moment) == expected


from spinegate.errors import ReceiptFormatError  # noqa: E402
from spinegate.receipts import validate_receipt, validated_receipt_hash  # noqa: E402

opt_text = st.one_of(st.none(), text)
number = st.one_of(st.integers(min_value=0, max_value=2**70), st.floats(min_value=0, allow_nan=False),
                   st.floats(allow_nan=True), st.sampled_from([0.0, -0.0, 1e-05, 1e16]))
nonneg = st.integers(min_value=0, max_value=2**70)
texts = st.lists(text, max_size=3)


@st.composite
def schema_receipts(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "receipt_id": draw(text), "session_id": draw(text), "proposal_id": draw(text),
        "sequence_number": draw(st.integers(min_value=1, max_value=2**70)), "timestamp": draw(text),
        "executor": {"type": draw(text), "model": draw(text), "instance_id": draw(text)},
        "action": {"tool": draw(text), "operation": draw(text), "effect_class": draw(text),
                   "risk_delta": draw(number), "description": draw(text), "command": draw(opt_text),
                   "target_paths": draw(texts), "reversibility": draw(text)},
        "result": {"status": draw(st.sampled_from(["success", "blocked", "failed"])),
                   "exit_code": draw(st.one_of(st.none(), st.integers())), "blocked_by": draw(opt_text),
                   "diff_hash": draw(opt_text), "files_created": draw(texts), "files_modified": draw(texts),
                   "files_deleted": draw(texts), "stdout_truncated": draw(opt_text)},
        "budget_snapshot": {"steps_used": draw(nonneg), "steps_remaining": draw(nonneg),
                            "commands_used": draw(nonneg), "writes_used": draw(nonneg),
                            "files_touched": draw(nonneg), "runtime_elapsed_seconds": draw(number),
                            "session_risk_score": draw(number), "current_posture": draw(text)},
        "git_context": {"branch": draw(text), "commit_before": draw(opt_text), "commit_after": draw(opt_text)},
        "previous_receipt_hash": draw(opt_text),
        "receipt_hash": "0" * 64,
    }


@settings(max_examples=400, deadline=None)
@given(schema_receipts())
def test_validated_receipt_hash_matches_general(receipt: dict[str, Any]) -> None:
    try:
        validate_receipt(receipt)
    except ReceiptFormatError:
        return  # only defined for schema-valid receipts (negative numbers, NaN budgets)
    assert validated_receipt_hash(receipt) == receipt_hash(receipt)

