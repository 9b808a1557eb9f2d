"""The gate: SPEC.md's decision table row by row, fail-closed paths, record_outcome (issue item 3)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from core_support import GIT, entry

from spinegate import (
    Approval,
    Classification,
    EffectClass,
    EffectClassifier,
    Gate,
    GovernanceVeto,
    MemoryReceiptStore,
    ToolCall,
)
from spinegate.canonical import canonical_json

READ = ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"})


def call(plugin: str | None, function: str, **arguments: Any) -> ToolCall:
    return ToolCall(plugin=plugin, function=function, arguments=arguments)


# -- the decision table, row by row --------------------------------------------------------------------------

# (posture, plugin, function, approved, reason, recorded effect)
TABLE: list[tuple[str, str | None, str, bool, str | None, str]] = [
    # row 1: not in the manifest (recorded as SHELL_DANGEROUS: unknown is never written)
    ("NORMAL", "Files", "Nope", False, "TOOL_NOT_IN_MANIFEST", "SHELL_DANGEROUS"),
    ("NORMAL", None, "Read", False, "TOOL_NOT_IN_MANIFEST", "SHELL_DANGEROUS"),
    ("NORMAL", "files", "read", False, "TOOL_NOT_IN_MANIFEST", "SHELL_DANGEROUS"),
    # row 3: restricted write, even when the entry says allowed: true; before the entry's own reason
    ("NORMAL", "Secrets", "WriteEnv", False, "RESTRICTED_WRITE_FORBIDDEN", "RESTRICTED_WRITE"),
    ("NORMAL", "Secrets", "WriteEnvDenied", False, "RESTRICTED_WRITE_FORBIDDEN", "RESTRICTED_WRITE"),
    # row 4: allowed false -> the entry's reason, else MANIFEST_DENIED
    ("NORMAL", "Files", "Delete", False, "DESTRUCTIVE_OPERATION_BLOCKED", "SHELL_DANGEROUS"),
    ("NORMAL", "Files", "Purge", False, "MANIFEST_DENIED", "SHELL_DANGEROUS"),
    ("LOCKDOWN", "Files", "Purge", False, "MANIFEST_DENIED", "SHELL_DANGEROUS"),
    # row 5: NORMAL approves everything else
    ("NORMAL", "Files", "Read", True, None, "SHELL_SAFE"),
    ("NORMAL", "Files", "Write", True, None, "SCOPED_WRITE"),
    ("NORMAL", "Shell", "Mkdir", True, None, "SHELL_MUTATING"),
    ("NORMAL", "Shell", "Run", True, None, "SHELL_DANGEROUS"),
    ("NORMAL", "Web", "Fetch", True, None, "NETWORK_ATTEMPT"),
    ("NORMAL", None, "search", True, None, "SHELL_SAFE"),
    # row 6: ELEVATED blocks network only
    ("ELEVATED", "Web", "Fetch", False, "ELEVATED_BLOCKS_NETWORK", "NETWORK_ATTEMPT"),
    ("ELEVATED", "Files", "Read", True, None, "SHELL_SAFE"),
    ("ELEVATED", "Files", "Write", True, None, "SCOPED_WRITE"),
    ("ELEVATED", "Shell", "Mkdir", True, None, "SHELL_MUTATING"),
    ("ELEVATED", "Shell", "Run", True, None, "SHELL_DANGEROUS"),
    ("ELEVATED", "Secrets", "WriteEnv", False, "RESTRICTED_WRITE_FORBIDDEN", "RESTRICTED_WRITE"),
    # row 7: LOCKDOWN allows SHELL_SAFE only
    ("LOCKDOWN", "Files", "Read", True, None, "SHELL_SAFE"),
    ("LOCKDOWN", None, "search", True, None, "SHELL_SAFE"),
    ("LOCKDOWN", "Files", "Write", False, "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY", "SCOPED_WRITE"),
    ("LOCKDOWN", "Shell", "Mkdir", False, "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY", "SHELL_MUTATING"),
    ("LOCKDOWN", "Shell", "Run", False, "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY", "SHELL_DANGEROUS"),
    ("LOCKDOWN", "Web", "Fetch", False, "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY", "NETWORK_ATTEMPT"),
    ("LOCKDOWN", "Files", "Nope", False, "TOOL_NOT_IN_MANIFEST", "SHELL_DANGEROUS"),
]


@pytest.mark.parametrize("posture, plugin, function, approved, reason, effect", TABLE,
                         ids=[f"{r[0]}-{r[1]}.{r[2]}" for r in TABLE])
def test_decision_table(make_gate: Any, write_manifest: Callable[..., Path], posture: str, plugin: str | None,
                        function: str, approved: bool, reason: str | None, effect: str) -> None:
    gate = make_gate(write_manifest(posture=posture))
    d = gate.check(call(plugin, function, x=1))
    assert (d.approved, d.reason, d.effect_class.value) == (approved, reason, effect)
    r = d.receipt
    assert r is not None
    assert r["action"]["effect_class"] == effect
    assert r["result"]["status"] == ("success" if approved else "blocked")
    assert r["result"]["blocked_by"] == reason
    assert r["budget_snapshot"]["current_posture"] == posture
    if not approved:
        assert reason in d.refusal_message() and r["receipt_id"] in d.refusal_message()
        with pytest.raises(GovernanceVeto) as info:
            d.raise_if_denied()
        assert info.value.reason == reason and info.value.receipt is r


def test_posture_passed_to_open_overrides_manifest(make_gate: Any) -> None:
    gate = make_gate(posture="ELEVATED")
    assert gate.check(call("Web", "Fetch")).reason == "ELEVATED_BLOCKS_NETWORK"


class RaisingClassifier(EffectClassifier):
    def classify(self, call: ToolCall, entry: Any) -> Classification:
        raise RuntimeError("classifier exploded")


class UnknownClassifier(EffectClassifier):
    def classify(self, call: ToolCall, entry: Any) -> Classification:
        return Classification(None, entry.effect_class if entry else None, "could not parse the command")


def test_exception_in_classification_denies_with_type_and_message(make_gate: Any) -> None:
    gate = make_gate(classifier=RaisingClassifier())
    d = gate.check(READ)
    assert not d.approved
    assert d.reason == "EVALUATION_EXCEPTION: RuntimeError: classifier exploded"
    assert d.effect_class is EffectClass.SHELL_DANGEROUS
    assert d.receipt is not None and d.receipt["result"]["blocked_by"] == d.reason


def test_exception_in_evaluation_denies(make_gate: Any) -> None:
    from spinegate import PolicyEvaluator

    class Broken(PolicyEvaluator):
        def evaluate(self, *args: Any, **kwargs: Any) -> Any:
            raise KeyError("posture")

    d = make_gate(evaluator=Broken()).check(READ)
    assert not d.approved and d.reason == "EVALUATION_EXCEPTION: KeyError: 'posture'"


def test_unclassifiable_call_denies_effect_class_unknown(make_gate: Any) -> None:
    gate = make_gate(classifier=UnknownClassifier())
    d = gate.check(READ)
    assert (d.approved, d.reason) == (False, "EFFECT_CLASS_UNKNOWN")
    assert d.receipt is not None and d.receipt["action"]["effect_class"] == "SHELL_DANGEROUS"


def test_shadow_mode_approves_but_records_what_it_would_have_done(make_gate: Any) -> None:
    gate = make_gate(shadow=True)
    d = gate.check(call("Files", "Delete"))
    assert d.approved and d.shadow
    assert d.receipt is not None and d.receipt["action"]["operation"] == "shadow_decision"
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in d.receipt["action"]["description"]


# -- receipts cannot be written: deny, nothing runs ----------------------------------------------------------


class FailingStore(MemoryReceiptStore):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def append(self, line: str) -> None:
        raise self.exc


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), RuntimeError("store is gone")],
                         ids=["oserror", "other-exception"])
def test_unwritable_receipt_denies_and_rolls_back(write_manifest: Callable[..., Path], exc: BaseException) -> None:
    store = FailingStore(exc)
    gate = Gate.open(write_manifest(), receipts=store, git=GIT)
    ran: list[str] = []
    d = gate.check(READ)
    if d.approved:
        ran.append("tool")
    assert not d.approved and ran == []
    assert d.reason is not None and d.reason.startswith("RECEIPT_WRITE_FAILED")
    assert d.receipt is None and d.receipt_id is None
    assert gate.budget()["steps_used"] == 0  # nothing counted for a call that was not recorded
    with pytest.raises(GovernanceVeto):
        d.raise_if_denied()


def test_unwritable_log_path_denies(write_manifest: Callable[..., Path], tmp_path: Path) -> None:
    gate = Gate.open(write_manifest(), receipts=tmp_path / "no" / "such" / "dir" / "r.jsonl", git=GIT)
    d = gate.check(READ)
    assert not d.approved and d.reason is not None and d.reason.startswith("RECEIPT_WRITE_FAILED")
    assert "r.jsonl" in d.reason


def test_naive_clock_denies_instead_of_writing_a_bad_timestamp(make_gate: Any) -> None:
    from datetime import datetime

    gate = make_gate(clock=lambda: datetime(2026, 5, 1, 12, 0, 0))
    d = gate.check(READ)
    assert not d.approved and d.reason is not None and d.reason.startswith("RECEIPT_WRITE_FAILED")


# -- what a receipt carries ----------------------------------------------------------------------------------


def _args_sha(arguments: Any) -> str:
    return hashlib.sha256(json.dumps(arguments, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_every_receipt_carries_the_argument_hash(make_gate: Any) -> None:
    gate = make_gate()
    args = {"path": "a.txt", "opts": {"z": 1, "a": [1.5, None, "\u00e9\U0001F600"]}}
    for plugin, function in [("Files", "Write"), ("Files", "Delete"), ("Nope", "Nope"), (None, "search")]:
        d = gate.check(ToolCall(plugin=plugin, function=function, arguments=args))
        assert d.receipt is not None
        assert f"args_sha256={_args_sha(args)}" in d.receipt["action"]["description"], function


def test_argument_values_are_written_only_when_the_entry_opts_in(make_gate: Any) -> None:
    gate = make_gate()
    secret = {"path": "a.txt", "token": "sk-VERY-SECRET"}
    opted = gate.check(ToolCall(plugin="Files", function="Read", arguments=secret))  # record_arguments: true
    quiet = gate.check(ToolCall(plugin="Files", function="Write", arguments=secret))
    denied = gate.check(ToolCall(plugin="Files", function="Delete", arguments=secret))
    assert opted.receipt is not None and quiet.receipt is not None and denied.receipt is not None
    assert opted.receipt["action"]["command"] == json.dumps(secret, sort_keys=True, separators=(",", ":"))
    assert quiet.receipt["action"]["command"] is None
    log = Path(gate.store.location).read_text(encoding="ascii")
    assert log.count("sk-VERY-SECRET") == 1  # only the opted-in receipt holds it


def test_arguments_that_are_not_json_still_hash_and_decide(make_gate: Any) -> None:
    gate = make_gate()
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    for args in ({"blob": b"\x00\xff", "obj": object(), "set": {3, 1}}, {1: "a", "b": 2}, {"deep": deep}):
        d = gate.check(ToolCall(plugin="Files", function="Write", arguments=args))
        assert d.approved
        assert d.receipt is not None and "args_sha256=" in d.receipt["action"]["description"]


def test_proposal_id_and_executor(make_gate: Any) -> None:
    gate = make_gate(executor_type="langchain")
    d = gate.check(ToolCall(plugin="Files", function="Read", proposal_id="call_abc", model="gpt-test"))
    assert d.receipt is not None
    assert d.receipt["proposal_id"] == "call_abc"
    assert d.receipt["executor"]["type"] == "langchain" and d.receipt["executor"]["model"] == "gpt-test"
    generated = gate.check(READ).receipt
    assert generated is not None and isinstance(generated["proposal_id"], str) and generated["proposal_id"]


def test_non_string_proposal_id_is_written_as_a_string(make_gate: Any) -> None:
    d = make_gate().check(ToolCall(plugin="Files", function="Read", proposal_id=42))  # type: ignore[arg-type]
    assert d.receipt is not None and d.receipt["proposal_id"] == "42"


def test_timestamps_always_have_six_fractional_digits(make_gate: Any) -> None:
    gate = make_gate()  # the fixture clock returns whole seconds (microsecond=0)
    d1, d2 = gate.check(READ), gate.check(READ)
    assert d1.receipt is not None and d2.receipt is not None
    assert d1.receipt["timestamp"] == "2026-05-01T12:00:00.000000+00:00"
    assert d2.receipt["timestamp"] == "2026-05-01T12:00:01.000000+00:00"


def test_non_utc_clock_is_written_in_utc(make_gate: Any) -> None:
    from datetime import datetime, timedelta, timezone

    tz = timezone(timedelta(hours=5, minutes=30))
    gate = make_gate(clock=lambda: datetime(2026, 5, 1, 17, 30, 0, 5, tzinfo=tz))
    d = gate.check(READ)
    assert d.receipt is not None and d.receipt["timestamp"] == "2026-05-01T12:00:00.000005+00:00"


def test_budget_snapshot_holds_real_figures(make_gate: Any, monotonic: Any) -> None:
    gate = make_gate(max_steps=10)
    gate.check(READ)  # command (SHELL_SAFE)
    monotonic.t += 1.234
    gate.check(ToolCall(plugin="Files", function="Write", arguments={"path": "a.txt"}))
    gate.check(call("Shell", "Mkdir"))  # command
    monotonic.t += 2.0
    denied = gate.check(call("Web", "Fetch"))
    assert denied.approved  # NORMAL
    d = gate.check(call("Files", "Delete"))  # denied: adds risk
    assert d.receipt is not None
    snap = d.receipt["budget_snapshot"]
    assert snap == {
        "steps_used": 5, "steps_remaining": 5, "commands_used": 4, "writes_used": 1, "files_touched": 0,
        "runtime_elapsed_seconds": 3.23, "session_risk_score": 0.1, "current_posture": "NORMAL",
    }
    assert isinstance(snap["runtime_elapsed_seconds"], float) and isinstance(snap["session_risk_score"], float)
    assert d.receipt["action"]["risk_delta"] == 0.1


def test_risk_accumulates_and_posture_tightens(make_gate: Any) -> None:
    gate = make_gate()
    postures = []
    for _ in range(6):
        d = gate.check(call("Files", "Delete"))
        assert d.receipt is not None
        postures.append((d.receipt["budget_snapshot"]["session_risk_score"],
                         d.receipt["budget_snapshot"]["current_posture"]))
    assert postures[0] == (0.1, "NORMAL")
    assert postures[2] == (0.3, "ELEVATED")
    assert postures[4] == (0.5, "LOCKDOWN")
    assert gate.check(call("Files", "Write")).reason == "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY"


def test_max_calls_per_session_is_enforced(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    gate = make_gate(write_manifest([entry("Web", "Fetch", "NETWORK_ATTEMPT", max_calls=2)]))
    results = [gate.check(call("Web", "Fetch")) for _ in range(3)]
    assert [d.approved for d in results] == [True, True, False]
    assert results[2].reason == "MAX_CALLS_EXCEEDED"


def test_files_touched_counts_distinct_written_paths(make_gate: Any) -> None:
    from spinegate.classifier import Classification as C  # noqa: N817 - short, in the table below

    class PathClassifier(EffectClassifier):
        def classify(self, call: ToolCall, entry: Any) -> C:
            return C(entry.effect_class, entry.effect_class, "paths", tuple(call.arguments.get("paths", ())))

    gate = make_gate(classifier=PathClassifier())
    gate.check(ToolCall(plugin="Files", function="Write", arguments={"paths": ["a.txt", "b.txt"]}))
    d = gate.check(ToolCall(plugin="Files", function="Write", arguments={"paths": ["a.txt"]}))
    assert d.receipt is not None
    assert d.receipt["budget_snapshot"]["files_touched"] == 2
    assert d.receipt["budget_snapshot"]["writes_used"] == 2
    assert d.receipt["action"]["target_paths"] == ["a.txt"]


# -- record_outcome ------------------------------------------------------------------------------------------


def test_record_outcome_success_with_long_output(make_gate: Any) -> None:
    gate = make_gate()
    d = gate.check(READ)
    output = "".join(chr(0x41 + i % 26) for i in range(5000)) + "\U0001F600"
    r = gate.record_outcome(d, output=output)
    assert r["result"]["status"] == "success" and r["result"]["exit_code"] == 0
    assert r["result"]["stdout_truncated"] == output[:2000] and len(r["result"]["stdout_truncated"]) == 2000
    assert r["result"]["diff_hash"] == hashlib.sha256(output.encode("utf-8")).hexdigest()
    assert r["proposal_id"] == d.receipt["proposal_id"]  # type: ignore[index]
    assert r["sequence_number"] == d.receipt["sequence_number"] + 1  # type: ignore[index]
    assert r["previous_receipt_hash"] == d.receipt["receipt_hash"]  # type: ignore[index]
    assert r["action"]["operation"] == "outcome"
    assert d.receipt_id in r["action"]["description"]
    assert f"args_sha256={_args_sha(READ.arguments)}" in r["action"]["description"]


def test_record_outcome_failure(make_gate: Any) -> None:
    gate = make_gate()
    d = gate.check(READ)
    r = gate.record_outcome(d, error=FileNotFoundError("a.txt"))
    assert r["result"]["status"] == "failed" and r["result"]["exit_code"] == 1
    assert r["result"]["stdout_truncated"] == "FileNotFoundError: a.txt"
    r2 = gate.record_outcome(d, output="partial", exit_code=3, status="failed")
    assert (r2["result"]["status"], r2["result"]["exit_code"], r2["result"]["stdout_truncated"]) == \
        ("failed", 3, "partial")


def test_record_outcome_short_and_structured_output(make_gate: Any) -> None:
    gate = make_gate()
    d = gate.check(READ)
    r = gate.record_outcome(d, output={"rows": [1, 2]})
    assert r["result"]["stdout_truncated"] == '{"rows":[1,2]}'
    assert r["result"]["diff_hash"] == hashlib.sha256(b'{"rows":[1,2]}').hexdigest()
    empty = gate.record_outcome(d)
    assert empty["result"]["stdout_truncated"] is None and empty["result"]["diff_hash"] is None


def test_record_outcome_respects_record_output_false(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    gate = make_gate(write_manifest([entry("Files", "Read", "SHELL_SAFE", record_output=False)]))
    d = gate.check(READ)
    r = gate.record_outcome(d, output="secret contents")
    assert r["result"]["stdout_truncated"] is None
    assert r["result"]["diff_hash"] == hashlib.sha256(b"secret contents").hexdigest()


def test_record_outcome_refuses_a_denied_decision(make_gate: Any) -> None:
    gate = make_gate()
    d = gate.check(call("Files", "Delete"))
    with pytest.raises(ValueError):
        gate.record_outcome(d, output="x")


# -- async ---------------------------------------------------------------------------------------------------


async def test_acheck_matches_check(make_gate: Any) -> None:
    gate = make_gate()
    d = await gate.acheck(READ)
    assert d.approved and d.receipt is not None
    denied = await gate.acheck(call("Files", "Delete"))
    assert denied.reason == "DESTRUCTIVE_OPERATION_BLOCKED"
    r = await gate.arecord_outcome(d, output="ok")
    assert r["sequence_number"] == 3


async def test_acheck_denies_on_classifier_exception(make_gate: Any) -> None:
    d = await make_gate(classifier=RaisingClassifier()).acheck(READ)
    assert d.reason == "EVALUATION_EXCEPTION: RuntimeError: classifier exploded"


def test_emitted_lines_are_canonical(make_gate: Any) -> None:
    gate = make_gate()
    gate.check(ToolCall(plugin="Files", function="Read", arguments={"p": "\u00e9\U0001F600\x00"}))
    gate.check(call("Files", "Delete"))
    for line in Path(gate.store.location).read_text(encoding="ascii").splitlines():
        parsed = json.loads(line)
        assert canonical_json(parsed) == line == json.dumps(parsed, sort_keys=True, separators=(",", ":"))
        body = {k: v for k, v in parsed.items() if k not in ("receipt_hash", "previous_receipt_hash")}
        expected = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        assert parsed["receipt_hash"] == expected


def test_decision_receipt_is_the_logged_line(make_gate: Any) -> None:
    gate = make_gate()
    d = gate.check(READ)
    assert d.receipt is not None
    line = Path(gate.store.location).read_text(encoding="ascii").splitlines()[-1]
    assert d.receipt.to_json() == line and d.receipt.to_dict() == json.loads(line)
    assert asyncio.iscoroutinefunction(gate.acheck)


# -- hostile or malformed calls: deny (or decide), never raise, never write a bad receipt -------------------------


class Hostile:
    """An object whose comparisons, hashing and printing all raise."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __str__(self) -> str:
        raise RuntimeError("str")

    __repr__ = __str__


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str of the exception")


class RaisesUnprintable:
    """Compares by raising an exception that cannot be printed."""

    def __eq__(self, other: object) -> bool:
        raise Unprintable()

    __hash__ = None  # type: ignore[assignment]


def _circular() -> dict[str, Any]:
    d: dict[str, Any] = {}
    d["self"] = d
    return d


BAD_CALLS: list[tuple[str, Callable[[], ToolCall], bool | None]] = [
    ("function-none", lambda: ToolCall(function=None), False),  # type: ignore[arg-type]
    ("plugin-int", lambda: ToolCall(plugin=123, function="Read"), False),  # type: ignore[arg-type]
    ("plugin-hostile", lambda: ToolCall(plugin=Hostile(), function="Read"), False),  # type: ignore[arg-type]
    ("function-hostile", lambda: ToolCall(plugin="Files", function=Hostile()), False),  # type: ignore[arg-type]
    ("nul-and-lone-surrogate", lambda: ToolCall(plugin="Files\x00", function="Read\ud800"), False),
    ("arguments-none", lambda: ToolCall(plugin="Files", function="Read", arguments=None), True),  # type: ignore
    ("arguments-list", lambda: ToolCall(plugin="Files", function="Read", arguments=[1, 2]), True),  # type: ignore
    ("arguments-circular", lambda: ToolCall(plugin="Files", function="Read", arguments=_circular()), True),
    ("argument-hostile", lambda: ToolCall(plugin="Files", function="Read", arguments={"x": Hostile()}), None),
    ("framework-none", lambda: ToolCall(plugin="Files", function="Read", framework=None), True),  # type: ignore
    ("model-hostile", lambda: ToolCall(plugin="Files", function="Read", model=Hostile()), True),  # type: ignore
    ("proposal-hostile", lambda: ToolCall(plugin="Files", function="Read", proposal_id=Hostile()), False),  # type: ignore
    # an exception whose own str() raises, while the gate words the denial
    ("proposal-unprintable-error", lambda: ToolCall(plugin="Files", function="Read",  # type: ignore[arg-type]
                                                    proposal_id=RaisesUnprintable()), False),
    ("huge-name", lambda: ToolCall(plugin="P" * 10_000, function="f" * 10_000), False),
]


@pytest.mark.parametrize("make_call, approved", [(c, a) for _, c, a in BAD_CALLS], ids=[b[0] for b in BAD_CALLS])
def test_bad_calls_never_raise(make_gate: Any, make_call: Callable[[], ToolCall], approved: bool | None) -> None:
    gate = make_gate()
    d = gate.check(make_call())
    if approved is not None:
        assert d.approved is approved, d.reason
    if not d.approved:
        assert d.reason
        assert d.refusal_message()
    # the teardown of make_gate validates every written receipt against the schema and verifies the log


def test_deny_records_a_refusal_decided_before_policy(make_gate: Any) -> None:
    gate = make_gate(shadow=True)  # enforced even in shadow mode: the call cannot run anyway
    d = gate.deny(ToolCall(plugin="Files", function="Read", arguments={"raw": "{not json"}), "ARGUMENTS_NOT_JSON",
                  "the model's arguments are not valid JSON")
    assert not d.approved and d.reason == "ARGUMENTS_NOT_JSON"
    assert d.receipt is not None and d.receipt["result"]["status"] == "blocked"
    assert d.receipt["result"]["blocked_by"] == "ARGUMENTS_NOT_JSON"


async def test_concurrent_acheck_and_outcomes(make_gate: Any) -> None:
    gate = make_gate()

    async def one(i: int) -> None:
        d = await gate.acheck(ToolCall(plugin="Files", function="Read", arguments={"i": i}))
        await asyncio.sleep(0)
        await gate.arecord_outcome(d, output=str(i))

    await asyncio.gather(*(one(i) for i in range(60)))
    lines = Path(gate.store.location).read_text(encoding="ascii").splitlines()
    assert [json.loads(x)["sequence_number"] for x in lines] == list(range(1, 121))
    outcomes = [json.loads(x) for x in lines if json.loads(x)["action"]["operation"] == "outcome"]
    assert len(outcomes) == 60


def test_check_after_close_denies_and_writes_nothing(tmp_path) -> None:
    """A closed gate cannot record, so nothing it is asked about may run."""
    import shutil
    from pathlib import Path

    from spinegate import Gate, ReceiptWriteError, ToolCall

    manifest = tmp_path / "m.json"
    shutil.copy(Path(__file__).resolve().parents[2] / "samples" / "manifest.json", manifest)
    log = tmp_path / "r.jsonl"
    gate = Gate.open(manifest, receipts=log)
    approved = gate.check(ToolCall("Read", "Files"))
    gate.close()
    before = log.read_bytes()
    decision = gate.check(ToolCall("Read", "Files"))
    assert not decision.approved and decision.reason == "GATE_CLOSED" and decision.receipt is None
    with pytest.raises(ReceiptWriteError):
        gate.record_outcome(approved, output="late")
    assert log.read_bytes() == before


async def test_adeny_records_a_refusal(tmp_path) -> None:
    import shutil
    from pathlib import Path

    from spinegate import Gate, ToolCall, verify_path

    manifest = tmp_path / "m.json"
    shutil.copy(Path(__file__).resolve().parents[2] / "samples" / "manifest.json", manifest)
    log = tmp_path / "r.jsonl"
    with Gate.open(manifest, receipts=log, durability="fsync") as gate:
        decision = await gate.adeny(ToolCall("Read", "Files"), "INVALID_ARGUMENTS_JSON", "bad model output")
    assert decision.reason == "INVALID_ARGUMENTS_JSON" and decision.receipt is not None
    assert verify_path(log).ok


def test_edit_after_the_manifest_settled_is_still_caught(tmp_path, monkeypatch) -> None:
    """Once the unchanged file is past the racy window the gate skips the re-read, but any edit
    changes its fingerprint (ctime at least) and is re-read and caught."""
    import shutil
    from pathlib import Path

    from spinegate import Gate, ToolCall
    from spinegate import manifest_file as manifest_module

    monkeypatch.setattr(manifest_module, "RACY_WINDOW_NS", 0)
    manifest = tmp_path / "m.json"
    shutil.copy(Path(__file__).resolve().parents[2] / "samples" / "manifest.json", manifest)
    with Gate.open(manifest, receipts=tmp_path / "r.jsonl") as gate:
        assert gate.check(ToolCall("Read", "Files")).approved
        assert gate.check(ToolCall("Read", "Files")).approved  # settled now
        text = manifest.read_text()
        manifest.write_text(text.replace('"allowed": false', '"allowed": true '))  # same size
        decision = gate.check(ToolCall("Delete", "Files"))
    assert decision.reason == "MANIFEST_INTEGRITY_FAILURE"


def test_unprintable_exception_in_evaluation_still_denies_with_its_type(make_gate: Any) -> None:
    class Broken(EffectClassifier):
        def classify(self, call: ToolCall, entry: Any) -> Classification:
            raise Unprintable()

    d = make_gate(classifier=Broken()).check(READ)
    assert not d.approved and d.reason == "EVALUATION_EXCEPTION: Unprintable: <unprintable Unprintable>"


def test_failed_checkpoint_denies_but_keeps_counters_in_step(make_gate: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The receipt is already in the log when signing fails: the call is denied and the receipt still counts."""
    from spinegate.checkpoint_writer import Checkpointer
    from spinegate.keys import write_keypair

    priv, _, _ = write_keypair(tmp_path / "key")
    gate = make_gate(signing_key=priv)
    assert gate.check(READ).approved

    def broken(self: Any, *args: Any) -> None:
        raise ValueError("signer unavailable")

    monkeypatch.setattr(Checkpointer, "add", broken)
    d = gate.check(READ)
    assert not d.approved and d.reason == "RECEIPT_WRITE_FAILED: signer unavailable"
    assert d.receipt is not None and d.receipt["sequence_number"] == 2
    assert gate.budget()["steps_used"] == 2  # the written receipt counts
    monkeypatch.undo()
    last = gate.check(READ).receipt
    assert last is not None and last["sequence_number"] == 3 and last["budget_snapshot"]["steps_used"] == 3


def test_resuming_a_session_whose_last_receipt_is_not_a_receipt_is_refused(make_gate: Any, tmp_path: Path) -> None:
    from spinegate import ReceiptLogError

    log = tmp_path / "r.jsonl"
    first = make_gate(log=log)
    first.check(READ)
    first.close()
    text = log.read_text(encoding="ascii")
    log.write_text(text + text.replace('"sequence_number":1', '"sequence_number":"2"'), encoding="ascii")
    make_gate.expect_broken(log)
    with pytest.raises(ReceiptLogError, match=r"not a valid receipt.*sequence_number"):
        make_gate(log=log, session_id=first.session_id)
    assert log.read_text(encoding="ascii").count("\n") == 2


@pytest.mark.parametrize("exit_code", [True, "0", 1.5])
def test_record_outcome_refuses_an_exit_code_no_receipt_can_hold(make_gate: Any, exit_code: Any) -> None:
    """Checked before writing: such a receipt would fail the schema and break the log's verification."""
    gate = make_gate()
    d = gate.check(READ)
    with pytest.raises(TypeError, match="exit_code"):
        gate.record_outcome(d, output="x", exit_code=exit_code)
    r = gate.record_outcome(d, output="x", exit_code=3)
    assert r["result"]["exit_code"] == 3 and r["sequence_number"] == 2
    # the teardown of make_gate verifies the log and validates every receipt against the schema


def test_resuming_from_a_log_line_that_is_not_an_object_is_refused(make_gate: Any, tmp_path: Path) -> None:
    from spinegate import ReceiptLogError

    log = tmp_path / "r.jsonl"
    log.write_text('[{"session_id":"abc"}]\n', encoding="ascii")
    make_gate.expect_broken(log)
    with pytest.raises(ReceiptLogError, match=f"{log}: the last receipt of session abc is not a valid receipt"):
        make_gate(log=log, session_id="abc")
    assert log.read_text(encoding="ascii") == '[{"session_id":"abc"}]\n'


class _Unusable:
    """An approver's value that cannot be turned into a bool or a string."""

    def __bool__(self) -> bool:
        raise RuntimeError("no truth value")

    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_approval_that_is_neither_true_nor_false_denies(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    path = write_manifest([entry("Files", "Read", "SHELL_SAFE", requires_confirmation=True)], version="1.1.0")
    gate = make_gate(path, approver=lambda request: Approval(_Unusable()))  # type: ignore[arg-type]
    d = gate.check(READ)
    assert not d.approved and d.reason == "APPROVER_ERROR" and "no truth value" in d.rule


@pytest.mark.parametrize("field", ["by", "note"])
def test_approval_with_unprintable_text_is_written_with_a_stand_in(make_gate: Any, write_manifest: Callable[..., Path],
                                                                    field: str) -> None:
    path = write_manifest([entry("Files", "Read", "SHELL_SAFE", requires_confirmation=True)], version="1.1.0")
    gate = make_gate(path, approver=lambda request: Approval(True, **{field: _Unusable()}))
    d = gate.check(READ)
    assert d.approved and d.receipt is not None
    assert "<unprintable _Unusable>" in d.receipt["action"]["description"]


def test_deny_with_non_text_reason_and_rule_still_records(make_gate: Any) -> None:
    gate = make_gate()
    d = gate.deny(READ, 404, None)  # type: ignore[arg-type]
    assert not d.approved and d.reason == "404" and d.receipt is not None
    assert d.receipt["result"]["blocked_by"] == "404"
