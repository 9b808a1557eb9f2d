"""The receipt hash: the general rule of SPEC.md and its fast paths, all in one place. Pure.

The rule (`receipt_hash`): SHA-256 of ``json.dumps(receipt without
receipt_hash and previous_receipt_hash, sort_keys=True, separators=(",",
":"))``, ensure_ascii on. Everything else here gives the same bytes faster
for the fixed twelve-field schema, and falls back to the rule for any other
shape; tests/perf checks each against the rule with hypothesis:

- `hashed_parts`: the one hand-written serialiser of the fixed schema,
  used to seal new receipts (hash input and JSONL line in one pass) and to
  hash schema-valid receipts read back (`fixed_schema_hash`);
- `sorted_receipt_hash`: for receipts the strict validator gave back as
  key-sorted dicts, pydantic-core's compact JSON is the canonical form where
  the two writers agree; it is used only when it reproduces the stored hash;
- `canonical_line_hash`: a stored canonical line minus its two hash members
  is the hash input; used only when it reproduces the stored hash.

`dotnet_variant` recognises the .NET port's non-canonical spelling, to
explain a mismatch; such a hash is never valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from pydantic_core import to_json as _to_json

from .canonical import canonical_json

#: Top-level receipt keys that are not part of the hash input.
HASH_EXCLUDED_KEYS = ("receipt_hash", "previous_receipt_hash")

_enc: Callable[[str], str] = encode_basestring_ascii
_SEP = (",", ":")
_dumps = json.dumps


def receipt_hash(receipt: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical receipt without its two hash fields: the general rule."""
    body = {k: v for k, v in receipt.items() if k not in HASH_EXCLUDED_KEYS}
    return hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


# --------------------------------------------------------------------------
# The fixed schema, serialised by hand.
#
# Byte-identical to ``json.dumps(value, sort_keys=True, separators=(",", ":"))``
# (ensure_ascii on): strings (str subclasses too, as json treats them) go
# through the same C escaper json uses, exact ints and finite floats through
# their own repr (as json does), and anything else (bools, NaN, nested
# containers) through json.dumps itself. Keys are written in sorted order; an
# object whose key set is not exactly the schema's gives None (the general rule).


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


class SealConstants:
    """Canonical fragments of the fields that stay the same across one session's receipts, computed once.

    The session id, the executor's instance id and the git context do not
    change within a session chain. `hashed_parts` uses these fragments only
    while the body holds the very objects they were computed from (checked
    by identity), so a changed value is always serialised afresh.
    """

    __slots__ = (
        "branch",
        "commit_after",
        "commit_before",
        "git_text",
        "instance_id",
        "instance_text",
        "session_id",
        "session_text",
    )

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


def hashed_parts(b: Mapping[str, Any], k: SealConstants | None = None) -> tuple[str, str, str, str] | None:
    """(hash, head, proposal member, tail) of a receipt's ten hashed fields, or None if not the fixed schema.

    The hash input is ``head + "," + proposal + "," + tail`` and `hash` is
    its SHA-256; the JSONL line puts the two hash members between them, in
    their sorted places. Keys
    outside the ten are not looked at: callers check the top-level key count.
    `k`'s fragments stand in for the session id, instance id and git context
    while the body holds exactly the objects they were made from.
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
        # does; anything else raises TypeError and the general rule takes over).
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
    return hashlib.sha256(f"{head},{proposal},{tail}".encode("ascii")).hexdigest(), head, proposal, tail


def fixed_schema_hash(receipt: Mapping[str, Any]) -> str:
    """`receipt_hash`, through `hashed_parts` when the receipt has exactly the twelve fields."""
    if len(receipt) == 12 and "receipt_hash" in receipt and "previous_receipt_hash" in receipt:
        hashed = hashed_parts(receipt)
        if hashed is not None:
            return hashed[0]
    return receipt_hash(receipt)


# --------------------------------------------------------------------------
# Shortcuts that must reproduce the stored hash to be used.


def _plain_number(x: Any) -> bool:
    """An int, or a float that pydantic-core and Python's json write alike (0, or 1e-4 <= |x| < 1e16)."""
    t = type(x)
    return t is int or (t is float and (x == 0.0 or 1e-4 <= abs(x) < 1e16))


def sorted_receipt_hash(data: dict[str, Any]) -> str:
    """`receipt_hash` of a dict from `receipts.parse_receipt_line`, serialised by pydantic-core when that is exact.

    Such a dict has the schema's exact types and its keys in sorted order at
    every level, so pydantic-core's compact JSON is the canonical form,
    except where the two writers differ: non-ASCII text and DEL (json
    escapes them, pydantic-core writes them raw, which shows as a byte
    >= 0x7f) and floats below 1e-4 or above 1e16 (exponent spelling). Those
    receipts, and any whose hash does not match this way, go through
    `fixed_schema_hash`. On success the two hash fields are left removed from `data`.
    """
    prev = data.pop("previous_receipt_hash")
    stored = data.pop("receipt_hash")
    a = data["action"]
    b = data["budget_snapshot"]
    if _plain_number(a["risk_delta"]) and _plain_number(b["runtime_elapsed_seconds"]) \
            and _plain_number(b["session_risk_score"]):
        out = _to_json(data)
        if out.isascii() and b"\x7f" not in out:
            digest = hashlib.sha256(out).hexdigest()
            if digest == stored:
                return digest
    data["previous_receipt_hash"] = prev
    data["receipt_hash"] = stored
    return fixed_schema_hash(data)


def canonical_line_hash(data: Mapping[str, Any], line: str) -> str | None:
    """The receipt's hash straight from its stored line, or None if that shortcut does not apply.

    Cutting the two hash members out of a canonical line leaves exactly the
    bytes the hash covers. When the result hashes to the stored value, the
    line is that canonical body plus the two members (so it parses to the
    same object in any JSON reader); otherwise the caller re-serialises.
    """
    stored, prev = data.get("receipt_hash"), data.get("previous_receipt_hash")
    if isinstance(stored, str) and (prev is None or isinstance(prev, str)):
        prev_member = '"previous_receipt_hash":' + ("null" if prev is None else json.dumps(prev)) + ","
        hash_member = '"receipt_hash":' + json.dumps(stored) + ","
        if line.count(prev_member) == 1 and line.count(hash_member) == 1:
            body = line.replace(prev_member, "", 1).replace(hash_member, "", 1)
            if body.isascii():
                digest = hashlib.sha256(body.encode("ascii")).hexdigest()
                if digest == stored:
                    return digest
    return None


def recompute_receipt_hash(data: Mapping[str, Any], line: str | None = None) -> str:
    """The receipt's hash recomputed from its content (fast when the stored line is canonical)."""
    fast = canonical_line_hash(data, line) if line is not None else None
    return fast if fast is not None else receipt_hash(data)


# --------------------------------------------------------------------------
# Recognising the .NET port's non-canonical serialisation (SPEC.md, "Known
# sibling divergences"). Only ever used to explain a hash mismatch: a receipt
# hashed this way is never valid.


def _dotnet_float(x: float) -> str:
    text = float.__repr__(x)
    return text.replace("e", "E") if "e" in text else text


def _variant_json(value: Any, *, ascii_only: bool, float_text: Callable[[float], str]) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(
            _variant_json(k, ascii_only=ascii_only, float_text=float_text) + ":"
            + _variant_json(value[k], ascii_only=ascii_only, float_text=float_text)
            for k in sorted(value, key=lambda k: k.encode("utf-16-be"))
        ) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_variant_json(v, ascii_only=ascii_only, float_text=float_text) for v in value) + "]"
    if isinstance(value, str):
        return encode_basestring_ascii(value) if ascii_only else encode_basestring(value)
    if isinstance(value, float) and value - value == 0.0:
        return float_text(value)
    return _dumps(value)


def dotnet_variant(receipt: Mapping[str, Any], stored: str | None = None) -> str | None:
    """Which .NET-port spelling, if any, makes this receipt's stored hash (or `stored`) match.

    Tries the known divergences (raw non-ASCII text, upper-case exponents, keys
    in UTF-16 order) and names the one that matches, or returns None.
    """
    stored = stored if stored is not None else receipt.get("receipt_hash")
    body = {k: v for k, v in receipt.items() if k not in HASH_EXCLUDED_KEYS}
    variants: tuple[tuple[str, bool, Callable[[float], str]], ...] = (
        ("non-ASCII text written raw", False, float.__repr__),
        ("exponents written with a capital E", True, _dotnet_float),
        ("non-ASCII text written raw and exponents with a capital E", False, _dotnet_float),
    )
    try:
        for name, ascii_only, float_text in variants:
            text = _variant_json(body, ascii_only=ascii_only, float_text=float_text)
            if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() == stored:
                return name
    except (RecursionError, TypeError, ValueError):
        return None
    return None
