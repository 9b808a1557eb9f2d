"""Signed checkpoints: every attack the issue lists is detected and named; the honest log verifies.

Each tamper test first shows that the v1.0.0 chain alone is fooled (or not),
then that the checkpoint verification names the attack with its stable code.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tamper_support import GIT, Clock, lines, read_call, rechain, write_lines

from spinegate import Gate
from spinegate.canonical import canonical_json
from spinegate.checkpoint_verify import iter_checkpoints, verify_checkpoints
from spinegate.checkpoints import checkpoint_hash, sign_checkpoint
from spinegate.cli import main
from spinegate.errors import KeyFileError, ReceiptLogError
from spinegate.jsonl_store import checkpoint_path_for
from spinegate.keys import load_private_key
from spinegate.reasons import (
    CHECKPOINT_CHAIN_BROKEN,
    CHECKPOINT_FILE_MISSING,
    CHECKPOINT_KEY_MISMATCH,
    CHECKPOINT_MISSING,
    CHECKPOINT_REORDERED,
    CHECKPOINT_SIGNATURE_INVALID,
    NO_CHECKPOINTS,
    RECEIPT_REWRITTEN,
    RECEIPTS_DELETED,
    RECEIPTS_INSERTED,
    TAIL_TRUNCATED,
)
from spinegate.verify import verify_path


def codes(report: Any) -> set[str]:
    return {f.reason for f in report.failures}


def checkpoints_of(log: Path) -> list[dict[str, Any]]:
    return list(iter_checkpoints(checkpoint_path_for(log)))


def write_checkpoints(log: Path, cps: list[dict[str, Any]]) -> None:
    Path(checkpoint_path_for(log)).write_text("".join(canonical_json(c) + "\n" for c in cps), encoding="ascii")


# -- the honest log ------------------------------------------------------------------


def test_honest_log_with_interleaved_sessions_verifies(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(10, every=3, sessions=2)
    assert verify_path(log).ok
    report = verify_checkpoints(log, keypair[1])
    assert report.ok, [str(f) for f in report.failures]
    assert report.sessions == 2
    assert report.covered_receipts == 20  # close() checkpointed the tail
    assert report.uncovered == {} and report.unclosed == []
    cps = checkpoints_of(log)
    # the opening one (before any receipt), every 3 receipts (3, 6, 9), and the final one on close, per session
    assert sorted(c["sequence_number"] for c in cps) == [0, 0, 3, 3, 6, 6, 9, 9, 10, 10]
    assert [c["final"] for c in cps].count(True) == 2


def test_close_is_idempotent_and_context_manager_checkpoints(manifest_path: Path, keypair: Any,
                                                             tmp_path: Path) -> None:
    log = tmp_path / "cm.jsonl"
    with Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=100,
                   clock=Clock(), git=GIT) as gate:
        gate.check(read_call(1))
        gate.check(read_call(2))
    gate.close()
    cps = checkpoints_of(log)
    # the opening checkpoint (before the first receipt), then the final one
    assert [(c["count"], c["final"]) for c in cps] == [(0, False), (2, True)]
    assert verify_checkpoints(log, keypair[1]).ok


def test_resumed_session_continues_the_checkpoint_chain(signed_log: Callable[..., Path], manifest_path: Path,
                                                        keypair: Any) -> None:
    log = signed_log(4, every=3)
    sid = lines(log)[0]["session_id"]
    with Gate.open(manifest_path, receipts=log, session_id=sid, signing_key=keypair[0], checkpoint_every=3,
                   clock=Clock(), git=GIT) as gate:
        for i in range(4):
            gate.check(read_call(i))
    cps = checkpoints_of(log)
    # opening (0), 3, 4 (final); then the reopening one (4), 7, 8 (final)
    assert [(c["index"], c["count"], c["final"]) for c in cps] == [
        (1, 0, False), (2, 3, False), (3, 4, True), (4, 4, False), (5, 7, False), (6, 8, True)]
    assert cps[-1]["count"] == 8 and cps[3]["previous_checkpoint"] == checkpoint_hash(cps[2])
    assert verify_path(log).ok and verify_checkpoints(log, keypair[1]).ok


def test_resume_refuses_to_sign_over_a_rewritten_log(signed_log: Callable[..., Path], manifest_path: Path,
                                                     keypair: Any) -> None:
    log = signed_log(6, every=3)
    records = lines(log)
    records[1]["action"]["description"] = "nothing to see here"
    write_lines(log, rechain(records))
    with pytest.raises(ReceiptLogError, match="no longer match"):
        Gate.open(manifest_path, receipts=log, session_id=records[0]["session_id"], signing_key=keypair[0],
                  clock=Clock(), git=GIT)


# -- receipts ------------------------------------------------------------------------


@pytest.mark.parametrize("field,value", [
    ("proposal_id", "forged"),
    ("timestamp", "2020-01-01T00:00:00.000000+00:00"),
    ("action.tool", "Files.Delete"),
    ("result.status", "blocked"),
    ("budget_snapshot.steps_used", 0),
])
def test_rewritten_receipt_with_recomputed_hashes_is_named(signed_log: Callable[..., Path], keypair: Any,
                                                           field: str, value: Any) -> None:
    log = signed_log(9, every=3)
    records = lines(log)
    target = records[4]  # sequence 5, between checkpoints 1 (seq 3) and 2 (seq 6)
    obj = target
    *parents, leaf = field.split(".")
    for p in parents:
        obj = obj[p]
    obj[leaf] = value
    write_lines(log, rechain(records))
    assert verify_path(log).ok  # the v1.0.0 chain alone is fooled
    report = verify_checkpoints(log, keypair[1])
    assert codes(report) == {RECEIPT_REWRITTEN}
    assert report.failures[0].sequence_number == 6 and "4..6" in report.failures[0].detail


def test_rewritten_first_receipt_link_is_caught(signed_log: Callable[..., Path], keypair: Any) -> None:
    """Only the link (previous_receipt_hash) changes: the leaf covers it, so the commitment breaks."""
    log = signed_log(3, every=3)
    records = lines(log)
    records[0]["previous_receipt_hash"] = "0" * 64  # content hash unchanged
    write_lines(log, records)
    assert RECEIPT_REWRITTEN in codes(verify_checkpoints(log, keypair[1]))


def test_receipt_deleted_in_the_middle_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    records = lines(log)
    del records[3]  # sequence 4
    write_lines(log, records)
    report = verify_checkpoints(log, keypair[1])
    assert RECEIPTS_DELETED in codes(report)
    assert report.failures[0].sequence_number == 6


def test_receipt_deleted_and_chain_renumbered_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    records = lines(log)
    del records[3]
    for i, r in enumerate(records, start=1):
        r["sequence_number"] = i
    write_lines(log, rechain(records))
    assert verify_path(log).ok  # a perfect v1.0.0 chain
    assert {RECEIPT_REWRITTEN, TAIL_TRUNCATED} <= codes(verify_checkpoints(log, keypair[1]))


def test_checkpointed_receipt_deleted_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    records = lines(log)
    del records[5]  # sequence 6, the one checkpoint 2 ends at
    write_lines(log, records)
    report = verify_checkpoints(log, keypair[1])
    assert RECEIPTS_DELETED in codes(report)
    assert any(f.sequence_number == 6 for f in report.failures)


def test_receipt_inserted_before_a_checkpoint_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(6, every=3)
    records = lines(log)
    extra = json.loads(json.dumps(records[1]))
    extra["receipt_id"] = "00000000-0000-4000-8000-000000000000"
    records.insert(2, extra)
    for i, r in enumerate(records, start=1):
        r["sequence_number"] = i
    write_lines(log, rechain(records[:3]) + records[3:])
    assert {RECEIPT_REWRITTEN, RECEIPTS_INSERTED} & codes(verify_checkpoints(log, keypair[1]))


@pytest.mark.parametrize("keep", [9, 8, 5, 0])
def test_tail_cut_at_or_before_the_last_checkpoint_is_named(signed_log: Callable[..., Path], keypair: Any,
                                                            keep: int) -> None:
    log = signed_log(10, every=3)  # checkpoints at 3, 6, 9 and (close) 10
    write_lines(log, lines(log)[:keep])
    assert verify_path(log).ok  # a shorter chain is still a chain
    report = verify_checkpoints(log, keypair[1])
    assert TAIL_TRUNCATED in codes(report)
    failure = next(f for f in report.failures if f.reason == TAIL_TRUNCATED)
    assert failure.sequence_number == 10


def test_receipts_after_the_last_checkpoint_are_only_chain_protected(
        signed_log: Callable[..., Path], keypair: Any) -> None:
    """The documented window: a writer that died before close() leaves a tail no checkpoint covers."""
    log = signed_log(5, every=3, close=False)  # checkpoint at 3; 4 and 5 uncovered
    report = verify_checkpoints(log, keypair[1])
    assert report.ok and report.uncovered == {lines(log)[0]["session_id"]: 2}
    assert "protected by the chain only" in report.summary()
    write_lines(log, lines(log)[:3])  # cutting the uncovered tail goes unnoticed...
    assert verify_checkpoints(log, keypair[1]).ok


def test_checkpoint_every_receipt_closes_the_window(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(5, every=1, close=False)
    write_lines(log, lines(log)[:4])
    assert TAIL_TRUNCATED in codes(verify_checkpoints(log, keypair[1]))


# -- checkpoints ---------------------------------------------------------------------


def test_edited_checkpoint_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    cps = checkpoints_of(log)
    cps[1]["count"] = 5
    write_checkpoints(log, cps)
    report = verify_checkpoints(log, keypair[1])
    assert CHECKPOINT_SIGNATURE_INVALID in codes(report)
    assert report.failures[0].line == 2


def test_forged_checkpoint_signed_with_another_key_is_named(signed_log: Callable[..., Path], keypair: Any,
                                                            other_keypair: Any) -> None:
    """An attacker rewrites a receipt and re-signs the checkpoints with a key of their own."""
    log = signed_log(6, every=3)
    records = lines(log)
    records[0]["proposal_id"] = "forged"
    write_lines(log, rechain(records))
    other = load_private_key(other_keypair[0])
    honest = checkpoints_of(log)
    # Forgery 1: claims the real key id, signed with the attacker's key.
    forged = [sign_checkpoint(other, {k: v for k, v in c.items() if k != "signature"}) for c in honest]
    write_checkpoints(log, forged)
    assert codes(verify_checkpoints(log, keypair[1])) >= {CHECKPOINT_SIGNATURE_INVALID}
    # Forgery 2: honest about its own key id.
    from spinegate.keys import key_id

    forged = [sign_checkpoint(other, {**{k: v for k, v in c.items() if k != "signature"},
                                      "key_id": key_id(other.public_key())}) for c in honest]
    write_checkpoints(log, forged)
    assert CHECKPOINT_KEY_MISMATCH in codes(verify_checkpoints(log, keypair[1]))


def test_wrong_public_key_is_named(signed_log: Callable[..., Path], other_keypair: Any) -> None:
    log = signed_log(6, every=3)
    report = verify_checkpoints(log, other_keypair[1])
    assert codes(report) == {CHECKPOINT_KEY_MISMATCH}
    assert report.verified_checkpoints == 0


def test_reordered_checkpoints_are_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    cps = checkpoints_of(log)
    cps[0], cps[1] = cps[1], cps[0]
    write_checkpoints(log, cps)
    assert codes(verify_checkpoints(log, keypair[1])) == {CHECKPOINT_REORDERED}


def test_duplicated_checkpoint_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    cps = checkpoints_of(log)
    write_checkpoints(log, cps + [cps[1]])
    assert CHECKPOINT_CHAIN_BROKEN in codes(verify_checkpoints(log, keypair[1]))


def test_deleted_first_checkpoint_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    write_checkpoints(log, checkpoints_of(log)[1:])
    report = verify_checkpoints(log, keypair[1])
    assert codes(report) == {CHECKPOINT_MISSING} and "checkpoint 1 of" in report.failures[0].detail


def test_deleted_middle_checkpoint_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(9, every=3)
    cps = checkpoints_of(log)
    del cps[1]
    write_checkpoints(log, cps)
    report = verify_checkpoints(log, keypair[1])
    assert codes(report) == {CHECKPOINT_MISSING}
    assert "checkpoint 2 of the session is missing" in report.failures[0].detail


def test_deleted_trailing_checkpoints_are_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    """Dropping the last checkpoints leaves more uncovered receipts than the signed interval allows."""
    log = signed_log(9, every=3)
    write_checkpoints(log, checkpoints_of(log)[:1])  # keep only the one at sequence 3
    assert CHECKPOINT_MISSING in codes(verify_checkpoints(log, keypair[1]))


def test_checkpoint_chain_link_is_checked(signed_log: Callable[..., Path], keypair: Any) -> None:
    """A validly signed checkpoint spliced in from another chain (same index) breaks the link."""
    log_a = signed_log(6, every=3, name="a.jsonl")
    log_b = signed_log(6, every=3, name="b.jsonl")
    cps_a, cps_b = checkpoints_of(log_a), checkpoints_of(log_b)
    spliced = dict(cps_b[1], session_id=cps_a[1]["session_id"])
    write_checkpoints(log_a, [cps_a[0], spliced] + cps_a[2:])
    assert CHECKPOINT_SIGNATURE_INVALID in codes(verify_checkpoints(log_a, keypair[1]))
    # Re-signed by the key holder but pointing at the wrong predecessor:
    key = load_private_key(keypair[0])
    bad = sign_checkpoint(key, {**{k: v for k, v in cps_a[1].items() if k != "signature"},
                                "previous_checkpoint": "0" * 64})
    write_checkpoints(log_a, [cps_a[0], bad] + cps_a[2:])
    assert codes(verify_checkpoints(log_a, keypair[1])) == {CHECKPOINT_CHAIN_BROKEN}


def test_missing_checkpoint_file_is_named(signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(3, every=3)
    os.unlink(checkpoint_path_for(log))
    assert codes(verify_checkpoints(log, keypair[1])) == {CHECKPOINT_FILE_MISSING}
    Path(checkpoint_path_for(log)).write_text("", encoding="ascii")
    assert codes(verify_checkpoints(log, keypair[1])) == {NO_CHECKPOINTS}


# -- keys and the command line ----------------------------------------------------------


def test_keygen_creates_owner_only_key_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "gate.key"
    result = runner.invoke(main, ["keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.with_name("gate.key.pub").exists()
    before = out.read_bytes()
    again = runner.invoke(main, ["keygen", "--out", str(out)])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    assert out.read_bytes() == before


def test_group_readable_private_key_is_refused(keypair: Any) -> None:
    os.chmod(keypair[0], 0o640)
    with pytest.raises(KeyFileError, match="readable by other users"):
        load_private_key(keypair[0])


def test_cli_verify_with_public_key(signed_log: Callable[..., Path], keypair: Any, other_keypair: Any) -> None:
    runner = CliRunner()
    log = signed_log(6, every=3)
    ok = runner.invoke(main, ["verify", str(log), "--public-key", str(keypair[1])])
    assert ok.exit_code == 0, ok.output
    assert "4 of 4 checkpoints verify" in ok.output
    wrong = runner.invoke(main, ["verify", str(log), "--public-key", str(other_keypair[1])])
    assert wrong.exit_code == 1 and CHECKPOINT_KEY_MISMATCH in wrong.output
    records = lines(log)
    records[2]["proposal_id"] = "forged"
    write_lines(log, rechain(records))
    plain = runner.invoke(main, ["verify", str(log)])
    assert plain.exit_code == 0  # without the key, the rewrite is invisible
    assert "pass --public-key" in plain.output
    signed = runner.invoke(main, ["verify", str(log), "--public-key", str(keypair[1]), "--json"])
    assert signed.exit_code == 1
    doc = json.loads(signed.output)
    assert doc["valid"] is False and [f["reason"] for f in doc["failures"]] == [RECEIPT_REWRITTEN]
    missing = runner.invoke(main, ["verify", str(log), "--public-key", str(log.parent / "nope.pub")])
    assert missing.exit_code == 2


def test_hostile_checkpoint_lines_are_named_not_crashed(signed_log: Callable[..., Path], keypair: Any) -> None:
    """Lines built to crash a parser (deep nesting, wrong types) are reported as malformed."""
    log = signed_log(3, every=3)
    sidecar = Path(checkpoint_path_for(log))
    with open(sidecar, "a", encoding="ascii") as fh:
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
        fh.write('{"type":"spinegate.checkpoint","index":"1"}\n')
        fh.write("[]\n")
    report = verify_checkpoints(log, keypair[1])
    assert [f.reason for f in report.failures] == ["CHECKPOINT_MALFORMED"] * 3
    with open(log, "a", encoding="ascii") as fh:  # and in the log itself
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
    assert {f.reason for f in verify_checkpoints(log, keypair[1]).failures} == {"CHECKPOINT_MALFORMED"}


def test_resume_with_another_key_or_a_forged_checkpoint_is_refused(
        signed_log: Callable[..., Path], manifest_path: Path, keypair: Any, other_keypair: Any) -> None:
    log = signed_log(4, every=2)
    sid = lines(log)[0]["session_id"]
    with pytest.raises(ReceiptLogError, match="does not verify under this signing key"):
        Gate.open(manifest_path, receipts=log, session_id=sid, signing_key=other_keypair[0], clock=Clock(), git=GIT)
    cps = checkpoints_of(log)
    cps[-1]["count"] = 99  # edited: the signature no longer matches
    write_checkpoints(log, cps)
    with pytest.raises(ReceiptLogError, match="does not verify under this signing key"):
        Gate.open(manifest_path, receipts=log, session_id=sid, signing_key=keypair[0], clock=Clock(), git=GIT)


def test_resume_after_the_tail_was_cut_is_refused(signed_log: Callable[..., Path], manifest_path: Path,
                                                  keypair: Any) -> None:
    log = signed_log(6, every=3)
    write_lines(log, lines(log)[:4])
    with pytest.raises(ReceiptLogError, match="ends before its last checkpoint"):
        Gate.open(manifest_path, receipts=log, session_id=lines(log)[0]["session_id"], signing_key=keypair[0],
                  clock=Clock(), git=GIT)
