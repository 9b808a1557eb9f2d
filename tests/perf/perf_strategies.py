"""Hypothesis strategies shared by the byte-identity tests: JSON-like values, receipt bodies, call arguments.

Text covers the whole code-point range (lone surrogates and control
characters included); numbers include NaN, infinities, -0.0 and big
integers; str subclasses (the effect enums) take json's own path.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from spinegate.effects import EffectClass

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


plain_or_null = st.one_of(st.none(), text)


@st.composite
def schema_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies of the fixed schema (so the fast path runs), now and then bent into other shapes."""
    if draw(st.integers(0, 3)) == 0:
        return draw(bodies())
    body = draw(schema_receipts())
    del body["previous_receipt_hash"], body["receipt_hash"]
    return body



class Opaque:
    """An object that is not JSON data: canonical_arguments writes a stand-in for it."""


#: Every code point, lone surrogates included.
code_points = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None, codec=None)

keys = st.one_of(st.text(alphabet=code_points, max_size=6), st.integers(-5, 5), st.floats(allow_nan=False),
                 st.none(), st.booleans())
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80), st.floats(),
    st.text(alphabet=code_points, max_size=8), st.binary(max_size=4), st.just(Opaque()),
    st.frozensets(st.integers(0, 3), max_size=3),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(alphabet=code_points, max_size=6), inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=3)),
    max_leaves=12,
)
