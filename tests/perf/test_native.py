"""The native extension against the definitions it must match byte for byte.

Canonical JSON and argument hashes against ``json.dumps``; the native
sealer against the pure-Python `seal` (itself held to ``json.dumps``); the
one-pass line check against the general verifier (``json.loads``, the
schema, the hash rule) on valid, reformatted, damaged and hostile lines;
receipt ids, timestamps and the random pool across a fork.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perf_strategies import json_values, plain_or_null, schema_bodies, schema_receipts, values

from native_support import require_native
from spinegate.canonical import canonical_arguments
from spinegate.decision import Decision, ToolCall, Verdict
from spinegate.effects import EffectClass
from spinegate.errors import ReceiptFormatError
from spinegate.receipt_body import seal
from spinegate.receipt_hash import receipt_hash
from spinegate.receipts import validate_receipt
from spinegate.verify import _parse


def general(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@pytest.fixture
def native() -> Any:
    return require_native()


# --------------------------------------------------------------------------
# Canonical JSON and argument hashes


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_canonical_json_matches_json_dumps(native: Any, value: Any) -> None:
    assert native.canonical_json(value) == general(value)


def _plain(value: Any, depth: int = 0) -> bool:
    """Data the native encoder takes itself: exact containers, str keys, str/int/float/bool/None leaves."""
    if depth > 100:
        return False
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if type(value) in (list, tuple):
        return all(_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str for k in value) and all(_plain(v, depth + 1) for v in value.values())
    return False


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values)
def test_arguments_digest_matches_canonical_arguments(native: Any, value: Any) -> None:
    found = native.arguments_digest(value)
    if not _plain(value):
        assert found is native.NOT_HANDLED
        return
    text_form = canonical_arguments(value)
    assert found == (text_form, hashlib.sha256(text_form.encode("ascii")).hexdigest())


def test_canonical_json_edges(native: Any) -> None:
    for value in ([float("nan"), float("inf"), -float("inf"), -0.0, 1e-05, 1e16, 2**64, -(2**63) - 1, 10**400],
                  {"\ud800": "\udfff", "b": "\x7f\x00\u2028\U0001f600", "a": [True, False, None]},
                  "bare string", 5, [EffectClass.SHELL_SAFE], {"z": {"y": {"x": []}}, "": {}}):
        assert native.canonical_json(value) == general(value)
    deep: Any = []
    for _ in range(150):
        deep = [deep]
    assert native.canonical_json(deep) is native.NOT_HANDLED  # deeper than the native encoder goes
    loop: list[Any] = []
    loop.append(loop)
    assert native.canonical_json(loop) is native.NOT_HANDLED
    for other in ({1: "int key"}, {"a": b"bytes"}, {"a": {1, 2}}, type("D", (dict,), {})(a=1)):
        assert native.canonical_json(other) is native.NOT_HANDLED
    with pytest.raises(ValueError):  # past the int digit limit, as json.dumps
        native.canonical_json([10**5000])


def test_sha256_hex(native: Any) -> None:
    for data in (b"", b"abc", bytes(range(256)) * 9):
        assert native.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    assert native.sha256_hex("é") == hashlib.sha256("é".encode()).hexdigest()
    with pytest.raises(UnicodeEncodeError):
        native.sha256_hex("\ud800")


# --------------------------------------------------------------------------
# The sealer against the pure-Python seal


_ACTION = ("tool", "operation", "effect_class", "risk_delta", "description", "command", "target_paths",
           "reversibility")
_RESULT = ("status", "exit_code", "blocked_by", "diff_hash", "stdout_truncated", "files_created", "files_deleted",
           "files_modified")
_BUDGET = ("steps_used", "steps_remaining", "commands_used", "writes_used", "files_touched",
           "runtime_elapsed_seconds", "session_risk_score", "current_posture")


def native_seal(native: Any, body: dict[str, Any], prev: Any) -> Any:
    """The native sealer on `body`, as the emitter calls it; None where the emitter would not use it."""
    try:
        ex, a, r, b, g = (body[k] for k in ("executor", "action", "result", "budget_snapshot", "git_context"))
        if not all(isinstance(x, dict) for x in (ex, a, r, b, g)) or (len(ex), len(a), len(r), len(b), len(g)) != (
                3, 8, 8, 8, 3):
            return None
        sealer = native.Sealer(body["session_id"], ex["instance_id"], g["branch"], g["commit_before"],
                               g["commit_after"])
        return sealer.seal(body["receipt_id"], body["proposal_id"], body["sequence_number"], body["timestamp"],
                           ex["type"], ex["model"], *(a[k] for k in _ACTION), *(r[k] for k in _RESULT),
                           *(b[k] for k in _BUDGET), prev)
    except (KeyError, TypeError):
        return None


def _typed(body: dict[str, Any], prev: Any) -> bool:
    """True when every field has a type the sealer takes (then it must not decline)."""
    def s(v: Any) -> bool:
        return isinstance(v, str)

    def n(v: Any) -> bool:
        return (type(v) is int) or (isinstance(v, float) and v - v == 0.0)

    a, r, b = body["action"], body["result"], body["budget_snapshot"]
    strs = [body[k] for k in ("receipt_id", "proposal_id", "timestamp")] + [a[k] for k in (
        "tool", "operation", "effect_class", "description", "reversibility")] + [r["status"], b["current_posture"]]
    return (all(s(v) for v in strs) and all(v is None or s(v) for v in (a["command"], r["blocked_by"],
                                                                          r["diff_hash"], r["stdout_truncated"], prev))
            and all(type(v) is int for v in (body["sequence_number"], *(b[k] for k in _BUDGET[:5])))
            and (r["exit_code"] is None or type(r["exit_code"]) is int)
            and all(n(v) for v in (a["risk_delta"], b["runtime_elapsed_seconds"], b["session_risk_score"]))
            and all(type(v) is list and all(s(x) for x in v) for v in (
                a["target_paths"], r["files_created"], r["files_deleted"], r["files_modified"])))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=schema_bodies(), prev=plain_or_null)
def test_sealer_matches_seal(native: Any, body: dict[str, Any], prev: str | None) -> None:
    head = native_seal(native, copy.deepcopy(body), prev)
    if head is None:
        return
    if head is native.NOT_HANDLED:
        assert not _typed(body, prev)
        return
    reference = seal(copy.deepcopy(body), prev)
    assert head[0] == (reference.to_json() + "\n").encode("ascii")
    assert head[5] == reference.receipt_hash
    assert head[1:5] == (body["receipt_id"], body["session_id"], body["proposal_id"], body["sequence_number"])
    assert head[6] is prev and head[7] == body["timestamp"]


def test_sealer_makes_ids_and_times(native: Any) -> None:
    sealer = native.Sealer("s", "i", "main", None, None)
    fields = ("T", "decision", "SHELL_SAFE", 0.0, "d", None, [], "REVERSIBLE", "success", None, None, None, None,
              [], [], [], 1, 5, 0, 0, 0, 0.0, 0.0, "NORMAL")
    before = time.time()
    head = sealer.seal(None, None, 1, None, "python", "m", *fields, None)
    line = json.loads(head[0])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", line["receipt_id"])
    assert re.fullmatch(r"[0-9a-f]{32}", line["proposal_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", line["timestamp"])
    stamp = time.mktime(time.strptime(line["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 2 <= stamp <= time.time() + 1
    assert head[1:4] == (line["receipt_id"], "s", line["proposal_id"]) and head[7] == line["timestamp"]
    assert receipt_hash(line) == line["receipt_hash"] == head[5]
    assert sealer.seal(None, None, 1, None, "python", "m", *fields[:3], True, *fields[4:], None) is native.NOT_HANDLED
    assert sealer.seal(None, None, 1, None, "python", "m", *fields[:3], float("nan"), *fields[4:],
                       None) is native.NOT_HANDLED
    with pytest.raises(TypeError):
        sealer.seal(None)
    with pytest.raises(TypeError):
        native.Sealer("s", "i", "main", 1, None)


def test_receipt_ids_are_random_and_not_shared_with_a_forked_child(native: Any) -> None:
    ids = {native.receipt_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids)
    native.receipt_id()  # the pool now holds unused random bytes the child must not reuse
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, ",".join(native.receipt_id() for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    child = set(os.read(read, 1 << 16).decode().split(","))
    os.close(read)
    os.waitpid(pid, 0)
    parent = {native.receipt_id() for _ in range(50)}
    assert len(child) == 50 and not child & parent


def test_timestamp_is_now(native: Any) -> None:
    text_now = native.timestamp()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", text_now)
    assert abs(time.mktime(time.strptime(text_now[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone - time.time()) < 3


# --------------------------------------------------------------------------
# The one-pass line check against the general verifier


def reference(raw: bytes) -> tuple[Any, ...] | None:
    """What the general verifier finds in a line: its chain fields and kind if valid with a matching hash."""
    data, problem = _parse(raw)
    if problem is not None:
        return None
    try:
        validate_receipt(data)
    except ReceiptFormatError:
        return None
    if receipt_hash(data) != data["receipt_hash"]:
        return None
    operation, status = data["action"]["operation"], data["result"]["status"]
    kind = {"outcome": 2, "escalation": 3, "posture": 4, "reload": 4}.get(operation, 1 if status == "blocked" else 0)
    return (data["receipt_id"], data["session_id"], data["sequence_number"], data["receipt_hash"],
            data["previous_receipt_hash"], kind)


#: Chain fields as the gate writes them (the native pass takes only plain ASCII there, and most runs use them).
plain_chain = st.fixed_dictionaries({
    "receipt_id": st.uuids().map(str), "session_id": st.text("0123456789abcdef", min_size=12, max_size=12),
    "previous_receipt_hash": st.one_of(st.none(), st.text("0123456789abcdef", min_size=64, max_size=64))})


def _hashed(receipt: dict[str, Any], chain: dict[str, Any] | None = None) -> dict[str, Any]:
    receipt = {**receipt, **(chain or {})}
    try:
        receipt["receipt_hash"] = receipt_hash(receipt)
    except (ValueError, TypeError):
        pass
    return receipt


def _spellings(receipt: dict[str, Any], how: str) -> str:
    if how == "canonical":
        return general(receipt)
    if how == "unsorted":
        return json.dumps(receipt, separators=(",", ":"))
    if how == "spaced":
        return json.dumps(receipt, indent=1).replace("\n", " ")
    if how == "raw_utf8":
        return json.dumps(receipt, sort_keys=True, ensure_ascii=False)
    return json.dumps(receipt, sort_keys=True).replace("/", "\\/")


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(receipt=schema_receipts(), how=st.sampled_from(["canonical", "canonical", "unsorted", "spaced", "raw_utf8",
                                                       "slashes"]),
       end=st.sampled_from(["\n", "\r\n", " \n", ""]), chain=st.one_of(st.none(), plain_chain, plain_chain))
def test_scan_agrees_with_the_general_verifier(native: Any, receipt: dict[str, Any], how: str, end: str,
                                               chain: dict[str, Any] | None) -> None:
    receipt = _hashed(receipt, chain)
    try:
        raw = (_spellings(receipt, how) + end).encode("utf-8", "surrogatepass")
    except ValueError:
        return  # NaN and friends: json.dumps refuses them in this spelling
    found = native.scan_receipt(raw)
    expected = reference(raw)
    if found is not None:
        assert found == expected
    elif how == "canonical" and expected is not None and chain is not None:
        # a canonical, valid line with plain chain fields is taken by the native pass itself,
        # unless it holds a lone surrogate (left to Python)
        assert re.search(r"\\ud[89a-f][0-9a-f]{2}(?!\\ud[c-f])", raw.decode("ascii")), "declined a plain valid line"


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(receipt=schema_receipts(), chain=plain_chain,
       edits=st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "delete"]), st.integers(0, 4000),
                                st.binary(min_size=1, max_size=3)), min_size=1, max_size=3))
def test_scan_on_damaged_lines_never_disagrees(native: Any, receipt: dict[str, Any], chain: dict[str, Any],
                                              edits: list[tuple[str, int, bytes]]) -> None:
    try:
        raw = bytearray(general(_hashed(receipt, chain)).encode("ascii") + b"\n")
    except ValueError:
        return
    for op, where, data in edits:
        if not raw:
            break
        i = where % len(raw)
        if op == "flip":
            raw[i] ^= data[0] or 1
        elif op == "cut":
            del raw[i:]
        elif op == "insert":
            raw[i:i] = data
        else:
            del raw[i:i + len(data)]
    found = native.scan_receipt(bytes(raw))
    if found is not None:
        assert found == reference(bytes(raw))


@pytest.mark.parametrize("line, why", [
    ('{"a":1}', "not a receipt"),
    ("", "empty"),
    ("[1]", "not an object"),
])
def test_scan_declines_what_it_cannot_answer(native: Any, line: str, why: str) -> None:
    assert native.scan_receipt(line.encode()) is None, why


def test_scan_of_hostile_spellings(native: Any, tmp_path: Any) -> None:
    """Spellings a first-wins parser or a sloppy number reader would get wrong are left to Python."""
    base = json.loads(general(_hashed({
        "receipt_id": "r", "session_id": "s", "proposal_id": "p", "sequence_number": 1, "timestamp": "t",
        "executor": {"type": "t", "model": "m", "instance_id": "i"},
        "action": {"tool": "T", "operation": "decision", "effect_class": "E", "risk_delta": 0.15,
                   "description": "d", "command": None, "target_paths": [], "reversibility": "R"},
        "result": {"status": "success", "exit_code": None, "blocked_by": None, "diff_hash": None,
                   "files_created": [], "files_modified": [], "files_deleted": [], "stdout_truncated": None},
        "budget_snapshot": {"steps_used": 1, "steps_remaining": 5, "commands_used": 0, "writes_used": 0,
                            "files_touched": 0, "runtime_elapsed_seconds": 0.5, "session_risk_score": 0.0,
                            "current_posture": "NORMAL"},
        "git_context": {"branch": "main", "commit_before": None, "commit_after": None},
        "previous_receipt_hash": None, "receipt_hash": ""})))
    line = general(base)
    assert native.scan_receipt(line.encode()) == reference(line.encode()) != None  # noqa: E711
    for hostile in (line.replace('"risk_delta":0.15', '"risk_delta":0.150'),  # another spelling, same float
                    line.replace('"risk_delta":0.15', '"risk_delta":1.5e-1'),
                    line.replace('"steps_used":1', '"steps_used":1.0'),  # strict: a float is not an int
                    line.replace('"steps_used":1', '"steps_used":true'),
                    line.replace('"steps_used":1', '"steps_used":-1'),
                    line.replace('"sequence_number":1', '"sequence_number":0'),
                    line[:-1] + ',"receipt_id":"dup"}',
                    line.replace('"tool":"T"', '"\\u0074ool":"T"'),
                    line.replace('"tool":"T"', '"tool":"T\\ud800"'),
                    line.replace('"status":"success"', '"status":"Success"'),
                    line.replace('"runtime_elapsed_seconds":0.5', '"runtime_elapsed_seconds":-0.5'),
                    line.replace('"runtime_elapsed_seconds":0.5', '"runtime_elapsed_seconds":NaN'),
                    line.replace('"runtime_elapsed_seconds":0.5', '"runtime_elapsed_seconds":1e999'),
                    line.replace('"exit_code":null', '"exit_code":123456789012345678901234'),
                    "\ufeff" + line, line + "x", line.replace('"t"', '"\t"'),
                    line.replace('"receipt_hash":"', '"receipt_hash":"A')):
        raw = hostile.encode("utf-8")
        found = native.scan_receipt(raw)
        assert found is None or found == reference(raw), hostile


# --------------------------------------------------------------------------
# SlotBuilder


def test_slot_builder_fills_a_frozen_dataclass_like_its_constructor(native: Any) -> None:
    names = ("verdict", "reason", "effect_class", "call", "rule", "receipt", "entry", "target_paths", "shadow",
             "would_have", "decided_by", "escalation_receipt_id")
    build = native.SlotBuilder(Decision, names)
    args = (Verdict.APPROVE, None, EffectClass.SHELL_SAFE, ToolCall("f"), "rule", None, None, (), False, None,
            None, None)
    assert build(*args) == Decision(*args)
    with pytest.raises(TypeError):
        build(*args[:-1])
    with pytest.raises(TypeError):
        native.SlotBuilder(Decision, names[:-1])  # every slot must be named
    with pytest.raises(TypeError):
        native.SlotBuilder(type("WithDict", (), {}), ())

    class Slotted:
        __slots__ = ("a",)

    class Sub(Slotted):
        __slots__ = ("b",)

    with pytest.raises(TypeError):
        native.SlotBuilder(Sub, ("b",))  # a base's slot would stay empty


def test_version_says_which_path_runs(native: Any) -> None:
    from click.testing import CliRunner

    from spinegate.cli import main

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "receipt path: native" in result.output, result.output



def test_the_forced_pure_python_run_is_pure() -> None:
    """The second run of `bash scripts/test` (SPINEGATE_PURE_PYTHON=1) really takes the pure-Python path."""
    from native_support import forced_pure

    if not forced_pure():
        pytest.skip("this run checks the native path")
    from spinegate import Gate, MemoryReceiptStore
    from spinegate import native as loader

    assert loader.native is None and loader.describe().startswith("pure-Python (forced by")
    manifest = Path(__file__).resolve().parents[2] / "samples" / "manifest.json"
    gate = Gate.open(manifest, receipts=MemoryReceiptStore(),
                     git={"branch": "main", "commit_before": None, "commit_after": None})
    assert gate.emitter.sealer is None and gate._lean is None and gate._lean_outcomes is None
    assert gate.check(ToolCall(plugin="Files", function="Read")).receipt._head is None  # type: ignore[union-attr]


def test_same_state_compares_attribute_dicts_by_identity(native: Any) -> None:
    class Model:
        def __init__(self, **fields: Any) -> None:
            self.__dict__.update(fields)

    shared = ("a", "b")  # a constant: the same object wherever the literal appears
    a, b = Model(x=1, names=shared), Model(y=None)
    verified = (dict(a.__dict__), dict(b.__dict__))
    index = {("P", "f"): 0}
    assert native.same_state((a, b), verified, index, dict(index)) is True
    a.names = tuple("ab")  # equal, another object: not proven the same (the caller compares by equality)
    assert native.same_state((a, b), verified, index, dict(index)) is False
    a.names = shared
    b.z = 1  # a field added
    assert native.same_state((a, b), verified, index, dict(index)) is False
    del b.z
    assert native.same_state((a, b), verified, index, {("P", "f"): 1}) is False
    assert native.same_state((a, b), verified, index, {}) is False
    b.__dict__.pop("y")
    b.y = None  # same keys and values, same order again
    assert native.same_state((a, b), verified, index, dict(index)) is True
    assert native.same_state((a, 5), verified, index, dict(index)) is False  # no __dict__
    with pytest.raises(TypeError):
        native.same_state((a,), verified, index, index)
