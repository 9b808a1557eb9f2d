"""The lean check against the general path: the same receipts, the same integrity, the same failures.

The lean path (`spinegate.lean`) decides calls of plain entries from a
cached plan once the manifest file is watched. Each test here runs gates
whose manifest settles at once (the racy window set to zero), so the lean
path is taken from the second call on, and compares it with a gate that
has it switched off.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spinegate.manifest_file as manifest_file
from native_support import require_native
from spinegate import Gate, ToolCall
from spinegate.effects import Posture
from spinegate.keys import load_private_key, write_keypair
from spinegate.manifest_file import seal_manifest
from spinegate.verify import verify_path

GIT = {"branch": "main", "commit_before": None, "commit_after": None}
ENTRIES = [
    {"plugin": "Files", "function": "Read", "effect_class": "SHELL_SAFE"},
    {"plugin": "Net", "function": "Fetch", "effect_class": "NETWORK_ATTEMPT"},
    {"plugin": "Files", "function": "Write", "effect_class": "SCOPED_WRITE", "record_arguments": True},
    {"plugin": None, "function": "search", "effect_class": "SHELL_SAFE"},
    {"plugin": "Files", "function": "Delete", "effect_class": "SHELL_DANGEROUS", "allowed": False,
     "reason": "NO_DELETES"},
]


def write_manifest(path: Path, entries: list[dict[str, Any]] = ENTRIES, posture: str = "NORMAL") -> Path:
    functions = [{"allowed": True, "reason": None, "max_calls_per_session": None, **e} for e in entries]
    path.write_text(json.dumps({"version": "1.0.0", "posture": posture, "functions": functions,
                                "manifest_hash": ""}), encoding="utf-8")
    seal_manifest(path)
    return path


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Manifest files count as settled at once (no 2-second racy window): the watcher takes over at once."""
    require_native()
    monkeypatch.setattr(manifest_file, "RACY_WINDOW_NS", 0)


@pytest.fixture
def gates(tmp_path: Path, settled: None) -> Iterator[Callable[..., Gate]]:
    opened: list[Gate] = []

    def make(name: str = "r", *, lean: bool = True, manifest: Path | None = None, **options: Any) -> Gate:
        m = manifest or write_manifest(tmp_path / "manifest.json")
        gate = Gate.open(m, receipts=tmp_path / f"{name}.jsonl", git=GIT, **options)
        if not lean:
            gate._lean = None
        opened.append(gate)
        return gate

    yield make
    for gate in opened:
        gate.close()


class Counting:
    """Wraps a gate's lean path to count the calls it decided itself."""

    def __init__(self, gate: Gate) -> None:
        assert gate._lean is not None, "the lean path is not available on this gate"
        self.inner = gate._lean
        self.taken = 0
        gate._lean = self  # type: ignore[assignment]

    def check(self, call: ToolCall) -> Any:
        decision = self.inner.check(call)
        self.taken += decision is not None
        return decision

    def learn(self, prepared: Any, decision: Any) -> None:
        self.inner.learn(prepared, decision)


_VARYING = {("receipt_id",), ("timestamp",), ("session_id",), ("executor", "instance_id"), ("receipt_hash",),
            ("previous_receipt_hash",), ("budget_snapshot", "runtime_elapsed_seconds")}


def comparable(receipt: Any, generated_proposal: bool) -> dict[str, Any]:
    data = json.loads(receipt.to_json())
    for path in _VARYING | ({("proposal_id",)} if generated_proposal else set()):
        holder = data
        for key in path[:-1]:
            holder = holder[key]
        holder.pop(path[-1])
    return data


CALLS = [
    ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"}),
    ToolCall(plugin="Files", function="Read", arguments={"path": "é\U0001f600\u2028", "n": [1, 2.5, None, True]}),
    ToolCall(plugin="Net", function="Fetch", arguments={"url": "https://example.org"}, proposal_id="call_1"),
    ToolCall(plugin="Files", function="Write", arguments={"path": "x", "text": "secret\x00"}, model="gpt-x"),
    ToolCall(function="search", arguments={"q": 1e-05, "big": 2**70, "neg": -0.0}, framework="langchain"),
    ToolCall(plugin="Files", function="Read", arguments={"path": b"bytes"}),  # a stand-in: the general path
    ToolCall(plugin="Files", function="Read", arguments={}, proposal_id=""),
    ToolCall(plugin="Files", function="Read", arguments={"k": "v"}, proposal_id="p" * 300),  # bounded: general
    ToolCall(plugin="Files", function="Read", arguments={"k": "v"}, proposal_id=12345),  # type: ignore[arg-type]
    ToolCall(plugin="Files", function="Write", arguments={"text": "y" * 5000}),  # command bounded
    ToolCall(plugin="Files", function="Delete", arguments={"path": "x"}),  # denied: the general path
    ToolCall(plugin="Nope", function="Nope"),
    ToolCall(plugin="Files", function="Read", arguments={"path": "a"}, framework="f" * 500, model=""),
]


def test_lean_receipts_equal_the_general_path(gates: Callable[..., Gate]) -> None:
    lean, general = gates("lean"), gates("general", lean=False)
    counter = Counting(lean)
    for _ in range(3):
        for call in CALLS:
            a, b = lean.check(call), general.check(call)
            assert (a.verdict, a.reason, a.effect_class, a.rule, a.entry, a.target_paths, a.shadow) == \
                   (b.verdict, b.reason, b.effect_class, b.rule, b.entry, b.target_paths, b.shadow)
            assert a.receipt is not None and b.receipt is not None
            generated = call.proposal_id in (None, "")
            assert comparable(a.receipt, generated) == comparable(b.receipt, generated)
            assert a.receipt.to_dict() == dict(a.receipt)
            assert a.receipt.sequence_number == b.receipt.sequence_number
    # Denials push the session into LOCKDOWN on the way (as on the general path): from then on only the
    # SHELL_SAFE reads are approved, and taken by the lean path.
    assert lean.posture is Posture.LOCKDOWN and counter.taken >= 10
    assert lean.session.calls_by_tool == general.session.calls_by_tool
    assert lean.budget() | {"runtime_elapsed_seconds": 0} == general.budget() | {"runtime_elapsed_seconds": 0}
    lean.close()
    general.close()
    for name in ("lean", "general"):
        assert verify_path(Path(lean.store.location).with_name(f"{name}.jsonl")).ok


def test_lean_path_outcomes_and_decisions_chain(gates: Callable[..., Gate]) -> None:
    gate = gates()
    counter = Counting(gate)
    for i in range(20):
        decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={"i": i}))
        assert decision.approved
        gate.record_outcome(decision, output=f"out {i}")
    assert counter.taken == 18  # the first check reads the manifest, the second finds it settled and watches it
    gate.close()
    report = verify_path(gate.store.location)
    assert report.ok and report.approvals == 20 and report.outcomes == 20


def test_in_memory_changes_deny_the_next_call(gates: Callable[..., Gate]) -> None:
    gate = gates()
    counter = Counting(gate)
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved and gate.check(read).approved
    assert counter.taken == 1
    entry = gate.manifest.lookup("Files", "Read")
    object.__setattr__(entry, "effect_class", entry.effect_class)  # same value: still the verified state
    assert gate.check(read).approved and counter.taken == 2
    object.__setattr__(entry, "allowed", False)
    d = gate.check(read)
    assert not d.approved and d.reason == "MANIFEST_INTEGRITY_FAILURE"
    assert gate.check(ToolCall(plugin="Net", function="Fetch")).reason == "MANIFEST_INTEGRITY_FAILURE"  # sticky


def test_manifest_fields_changed_in_memory_deny(gates: Callable[..., Gate]) -> None:
    gate = gates()
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved
    object.__setattr__(gate.manifest, "posture", Posture.LOCKDOWN)
    assert gate.check(read).reason == "MANIFEST_INTEGRITY_FAILURE"


def test_index_changed_in_memory_is_not_followed(gates: Callable[..., Gate]) -> None:
    gate = gates()
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved
    gate.manifest.__pydantic_private__["_index"][("Files", "Read")] = 4  # type: ignore[index]  # points at Delete
    d = gate.check(read)
    assert not d.approved and d.reason == "MANIFEST_INTEGRITY_FAILURE"


def wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > seconds:
            raise AssertionError("timed out")
        time.sleep(0.0005)
    return time.perf_counter() - start


def test_a_changed_file_denies_the_next_call_after_the_watcher_saw_it(gates: Callable[..., Gate],
                                                                     tmp_path: Path) -> None:
    gate = gates()
    counter = Counting(gate)
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved and gate.check(read).approved
    assert counter.taken == 1
    watch = gate._rules[0]
    assert watch.watched  # no stat per check from here on
    file_watch = watch._watch
    assert file_watch is not None
    write_manifest(tmp_path / "manifest.json", [dict(e, allowed=True) for e in ENTRIES])  # re-sealed, other content
    wait_for(lambda: file_watch.changed)
    d = gate.check(read)
    assert not d.approved and d.reason == "MANIFEST_INTEGRITY_FAILURE" and "changed after load" in d.rule
    assert counter.taken == 1


@pytest.mark.parametrize("change", ["append", "touch_same_content", "delete", "chmod"])
def test_every_kind_of_file_change_is_seen(gates: Callable[..., Gate], tmp_path: Path, change: str) -> None:
    gate = gates()
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved
    path = tmp_path / "manifest.json"
    file_watch = gate._rules[0]._watch
    assert file_watch is not None
    if change == "append":
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(" ")
    elif change == "touch_same_content":
        path.write_bytes(path.read_bytes())
    elif change == "delete":
        path.unlink()
    else:
        path.chmod(0o600)
    wait_for(lambda: file_watch.changed)
    d = gate.check(read)
    if change in ("touch_same_content", "chmod", "append"):  # the content still verifies (JSON whitespace)
        assert d.approved
        assert gate.check(read).approved
    else:
        assert d.reason == "MANIFEST_INTEGRITY_FAILURE"


def test_a_replaced_parent_directory_is_seen(tmp_path: Path, settled: None) -> None:
    home = tmp_path / "conf"
    home.mkdir()
    gate = Gate.open(write_manifest(home / "manifest.json"), receipts=tmp_path / "r.jsonl", git=GIT)
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved
    file_watch = gate._rules[0]._watch
    assert file_watch is not None
    home.rename(tmp_path / "old")
    other = tmp_path / "conf"
    other.mkdir()
    write_manifest(other / "manifest.json", [dict(e, allowed=True) for e in ENTRIES])
    wait_for(lambda: file_watch.changed)
    assert gate.check(read).reason == "MANIFEST_INTEGRITY_FAILURE"
    gate.close()


def test_posture_changes_leave_the_plan(gates: Callable[..., Gate]) -> None:
    gate = gates()
    fetch = ToolCall(plugin="Net", function="Fetch")
    assert gate.check(fetch).approved and gate.check(fetch).approved
    gate.set_posture(Posture.ELEVATED)
    assert gate.check(fetch).reason == "ELEVATED_BLOCKS_NETWORK"
    gate.restore_posture()
    assert gate.check(fetch).approved and gate.check(fetch).approved
    gate.close()
    assert verify_path(gate.store.location).ok


def test_a_store_that_refuses_denies(gates: Callable[..., Gate], monkeypatch: pytest.MonkeyPatch) -> None:
    gate = gates()
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved

    def refuse(receipt: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gate.store, "write_receipt", refuse)
    d = gate.check(read)
    assert not d.approved and d.reason is not None and d.reason.startswith("RECEIPT_WRITE_FAILED")


def test_a_closed_gate_denies(gates: Callable[..., Gate]) -> None:
    gate = gates()
    read = ToolCall(plugin="Files", function="Read")
    assert gate.check(read).approved and gate.check(read).approved
    gate.close()
    assert gate.check(read).reason == "GATE_CLOSED"


def test_signed_checkpoints_cover_lean_receipts(gates: Callable[..., Gate], tmp_path: Path) -> None:
    private, public, _ = write_keypair(tmp_path / "key")
    gate = gates(signing_key=load_private_key(private), checkpoint_every=4)
    counter = Counting(gate)
    for i in range(11):
        assert gate.check(ToolCall(plugin="Files", function="Read", arguments={"i": i})).approved
    assert counter.taken == 9
    gate.close()
    from spinegate.checkpoint_verify import verify_checkpoints

    assert verify_checkpoints(gate.store.location, public).ok


def test_threads_share_the_lean_path(gates: Callable[..., Gate]) -> None:
    gate = gates()
    Counting(gate)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                assert gate.check(ToolCall(plugin="Files", function="Read", arguments={"t": n, "i": i})).approved
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert gate.session.steps == 1200 and gate.session.calls_by_tool[("Files", "Read")] == 1200
    gate.close()
    assert verify_path(gate.store.location).ok


async def test_acheck_takes_the_lean_path(gates: Callable[..., Gate]) -> None:
    gate = gates()
    counter = Counting(gate)
    for _ in range(4):
        assert (await gate.acheck(ToolCall(plugin="Files", function="Read"))).approved
    assert counter.taken == 2


# --------------------------------------------------------------------------
# Outcomes: the lean builder against the general one


OUTPUT_ENTRIES = ENTRIES + [
    {"plugin": "Files", "function": "Quiet", "effect_class": "SHELL_SAFE", "record_output": False},
    {"plugin": "Files", "function": "Save", "effect_class": "SCOPED_WRITE", "path_arguments": ["path"]},
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(function=st.sampled_from(["Read", "Quiet", "Save"]),
       output=st.one_of(st.none(), st.text(max_size=3000), st.integers(), st.lists(st.floats(), max_size=3),
                        st.dictionaries(st.text(max_size=3), st.text(max_size=5), max_size=3)),
       error=st.one_of(st.none(), st.text(max_size=20), st.just(RuntimeError("boom \u00e9"))),
       status=st.sampled_from([None, "success", "failed"]),
       exit_code=st.one_of(st.none(), st.integers(-(2**40), 2**40)),
       path=st.lists(st.text(alphabet="abc/é\U0001f600", min_size=1, max_size=8), min_size=1, max_size=25))
def test_lean_outcomes_equal_the_general_path(tmp_path_factory: pytest.TempPathFactory, function: str, output: Any,
                                              error: Any, status: str | None, exit_code: int | None,
                                              path: list[str]) -> None:
    require_native()
    where = tmp_path_factory.mktemp("outcomes")
    manifest = write_manifest(where / "manifest.json", OUTPUT_ENTRIES)
    lean = Gate.open(manifest, receipts=where / "lean.jsonl", git=GIT)
    general = Gate.open(manifest, receipts=where / "general.jsonl", git=GIT)
    general._lean = general._lean_outcomes = None
    assert lean._lean_outcomes is not None
    call = ToolCall(plugin="Files", function=function, arguments={"path": path if len(path) > 1 else path[0]},
                    model="m")
    results = []
    for gate in (lean, general):
        decision = gate.check(call)
        try:
            receipt = gate.record_outcome(decision, output=output, error=error, status=status, exit_code=exit_code,
                                          deferred=True)
        except (ValueError, TypeError) as exc:
            results.append(type(exc))
            continue
        seen = comparable(receipt, False) | {"proposal_id": None}
        seen["action"]["description"] = seen["action"]["description"].replace(str(decision.receipt_id), "<decision>")
        results.append(seen)
    lean.close()
    general.close()
    assert results[0] == results[1]
    for name in ("lean", "general"):
        assert verify_path(where / f"{name}.jsonl").ok


def test_lean_outcomes_are_taken(gates: Callable[..., Gate]) -> None:
    gate = gates()
    outcome = gate._lean_outcomes
    assert outcome is not None
    decision = gate.check(ToolCall(plugin="Files", function="Read"))
    receipt = gate.record_outcome(decision, output="x")
    assert receipt._head is not None  # sealed natively, with no dict built
    assert dict(receipt)["action"]["description"].startswith("outcome of Files.Read for decision receipt ")


@pytest.mark.parametrize("where", ["other entry", "paths", "shell"])
def test_any_in_memory_change_denies_on_the_lean_path_too(gates: Callable[..., Gate], tmp_path: Path,
                                                          where: str) -> None:
    """The general path denies every call once anything in the manifest changed in memory; so must the lean one."""
    entries = [*ENTRIES, {"plugin": "Sh", "function": "Run", "effect_class": "SHELL_MUTATING",
                          "command_argument": "cmd"}]
    m = write_manifest(tmp_path / "m2.json", entries)
    raw = json.loads(m.read_text())
    raw["paths"] = {"writable_roots": ["/tmp"]}
    raw["shell"] = {"deny": ["rm"]}
    m.write_text(json.dumps(raw))
    seal_manifest(m)
    gate = gates(manifest=m)
    counter = Counting(gate)
    read = ToolCall(plugin="Files", function="Read")
    for _ in range(3):
        assert gate.check(read).approved
    assert counter.taken == 1
    manifest = gate.manifest
    if where == "other entry":
        object.__setattr__(manifest.lookup("Files", "Delete"), "allowed", True)
    elif where == "paths":
        object.__setattr__(manifest.paths, "writable_roots", ("/",))
    else:
        object.__setattr__(manifest.shell, "deny", ())
    d = gate.check(read)
    assert not d.approved and d.reason == "MANIFEST_INTEGRITY_FAILURE"


@pytest.mark.parametrize("arguments", [{"n": 10**5000}, {"n": [-(10**4400)]}])
def test_arguments_no_receipt_can_hash_deny_on_the_lean_path_too(gates: Callable[..., Gate],
                                                                arguments: dict[str, Any]) -> None:
    """An int past the interpreter's digit limit: the general path denies; the lean path must not raise."""
    lean, general = gates("lean"), gates("general", lean=False)
    counter = Counting(lean)
    read = ToolCall(plugin="Files", function="Read")
    for _ in range(3):
        assert lean.check(read).approved
    assert counter.taken == 1
    call = ToolCall(plugin="Files", function="Read", arguments=arguments)
    a, b = lean.check(call), general.check(call)
    assert not b.approved and b.reason is not None
    assert (a.verdict, a.reason, a.rule) == (b.verdict, b.reason, b.rule)


_OPS = st.lists(st.one_of(
    st.tuples(st.just("check"), st.integers(0, len(CALLS) - 1)),
    st.tuples(st.just("outcome"), st.sampled_from(["ok", "error"])),
    st.tuples(st.just("posture"), st.sampled_from(list(Posture))),
    st.tuples(st.just("restore"), st.just(None)),
), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_any_sequence_decides_and_writes_as_the_general_path(tmp_path_factory: pytest.TempPathFactory,
                                                             settled: None, ops: list[tuple[str, Any]]) -> None:
    """Checks, outcomes, posture changes and restores in any order: the same decisions and receipts either way."""
    where = tmp_path_factory.mktemp("sequence")
    manifest = write_manifest(where / "manifest.json")
    lean = Gate.open(manifest, receipts=where / "lean.jsonl", git=GIT)
    general = Gate.open(manifest, receipts=where / "general.jsonl", git=GIT)
    general._lean = general._lean_outcomes = None
    counter = Counting(lean)
    try:
        for gate in (lean, general):  # the manifest settles and is watched: plans are learnt from here on
            for call in (CALLS[0], CALLS[2], CALLS[4], CALLS[0]):
                gate.check(call)
                gate.check(call)
        last: list[Any] = [None, None]
        for op, arg in ops:
            for i, gate in enumerate((lean, general)):
                if op == "check":
                    last[i] = gate.check(CALLS[arg])
                elif op == "outcome":
                    if last[i] is None or not last[i].approved:
                        continue
                    gate.record_outcome(last[i], output="out" if arg == "ok" else None,
                                        error="boom" if arg == "error" else None, deferred=True)
                elif op == "posture":
                    gate.set_posture(arg)
                else:
                    gate.restore_posture()
            if op == "check":
                a, b = last
                assert (a.verdict, a.reason, a.rule, a.effect_class) == (b.verdict, b.reason, b.rule, b.effect_class)
        lean.close()
        general.close()
        rows = []
        for name in ("lean", "general"):
            lines = (where / f"{name}.jsonl").read_text().splitlines()
            rows.append([json.loads(x) for x in lines])
            assert verify_path(where / f"{name}.jsonl").ok
        assert len(rows[0]) == len(rows[1])
        for x, y in zip(*rows, strict=True):
            for data in (x, y):
                for key in ("receipt_id", "timestamp", "session_id", "receipt_hash", "previous_receipt_hash",
                            "proposal_id"):
                    data.pop(key)
                data["executor"].pop("instance_id")
                data["budget_snapshot"].pop("runtime_elapsed_seconds")
                data["action"]["description"] = data["action"]["description"].split(" for decision receipt ")[0]
            assert x == y
        assert counter.taken >= 1  # compared with the lean path in it
    finally:
        lean.close()
        general.close()

