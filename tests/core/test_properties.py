"""Property tests: whatever text and numbers reach a receipt, its bytes and hash follow SPEC.md."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core_support import GIT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinegate import Gate, MemoryReceiptStore, ToolCall
from spinegate.canonical import arguments_hash, canonical_json, iterative_canonical_json
from spinegate.receipt_hash import receipt_hash
from spinegate.verify import verify_receipts

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def independent(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_json_is_json_dumps(value: Any) -> None:
    assert canonical_json(value) == independent(value)
    assert iterative_canonical_json(value) == independent(value)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_arguments_hash_is_sha256_of_canonical_arguments(value: Any) -> None:
    args = {"v": value}
    assert arguments_hash(args) == hashlib.sha256(independent(args).encode()).hexdigest()


names = st.text(min_size=1, max_size=30)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plugin=st.none() | names, function=names, proposal=st.none() | st.text(max_size=40),
       model=st.none() | st.text(max_size=20), value=json_values)
def test_emitted_receipts_are_canonical_and_verify(write_manifest: Callable[..., Path], plugin: str | None,
                                                   function: str, proposal: str | None, model: str | None,
                                                   value: Any, schema_validator: Any) -> None:
    from core_support import entry

    path = write_manifest([entry(plugin, function, "SHELL_SAFE", record_arguments=True)], name="prop.json")
    store = MemoryReceiptStore()
    gate = Gate.open(path, receipts=store, git=GIT)
    call = ToolCall(plugin=plugin, function=function, arguments={"v": value}, proposal_id=proposal, model=model)
    d = gate.check(call)
    assert d.approved, d.reason
    gate.record_outcome(d, output=value)
    gate.check(ToolCall(plugin=plugin, function=function + "x", arguments={"v": value}))  # denied: not declared
    receipts = []
    for line in store.lines:
        parsed = json.loads(line)
        assert independent(parsed) == line
        body = {k: v for k, v in parsed.items() if k not in ("receipt_hash", "previous_receipt_hash")}
        assert parsed["receipt_hash"] == hashlib.sha256(independent(body).encode()).hexdigest() == \
            receipt_hash(parsed)
        assert not list(schema_validator.iter_errors(parsed))
        receipts.append(parsed)
    assert receipts[0]["action"]["command"] == independent({"v": value})
    assert verify_receipts(receipts).ok
