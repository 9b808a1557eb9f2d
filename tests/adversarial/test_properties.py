"""Property tests: any single mutation of any receipt field is caught; the canonical serialiser is exact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adversarial_support import GIT, Clock, write_sealed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinegate import Gate, ToolCall
from spinegate.canonical import canonical_arguments, canonical_json, iterative_canonical_json
from spinegate.checkpoint_verify import verify_checkpoints
from spinegate.keys import write_keypair
from spinegate.receipt_hash import receipt_hash
from spinegate.verify import verify_path

JSON_SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text())
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(), inner, max_size=5), max_leaves=25)


def _reference(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(JSON_VALUES)
def test_canonical_serialiser_equals_json_dumps(value: Any) -> None:
    expected = _reference(value)
    assert canonical_json(value) == expected
    assert iterative_canonical_json(value) == expected
    assert canonical_arguments(value) == expected


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)), st.floats())
def test_canonical_serialiser_escapes_every_character_like_json_dumps(text: str, number: float) -> None:
    value = {text: [text, number], "z" + text: None}
    assert iterative_canonical_json(value) == _reference(value) == canonical_json(value)


# -- single-field mutations ------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path, Path]:
    """Four receipts (a decision, an outcome, a denial, a decision) with a checkpoint after each."""
    root = tmp_path_factory.mktemp("mutations")
    manifest = write_sealed(root / "manifest.json")
    priv, pub, _ = write_keypair(root / "k")
    log = root / "base.jsonl"
    with Gate.open(manifest, receipts=log, signing_key=priv, checkpoint_every=1, clock=Clock(), git=GIT) as gate:
        d = gate.check(ToolCall(plugin="Files", function="Echo", arguments={"a": [1, 2.5, None]}, model="m"))
        gate.record_outcome(d, output="done")
        gate.check(ToolCall(plugin="Files", function="Delete"))
        gate.check(ToolCall(function="search", arguments={"q": "é"}))
    return log.read_text(encoding="ascii").splitlines(), Path(str(log) + ".checkpoints.jsonl"), Path(pub)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field path in a receipt: objects, arrays and their members, at every depth."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


MUTATIONS = st.sampled_from(["replace", "delete", "add_sibling"])


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_mutation_of_any_receipt_field_is_caught(signed_log: tuple[list[str], Path, Path],
                                                            tmp_path: Path, data: Any) -> None:
    base, checkpoints, pub = signed_log
    receipts = [json.loads(line) for line in base]
    index = data.draw(st.integers(0, len(receipts) - 1), label="receipt")
    target = receipts[index]
    path = data.draw(st.sampled_from(sorted(_paths(target), key=repr)), label="field")
    kind = data.draw(MUTATIONS, label="mutation")
    parent = _get(target, path[:-1])
    key = path[-1]
    if kind == "replace":
        old = canonical_json(parent[key])
        new = data.draw(JSON_VALUES.filter(lambda v: canonical_json(v) != old), label="new value")
        parent[key] = new
    elif kind == "delete":
        del parent[key]
    elif isinstance(parent, dict):
        extra = data.draw(st.text(min_size=1).filter(lambda k: k not in parent), label="new key")
        parent[extra] = data.draw(JSON_VALUES, label="its value")
    else:
        parent.insert(key, data.draw(JSON_VALUES, label="inserted item"))

    log = tmp_path / f"m{index}.jsonl"
    log.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in receipts),
                   encoding="ascii")
    report = verify_path(log)
    assert not report.ok, f"{kind} of {path} in receipt {index} went unnoticed"

    # The stronger attacker also recomputes every hash and link: the signed checkpoints still catch it.
    if path[0] in ("receipt_hash", "previous_receipt_hash") and kind != "add_sibling":
        return  # recomputing the hashes undoes a change to the hashes themselves
    heads: dict[str, Any] = {}
    for r in receipts:
        sid = r.get("session_id") if isinstance(r.get("session_id"), str) else "?"
        r["previous_receipt_hash"] = heads.get(sid)
        r["receipt_hash"] = receipt_hash(r)
        heads[sid] = r["receipt_hash"]
    log.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in receipts),
                   encoding="ascii")
    signed = verify_checkpoints(log, pub, checkpoints)
    assert not signed.ok, f"{kind} of {path} in receipt {index}, hashes recomputed, went unnoticed"
