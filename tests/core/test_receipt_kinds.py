"""spinegate's receipt kinds beyond decision and outcome: escalation to the host, posture, reload.

Every receipt these tests write is checked against the sibling JSON Schema
and every log must verify (the `make_gate` factory does both at teardown);
a signed run is checked with `spinegate verify --public-key` as well.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from core_support import DEFAULT_FUNCTIONS, entry, independent_manifest_hash

from spinegate import ManifestError, Posture, ToolCall, Verdict
from spinegate.cli import main as cli
from spinegate.keys import write_keypair

FUNCTIONS = [*DEFAULT_FUNCTIONS, entry("Deploy", "Ship", "SHELL_MUTATING", requires_confirmation=True,
                                       max_calls_per_session=1)]
SHIP = ToolCall(plugin="Deploy", function="Ship", arguments={"env": "prod"}, proposal_id="toolu_1")
READ = ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"})


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="ascii").splitlines()]


@pytest.fixture
def gate(make_gate: Any, write_manifest: Callable[..., Path]) -> Any:
    return make_gate(write_manifest(FUNCTIONS))


# -- escalation to the host ------------------------------------------------------------------------------------


def test_host_escalation_writes_an_escalation_receipt_and_runs_nothing(gate: Any, tmp_path: Path) -> None:
    decision = gate.check(SHIP, host_approval=True)
    assert decision.escalated and not decision.approved and not decision.denied
    assert decision.verdict is Verdict.ESCALATE and decision.reason == "APPROVAL_REQUIRED"
    assert "needs a person to approve" in decision.refusal_message()
    (row,) = rows(tmp_path / "receipts.jsonl")
    assert row["action"]["operation"] == "escalation" and row["receipt_id"] == decision.receipt_id
    assert (row["result"]["status"], row["result"]["blocked_by"]) == ("blocked", "APPROVAL_REQUIRED")
    assert row["proposal_id"] == "toolu_1" and "args_sha256=" in row["action"]["description"]
    assert row["budget_snapshot"]["steps_used"] == 0  # nothing was decided yet: the person decides
    with pytest.raises(ValueError, match="approved"):
        gate.record_outcome(gate.check(ToolCall(plugin="Files", function="Delete")), output="x")


def test_without_host_approval_the_escalation_is_the_approvers(gate: Any) -> None:
    decision = gate.check(SHIP)  # no approver: denied, as before
    assert decision.denied and decision.reason == "APPROVAL_REQUIRED" and not decision.escalated
    assert gate.check(READ, host_approval=True).approved  # host_approval changes nothing for other calls


def test_resolving_an_escalation_writes_the_persons_decision(gate: Any, tmp_path: Path) -> None:
    escalated = gate.check(SHIP, host_approval=True)
    answer = gate.resolve_escalation(escalated, True, by="alice (Claude Code prompt)", note="release day")
    assert answer.approved and answer.decided_by == "alice (Claude Code prompt)"
    assert answer.escalation_receipt_id == escalated.receipt_id
    outcome = gate.record_outcome(answer, output="shipped")
    escalation, decision, recorded = rows(tmp_path / "receipts.jsonl")
    assert decision["action"]["operation"] == "decision" and decision["result"]["status"] == "success"
    assert decision["proposal_id"] == escalation["proposal_id"] == recorded["proposal_id"]
    description = decision["action"]["description"]
    assert escalated.receipt_id in description and "approved by alice (Claude Code prompt): release day" in description
    assert decision["budget_snapshot"]["steps_used"] == 1
    assert recorded["receipt_id"] == outcome.receipt_id
    assert escalated.receipt_id in recorded["action"]["description"]  # the outcome names the escalation
    assert answer.receipt_id in recorded["action"]["description"]
    with pytest.raises(ValueError, match="already answered"):
        gate.resolve_escalation(escalated, False, by="bob")


def test_a_refusal_denies_and_adds_risk(gate: Any, tmp_path: Path) -> None:
    escalated = gate.check(SHIP, host_approval=True)
    answer = gate.resolve_escalation(escalated, False, by="alice")
    assert answer.denied and answer.reason == "APPROVAL_DENIED" and "refused by alice" in answer.rule
    decision = rows(tmp_path / "receipts.jsonl")[1]
    assert (decision["result"]["status"], decision["result"]["blocked_by"]) == ("blocked", "APPROVAL_DENIED")
    assert decision["budget_snapshot"]["session_risk_score"] == decision["action"]["risk_delta"] > 0


def test_an_approval_is_checked_again_budgets_and_posture(gate: Any) -> None:
    first = gate.check(SHIP, host_approval=True)
    second = gate.check(SHIP, host_approval=True)
    assert gate.resolve_escalation(first, True, by="alice").approved
    late = gate.resolve_escalation(second, True, by="alice")  # max_calls_per_session 1: used up meanwhile
    assert late.denied and late.reason == "MAX_CALLS_EXCEEDED" and late.rule.startswith("approved by alice, but ")
    third = gate.check(SHIP, host_approval=True)  # refused before any person is asked
    assert third.denied and third.reason == "MAX_CALLS_EXCEEDED"


def test_posture_tightened_after_the_question_still_applies(make_gate: Any,
                                                            write_manifest: Callable[..., Path]) -> None:
    gate = make_gate(write_manifest([*DEFAULT_FUNCTIONS, entry("Deploy", "Ship", "SHELL_MUTATING",
                                                               requires_confirmation=True)]))
    escalated = gate.check(SHIP, host_approval=True)
    gate.set_posture("LOCKDOWN", by="ops")
    late = gate.resolve_escalation(escalated, True, by="alice")
    assert late.denied and late.reason == "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY"


def test_an_escalation_of_another_session_or_a_plain_decision_is_refused(make_gate: Any,
                                                                      write_manifest: Callable[..., Path]) -> None:
    path = write_manifest(FUNCTIONS)
    one, other = make_gate(path), make_gate(path)
    escalated = one.check(SHIP, host_approval=True)
    with pytest.raises(ValueError, match="belongs to session"):
        other.resolve_escalation(escalated, True, by="alice")
    with pytest.raises(ValueError, match="not an escalation"):
        one.resolve_escalation(one.check(READ), True, by="alice")


def test_the_host_ran_it_and_the_gate_learns_it_from_the_outcome(gate: Any, tmp_path: Path) -> None:
    """Claude Code runs the tool after the person says yes; the gate hears of it only at PostToolUse."""
    escalated = gate.check(SHIP, host_approval=True)
    before = gate.budget()
    outcome = gate.record_outcome(escalated, output="shipped")
    after = gate.budget()
    assert (before["steps_used"], after["steps_used"], after["commands_used"]) == (0, 1, 1)
    escalation, recorded = rows(tmp_path / "receipts.jsonl")
    assert recorded["receipt_id"] == outcome.receipt_id and recorded["action"]["operation"] == "outcome"
    assert f"for escalation receipt {escalated.receipt_id} (approved in the host's prompt)" in \
        recorded["action"]["description"]
    assert recorded["budget_snapshot"]["steps_used"] == 1 and recorded["proposal_id"] == escalation["proposal_id"]
    gate.record_outcome(escalated, output="again")  # counted once, however often it is reported
    assert gate.budget()["steps_used"] == 1
    assert gate.check(SHIP, host_approval=True).reason == "MAX_CALLS_EXCEEDED"  # the person's yes counted


async def test_async_escalation_and_answer(make_gate: Any, write_manifest: Callable[..., Path],
                                           tmp_path: Path) -> None:
    gate = make_gate(write_manifest(FUNCTIONS), durability="fsync")
    escalated = await gate.acheck(SHIP, host_approval=True)
    answer = await gate.aresolve_escalation(escalated, True, by="alice")
    await gate.arecord_outcome(answer, output="ok")
    assert [r["action"]["operation"] for r in rows(tmp_path / "receipts.jsonl")] == \
        ["escalation", "decision", "outcome"]


def test_an_escalation_that_cannot_be_written_denies(gate: Any) -> None:
    gate.close()
    decision = gate.check(SHIP, host_approval=True)
    assert decision.denied and decision.reason.startswith("RECEIPT_WRITE_FAILED") and decision.receipt is None


# -- posture ---------------------------------------------------------------------------------------------------


def test_posture_receipts_carry_the_new_posture(gate: Any, tmp_path: Path) -> None:
    receipt = gate.set_posture(Posture.ELEVATED, by="ops")
    assert receipt.operation == "posture" and gate.posture is Posture.ELEVATED
    gate.restore_posture(by="alice (new prompt)", note="a new task")
    first, second = rows(tmp_path / "receipts.jsonl")
    assert first["budget_snapshot"]["current_posture"] == "ELEVATED"
    assert second["action"]["description"] == ("posture restored from ELEVATED to NORMAL by alice (new prompt); "
                                               "session risk reset to 0: a new task")
    assert second["result"] == {"status": "success", "exit_code": None, "blocked_by": None, "diff_hash": None,
                                "files_created": [], "files_modified": [], "files_deleted": [],
                                "stdout_truncated": None}


# -- reload ------------------------------------------------------------------------------------------------------


def _reseal(path: Path, functions: list[dict[str, Any]]) -> str:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["functions"] = functions
    doc.pop("manifest_hash", None)
    doc["manifest_hash"] = independent_manifest_hash(doc)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return str(doc["manifest_hash"])


def test_reload_swaps_the_manifest_and_clears_the_integrity_failure(make_gate: Any,
                                                                   write_manifest: Callable[..., Path],
                                                                   tmp_path: Path) -> None:
    path = write_manifest(FUNCTIONS)
    gate = make_gate(path)
    old_hash = gate.manifest.manifest_hash
    assert gate.check(ToolCall(plugin="Files", function="Delete")).reason == "DESTRUCTIVE_OPERATION_BLOCKED"
    new_hash = _reseal(path, [*FUNCTIONS, entry("Files", "Delete2", "SHELL_SAFE")])
    assert gate.check(READ).reason == "MANIFEST_INTEGRITY_FAILURE"  # changed under the gate: sticky
    assert gate.check(READ).reason == "MANIFEST_INTEGRITY_FAILURE"
    receipt = gate.reload(by="ops")
    assert receipt.operation == "reload" and gate.manifest.manifest_hash == new_hash
    assert gate.check(READ).approved and gate.check(ToolCall(plugin="Files", function="Delete2")).approved
    reload_row = next(r for r in rows(tmp_path / "receipts.jsonl") if r["action"]["operation"] == "reload")
    description = reload_row["action"]["description"]
    assert f"manifest_hash {old_hash} -> {new_hash}" in description and "by ops" in description
    assert "cleared MANIFEST_INTEGRITY_FAILURE" in description and reload_row["result"]["status"] == "success"


def test_a_reload_whose_seal_fails_raises_and_keeps_denying(make_gate: Any, write_manifest: Callable[..., Path],
                                                            tmp_path: Path) -> None:
    path = write_manifest(FUNCTIONS)
    gate = make_gate(path)
    assert gate.check(READ).approved
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["posture"] = "LOCKDOWN"  # edited, not resealed
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    with pytest.raises(ManifestError, match="manifest_hash mismatch"):
        gate.reload()
    denied = gate.check(READ)
    assert denied.reason == "MANIFEST_INTEGRITY_FAILURE" and "reload" in denied.rule
    assert all(r["action"]["operation"] != "reload" for r in rows(tmp_path / "receipts.jsonl"))
    _reseal(path, FUNCTIONS)
    gate.reload()
    assert gate.check(READ).approved


def test_reload_needs_a_file(write_manifest: Callable[..., Path]) -> None:
    from spinegate import Gate, MemoryReceiptStore
    from spinegate.manifest import manifest_from_raw, parse_raw_manifest

    text = write_manifest(FUNCTIONS).read_text(encoding="utf-8")
    manifest = manifest_from_raw(parse_raw_manifest(text))  # built in memory: no file to read again
    with Gate(manifest, MemoryReceiptStore(), git={"branch": "", "commit_before": None, "commit_after": None}) as g:
        with pytest.raises(ValueError, match="pass the path"):
            g.reload()


# -- every kind, signed, verifies ---------------------------------------------------------------------------------


def test_every_kind_in_one_signed_log_verifies(make_gate: Any, write_manifest: Callable[..., Path],
                                               tmp_path: Path) -> None:
    path = write_manifest(FUNCTIONS)
    priv, pub, _ = write_keypair(tmp_path / "gate.key")
    log = tmp_path / "receipts.jsonl"
    gate = make_gate(path, signing_key=priv, checkpoint_every=2)
    approved = gate.check(READ)
    gate.record_outcome(approved, output="text")
    gate.resolve_escalation(gate.check(SHIP, host_approval=True), False, by="alice")
    gate.set_posture("ELEVATED", by="ops")
    gate.restore_posture(by="alice")
    _reseal(path, FUNCTIONS[:-1])
    gate.reload(by="ops")
    gate.close()
    kinds = {r["action"]["operation"] for r in rows(log)}
    assert kinds == {"decision", "outcome", "escalation", "posture", "reload"}
    result = CliRunner().invoke(cli, ["verify", str(log), "--public-key", pub])
    assert result.exit_code == 0, result.output
    assert "1 approvals, 1 denials, 1 outcomes, 1 escalations, 3 posture or reload receipts" in result.output


def test_asyncio_run_of_reload(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    path = write_manifest(FUNCTIONS)
    gate = make_gate(path)
    _reseal(path, FUNCTIONS[:-1])
    receipt = asyncio.run(gate.areload())
    assert receipt.operation == "reload" and gate.manifest.lookup("Deploy", "Ship") is None
