"""The fast receipt serialiser and timestamp formatter against the general ones.

The fast paths in spinegate.receipts must give exactly the bytes of
``json.dumps(value, sort_keys=True, separators=(",", ":"))`` and of
``strftime``; hypothesis drives both with arbitrary values.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spinegate.effects import EffectClass
from spinegate.receipt_body import format_timestamp, seal
from spinegate.receipt_hash import hashed_parts, receipt_hash


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
    assert hashed_parts(body) is not None
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
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))])))
def test_format_timestamp_matches_strftime(moment: datetime) -> None:
    try:
        expected = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    except OverflowError:
        return
    assert format_timestamp(moment) == expected


from spinegate.errors import ReceiptFormatError  # noqa: E402
from spinegate.receipt_hash import fixed_schema_hash as validated_receipt_hash  # noqa: E402
from spinegate.receipts import validate_receipt  # noqa: E402

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



# --------------------------------------------------------------------------
# Per-session constants (`seal_constants`): the same bytes with or without them.

from spinegate.receipt_hash import SealConstants, seal_constants  # noqa: E402

plain_or_null = st.one_of(st.none(), text)


@st.composite
def schema_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies of the fixed schema (so the fast path runs), now and then bent into other shapes."""
    if draw(st.integers(0, 3)) == 0:
        return draw(bodies())
    body = draw(schema_receipts())
    del body["previous_receipt_hash"], body["receipt_hash"]
    return body


@settings(max_examples=500, deadline=None)
@given(body=schema_bodies(), prev=st.one_of(st.none(), text), session=text, instance=text,
       git=st.fixed_dictionaries({"branch": text, "commit_before": plain_or_null, "commit_after": plain_or_null}),
       same=st.sampled_from(["objects", "objects", "equal", "session_id", "instance_id", "branch",
                             "commit_before", "commit_after"]),
       other=plain_or_null)
def test_seal_with_constants_matches_json_dumps(body: dict[str, Any], prev: str | None, session: str,
                                                instance: str, git: dict[str, Any], same: str,
                                                other: str | None) -> None:
    """Constants give json.dumps's bytes whether the body holds their objects, equal copies or other values."""
    if isinstance(body.get("executor"), dict) and "git_context" in body and "session_id" in body:
        body["session_id"], body["executor"]["instance_id"], body["git_context"] = session, instance, git
    if same == "objects":
        constants = seal_constants(session, instance, git)
    elif same == "equal":
        constants = seal_constants("".join(session), "".join(instance), copy.deepcopy(git))
    else:  # constants made for a session that differs in one value
        values = {"session_id": session, "instance_id": instance, **git, same: other}
        constants = seal_constants(values["session_id"], values["instance_id"],
                                   {k: values[k] for k in ("branch", "commit_before", "commit_after")})
    expected = copy.deepcopy(body)
    expected["previous_receipt_hash"] = prev
    digest = receipt_hash(expected)
    expected["receipt_hash"] = digest

    receipt = seal(dict(body), prev, constants)

    assert receipt.receipt_hash == digest
    assert receipt.to_json() == general(expected)


def _ordinary_body(session: str, instance: str, git: dict[str, Any]) -> dict[str, Any]:
    return {
        "receipt_id": "r", "session_id": session, "proposal_id": "p", "sequence_number": 1, "timestamp": "t",
        "executor": {"type": "t", "model": "m", "instance_id": instance},
        "action": {"tool": "T", "operation": "o", "effect_class": "E", "risk_delta": 0.0, "description": "",
                   "command": None, "target_paths": [], "reversibility": "R"},
        "result": {"status": "success", "exit_code": None, "blocked_by": None, "diff_hash": None,
                   "files_created": [], "files_modified": [], "files_deleted": [], "stdout_truncated": None},
        "budget_snapshot": {"steps_used": 1, "steps_remaining": 0, "commands_used": 0, "writes_used": 0,
                            "files_touched": 0, "runtime_elapsed_seconds": 0.0, "session_risk_score": 0.0,
                            "current_posture": "NORMAL"},
        "git_context": git,
    }


def test_constants_are_used_only_for_their_own_objects() -> None:
    """White-box: the fragments really stand in (not only the fallback runs), and only for identical objects."""
    session, instance = "session-1", "instance-1"
    git = {"branch": "main", "commit_before": "abc", "commit_after": None}
    k = seal_constants(session, instance, git)
    assert isinstance(k, SealConstants)
    k.session_text, k.instance_text = '"S"', '"I"'  # marked, so their use shows in the output
    k.git_text = '"git_context":{"branch":"G","commit_after":null,"commit_before":null}'
    _, head, _, tail = hashed_parts(_ordinary_body(session, instance, dict(git)), k)  # type: ignore[misc]
    assert '"instance_id":"I"' in head and '"branch":"G"' in head and '"session_id":"S"' in tail
    # An equal but distinct session id (or a changed git value) is serialised afresh.
    other = "".join(["session-", "1"])
    assert other == session and other is not session
    _, head, _, tail = hashed_parts(_ordinary_body(other, instance, dict(git)), k)  # type: ignore[misc]
    assert '"session_id":"session-1"' in tail and '"branch":"G"' not in head
    _, head, _, tail = hashed_parts(_ordinary_body(session, instance, {**git, "commit_after": "def"}), k)  # type: ignore[misc]
    assert '"branch":"main","commit_after":"def","commit_before":"abc"' in head


def test_seal_constants_refuse_values_the_fast_path_does_not_take() -> None:
    git = {"branch": "main", "commit_before": None, "commit_after": None}
    assert seal_constants("s", "i", git) is not None
    assert seal_constants(1, "i", git) is None
    assert seal_constants("s", None, git) is None
    assert seal_constants("s", "i", {**git, "extra": 1}) is None
    assert seal_constants("s", "i", {"branch": 1, "commit_before": None, "commit_after": None}) is None
    assert seal_constants("s", "i", {"branch": "b", "commit_before": None, "commit_afterx": None}) is None
    assert seal_constants("s", "i", [("branch", "main")]) is None
