"""Red-team suite: an adversary who can write the log and the checkpoint file, but has no private key.

Each test names the attack it models and the reason code `verify_checkpoints`
(or `spinegate verify --public-key`) must report. A few tests pin a documented
limit (docs/tamper-evidence.md, "What is not protected"), so that a change in
what is or is not detected is noticed.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tamper_support import GIT, Clock, lines, read_call, rechain, write_lines

from spinegate import Gate
from spinegate.checkpoint_verify import iter_checkpoints, prove_receipt, verify_checkpoints, verify_receipt_proof
from spinegate.checkpoints import CHECKPOINT_FIELDS as _UNSIGNED_FIELDS
from spinegate.cli import main
from spinegate.errors import ReceiptLogError
from spinegate.jsonl_store import checkpoint_path_for
from spinegate.reasons import (
    CHECKPOINT_CHAIN_BROKEN,
    CHECKPOINT_FILE_INVALID,
    CHECKPOINT_KEY_MISMATCH,
    CHECKPOINT_MALFORMED,
    CHECKPOINT_MISSING,
    CHECKPOINT_SIGNATURE_INVALID,
    RECEIPT_NOT_CANONICAL,
    RECEIPT_REWRITTEN,
    RECEIPTS_DELETED,
    RECEIPTS_INSERTED,
    SESSION_UNSIGNED,
    TAIL_TRUNCATED,
)
from spinegate.verify import verify_path

Build = Callable[..., Path]


def reasons(log: Path, pub: Path, **kw: Any) -> set[str]:
    return {f.reason for f in verify_checkpoints(log, pub, **kw).failures}


def sidecar(log: Path) -> Path:
    return Path(checkpoint_path_for(log))


def session_ids(log: Path) -> list[str]:
    return list(dict.fromkeys(r["session_id"] for r in lines(log)))


# --------------------------------------------------------------------------
# Receipts rewritten, deleted, replayed, fabricated


@pytest.mark.parametrize("position", [0, 4, 9], ids=["first", "middle", "last"])
def test_receipt_rewritten_with_every_hash_recomputed(signed_log: Build, keypair: Any, position: int) -> None:
    """Attack: edit one receipt's content and recompute every hash and link, so the chain is perfect."""
    log = signed_log(10, every=3)
    records = lines(log)
    records[position]["proposal_id"] = "attacker"
    write_lines(log, rechain(records))
    assert verify_path(log).ok  # the chain alone is fooled
    assert RECEIPT_REWRITTEN in reasons(log, keypair[1])


def test_receipts_reordered_within_a_session(signed_log: Build, keypair: Any) -> None:
    """Attack: swap two receipts of a session and renumber and rechain them."""
    log = signed_log(10, every=3)
    records = lines(log)
    records[3], records[4] = records[4], records[3]
    records[3]["sequence_number"], records[4]["sequence_number"] = 4, 5
    write_lines(log, rechain(records))
    assert verify_path(log).ok
    assert RECEIPT_REWRITTEN in reasons(log, keypair[1])


@pytest.mark.parametrize("cut", [slice(0, 2), slice(4, 6)], ids=["at-the-start", "in-the-middle"])
def test_receipts_deleted_and_the_rest_renumbered(signed_log: Build, keypair: Any, cut: slice) -> None:
    """Attack: delete receipts, then renumber and rechain the rest so the chain shows no gap."""
    log = signed_log(10, every=3)
    records = lines(log)
    del records[cut]
    for i, r in enumerate(records, start=1):
        r["sequence_number"] = i
    write_lines(log, rechain(records))
    assert verify_path(log).ok
    # the first checkpoint after the cut no longer matches, and the last one is out of reach
    assert reasons(log, keypair[1]) == {RECEIPT_REWRITTEN, TAIL_TRUNCATED}


def test_first_receipts_deleted_without_renumbering(signed_log: Build, keypair: Any) -> None:
    """Attack: drop the first receipts of a session (the chain reports a broken start too)."""
    log = signed_log(10, every=3)
    write_lines(log, lines(log)[3:])
    assert RECEIPTS_DELETED in reasons(log, keypair[1])


def test_all_receipts_of_a_session_deleted_but_its_checkpoints_kept(signed_log: Build, keypair: Any) -> None:
    """Attack: remove a whole session's receipts from an interleaved log; its checkpoints remain."""
    log = signed_log(6, every=3, sessions=2)
    gone = session_ids(log)[0]
    write_lines(log, [r for r in lines(log) if r["session_id"] != gone])
    assert verify_path(log).ok
    report = verify_checkpoints(log, keypair[1])
    assert {(f.reason, f.session_id) for f in report.failures} == {(TAIL_TRUNCATED, gone)}


def test_replayed_receipt_before_a_checkpoint(signed_log: Build, keypair: Any) -> None:
    """Attack: duplicate (replay) a genuine receipt line inside the signed range."""
    log = signed_log(10, every=3)
    records = lines(log)
    write_lines(log, records[:2] + [records[1]] + records[2:])
    assert RECEIPTS_INSERTED in reasons(log, keypair[1])


@pytest.mark.parametrize("size", [1, 3])
def test_fabricated_session_added_to_the_log(signed_log: Build, keypair: Any, size: int) -> None:
    """Attack: append a whole made-up session (fresh ids, perfect chain) that no checkpoint covers."""
    log = signed_log(6, every=3)
    fake = []
    for r in lines(log)[:size]:
        r = dict(r, session_id="made-up-session", receipt_id=str(uuid.uuid4()))
        fake.append(r)
    write_lines(log, lines(log) + rechain(fake))
    assert verify_path(log).ok  # a well-formed extra session fools the chain
    report = verify_checkpoints(log, keypair[1])
    assert [(f.reason, f.session_id) for f in report.failures] == [(SESSION_UNSIGNED, "made-up-session")]


def test_session_rewritten_and_all_its_checkpoints_deleted(signed_log: Build, keypair: Any) -> None:
    """Attack: rewrite a session of an interleaved log and drop every checkpoint of it."""
    log = signed_log(6, every=3, sessions=2)
    target = session_ids(log)[1]
    records = lines(log)
    for r in records:
        if r["session_id"] == target:
            r["proposal_id"] = "attacker"
    write_lines(log, rechain(records))
    write_lines(sidecar(log), [c for c in lines(sidecar(log)) if c["session_id"] != target])
    report = verify_checkpoints(log, keypair[1])
    assert [(f.reason, f.session_id) for f in report.failures] == [(SESSION_UNSIGNED, target)]


def test_receipt_line_with_a_shadowed_duplicate_key(signed_log: Build, keypair: Any) -> None:
    """Attack: prepend a duplicate key; Python keeps the last value, a first-wins reader sees the forgery."""
    log = signed_log(6, every=3)
    raw = log.read_text(encoding="ascii").splitlines()
    raw[1] = '{"proposal_id":"FORGED",' + raw[1][1:]
    log.write_text("\n".join(raw) + "\n", encoding="ascii")
    report = verify_checkpoints(log, keypair[1])
    assert [(f.reason, f.line) for f in report.failures] == [(RECEIPT_NOT_CANONICAL, 2)]


def test_resume_refuses_to_sign_a_session_whose_checkpoints_were_deleted(
        signed_log: Build, manifest_path: Path, keypair: Any) -> None:
    """Attack: rewrite a session, delete its checkpoints, and wait for the gate to resume and sign it."""
    log = signed_log(6, every=3)
    sid = session_ids(log)[0]
    records = lines(log)
    records[2]["proposal_id"] = "attacker"
    write_lines(log, rechain(records))
    sidecar(log).write_text("", encoding="ascii")
    with pytest.raises(ReceiptLogError, match="no checkpoint"):
        Gate.open(manifest_path, receipts=log, session_id=sid, signing_key=keypair[0], clock=Clock(), git=GIT)
    assert sidecar(log).read_text(encoding="ascii") == ""  # nothing signed over the forgery


def test_session_with_only_its_opening_checkpoint_resumes_and_verifies(signed_log: Build, manifest_path: Path,
                                                                         keypair: Any) -> None:
    """No false alarm: a writer that died before its first periodic checkpoint is resumed and closed."""
    log = signed_log(2, every=3, close=False)
    assert [c["count"] for c in lines(sidecar(log))] == [0]
    sid = session_ids(log)[0]
    with Gate.open(manifest_path, receipts=log, session_id=sid, signing_key=keypair[0], checkpoint_every=3,
                   clock=Clock(), git=GIT) as gate:
        assert gate.check(read_call(7)).approved
    report = verify_checkpoints(log, keypair[1])
    assert report.ok and report.covered_receipts == 3 and report.unclosed == []


def test_gate_closed_without_any_call_leaves_a_closed_empty_session(manifest_path: Path, keypair: Any,
                                                                   tmp_path: Path) -> None:
    log = tmp_path / "idle.jsonl"
    Gate.open(manifest_path, receipts=log, signing_key=keypair[0], clock=Clock(), git=GIT).close()
    assert [(c["count"], c["final"]) for c in lines(sidecar(log))] == [(0, False), (0, True)]
    report = verify_checkpoints(log, keypair[1])
    assert report.ok and report.unclosed == [] and report.verified_checkpoints == 2


# --------------------------------------------------------------------------
# Cutting the tail


def test_tail_cut_before_the_last_checkpoint_of_a_crashed_writer(signed_log: Build, keypair: Any) -> None:
    """Attack: a writer died (no final checkpoint); cut receipts the last checkpoint covers."""
    log = signed_log(10, every=3, close=False)  # checkpoints: opening (0), after receipts 3, 6, 9
    write_lines(log, lines(log)[:8])
    assert TAIL_TRUNCATED in reasons(log, keypair[1])


def test_tail_cut_after_the_last_checkpoint_is_only_chain_protected(signed_log: Build, keypair: Any) -> None:
    """Documented window: receipts after the last checkpoint of an unclosed session can be cut unseen."""
    log = signed_log(10, every=3, close=False)
    write_lines(log, lines(log)[:9])  # receipt 10 followed checkpoint 9
    report = verify_checkpoints(log, keypair[1])
    assert report.ok and report.uncovered == {} and len(report.unclosed) == 1
    assert "without a final checkpoint" in report.summary()


def test_tail_cut_together_with_the_checkpoints_that_covered_it(signed_log: Build, keypair: Any) -> None:
    """Documented limit: cut receipts and every later checkpoint; only the missing final checkpoint shows."""
    log = signed_log(10, every=3)  # checkpoints at 0 (opening), 3, 6, 9, 10 (final)
    write_lines(log, lines(log)[:7])
    write_lines(sidecar(log), lines(sidecar(log))[:3])  # keep 0, 3, 6
    report = verify_checkpoints(log, keypair[1])
    assert report.ok and report.uncovered == {session_ids(log)[0]: 1}
    assert report.unclosed == session_ids(log) and "without a final checkpoint" in report.summary()


# --------------------------------------------------------------------------
# Checkpoints edited, replayed, spliced


@pytest.mark.parametrize("name", sorted(_UNSIGNED_FIELDS))
def test_every_checkpoint_field_is_covered_by_the_signature(signed_log: Build, keypair: Any, name: str) -> None:
    """Attack: change any one field of a checkpoint to another value of the same type."""
    log = signed_log(6, every=3)
    cps = lines(sidecar(log))
    value = cps[1][name]
    if isinstance(value, bool):
        changed: Any = not value
    elif isinstance(value, int):
        changed = value + 1
    elif value is None:
        changed = "0" * 64
    elif name == "type":
        changed = value  # a different type is refused as malformed; see below
    else:
        changed = ("1" if value[:1] != "1" else "2") + value[1:]
    if name in ("type", "version"):
        cps[1][name] = "spinegate.other" if name == "type" else 2
        expected = {CHECKPOINT_MALFORMED}
    else:
        cps[1][name] = changed
        expected = {CHECKPOINT_SIGNATURE_INVALID, CHECKPOINT_KEY_MISMATCH}
    write_lines(sidecar(log), cps)
    assert reasons(log, keypair[1]) & expected


def test_signature_reencoded_with_spare_base64_bits(signed_log: Build, keypair: Any) -> None:
    """Attack: flip the unused low bits of the signature's last base64 character (same 64 bytes decoded)."""
    log = signed_log(6, every=3)
    cps = lines(sidecar(log))
    sig = cps[-1]["signature"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    cps[-1]["signature"] = sig[:85] + alphabet[alphabet.index(sig[85]) ^ 1] + sig[86:]
    assert base64.b64decode(cps[-1]["signature"]) == base64.b64decode(sig)
    write_lines(sidecar(log), cps)
    assert reasons(log, keypair[1]) == {CHECKPOINT_SIGNATURE_INVALID}


def test_signature_made_malleable_by_adding_the_group_order(signed_log: Build, keypair: Any) -> None:
    """Attack: Ed25519 malleability, S replaced by S + L (valid under a lax verifier)."""
    log = signed_log(6, every=3)
    cps = lines(sidecar(log))
    sig = base64.b64decode(cps[-1]["signature"])
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(sig[32:], "little") + order
    cps[-1]["signature"] = base64.b64encode(sig[:32] + s.to_bytes(32, "little")).decode("ascii")
    write_lines(sidecar(log), cps)
    assert reasons(log, keypair[1]) == {CHECKPOINT_SIGNATURE_INVALID}


@pytest.mark.parametrize("spelling", ["duplicate-key", "whitespace", "key-order"])
def test_checkpoint_line_not_in_canonical_form(signed_log: Build, keypair: Any, spelling: str) -> None:
    """Attack: respell a genuine checkpoint line so that readers may disagree on what it says."""
    log = signed_log(6, every=3)
    raw = sidecar(log).read_text(encoding="ascii").splitlines()
    cp = json.loads(raw[0])
    if spelling == "duplicate-key":  # a first-wins reader sees count 999; Python sees the signed 1
        raw[0] = '{"count":999,' + raw[0][1:]
    elif spelling == "whitespace":
        raw[0] = json.dumps(cp, sort_keys=True)
    else:
        raw[0] = json.dumps(dict(reversed(list(cp.items()))), separators=(",", ":"))
    sidecar(log).write_text("\n".join(raw) + "\n", encoding="ascii")
    report = verify_checkpoints(log, keypair[1])
    assert report.failures[0].reason == CHECKPOINT_MALFORMED and report.failures[0].line == 1
    assert report.verified_checkpoints == report.checkpoints - 1


def test_checkpoint_spliced_from_another_log_signed_with_the_same_key(signed_log: Build, keypair: Any) -> None:
    """Attack: add genuine checkpoints of another log (same key) to this log's checkpoint file."""
    log, other = signed_log(6, every=3), signed_log(6, every=3, name="other.jsonl")
    write_lines(sidecar(log), lines(sidecar(log)) + lines(sidecar(other)))
    assert TAIL_TRUNCATED in reasons(log, keypair[1])


def test_checkpoint_of_another_session_moved_into_this_ones_chain(signed_log: Build, keypair: Any) -> None:
    """Attack: replace a session's checkpoint with a same-index one of another session (same key)."""
    log = signed_log(6, every=3, sessions=2)
    cps = lines(sidecar(log))
    a, b = session_ids(log)
    first_a = next(i for i, c in enumerate(cps) if c["session_id"] == a and c["index"] == 2)
    first_b = next(c for c in cps if c["session_id"] == b and c["index"] == 2)
    cps[first_a] = first_b
    write_lines(sidecar(log), cps)
    assert reasons(log, keypair[1]) & {CHECKPOINT_MISSING, CHECKPOINT_CHAIN_BROKEN}


def test_whole_session_spliced_from_another_log_is_not_detected(signed_log: Build, keypair: Any) -> None:
    """Documented limit: a complete genuine session (receipts and checkpoints) moved in from another log."""
    log, other = signed_log(6, every=3), signed_log(6, every=3, name="other.jsonl")
    write_lines(log, lines(log) + lines(other))
    write_lines(sidecar(log), lines(sidecar(log)) + lines(sidecar(other)))
    assert verify_checkpoints(log, keypair[1]).ok


def test_checkpoint_lines_of_different_sessions_swapped_is_harmless(signed_log: Build, keypair: Any) -> None:
    """No false alarm: only the order of a session's own checkpoints matters."""
    log = signed_log(6, every=3, sessions=2)
    cps = lines(sidecar(log))
    cps[0], cps[1] = cps[1], cps[0]
    assert cps[0]["session_id"] != cps[1]["session_id"]
    write_lines(sidecar(log), cps)
    assert verify_checkpoints(log, keypair[1]).ok


def test_checkpoints_of_another_key_relabelled_with_our_key_id(signed_log: Build, keypair: Any,
                                                                other_keypair: Any, tmp_path: Path) -> None:
    """Attack: a log signed by the attacker's own key, with key_id fields set to the real key's id."""
    log = signed_log(6, every=3)
    real_kid = lines(sidecar(log))[0]["key_id"]
    forged = tmp_path / "forged.jsonl"
    with Gate.open(log.parent / "manifest.json", receipts=forged, signing_key=other_keypair[0],
                   checkpoint_every=3, clock=Clock(), git=GIT) as gate:
        for i in range(6):
            gate.check(read_call(i))
    cps = [dict(c, key_id=real_kid) for c in lines(sidecar(forged))]
    write_lines(sidecar(forged), cps)
    assert CHECKPOINT_SIGNATURE_INVALID in reasons(forged, keypair[1])
    assert CHECKPOINT_KEY_MISMATCH in reasons(log, other_keypair[1])


# --------------------------------------------------------------------------
# Files that are not what they seem


def test_checkpoint_file_replaced_by_a_link_to_a_device(signed_log: Build, keypair: Any) -> None:
    """Attack: replace the checkpoint file by a symlink to /dev/zero, which would hang a naive reader."""
    log = signed_log(6, every=3)
    sidecar(log).unlink()
    sidecar(log).symlink_to("/dev/zero")
    assert CHECKPOINT_FILE_INVALID in reasons(log, keypair[1])


def test_checkpoint_path_given_as_a_directory(signed_log: Build, keypair: Any, tmp_path: Path) -> None:
    log = signed_log(6, every=3)
    assert CHECKPOINT_FILE_INVALID in reasons(log, keypair[1], checkpoints_path=tmp_path)


def test_gate_does_not_follow_a_planted_checkpoint_symlink(manifest_path: Path, keypair: Any,
                                                           tmp_path: Path) -> None:
    """Attack: plant <log>.checkpoints.jsonl as a link to a victim file the gate's user may write."""
    log, victim = tmp_path / "r.jsonl", tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="ascii")
    sidecar(log).symlink_to(victim)
    gate = Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=1, clock=Clock(),
                     git=GIT)
    assert not gate.check(read_call(1)).approved  # the receipt is written; the checkpoint cannot be: denied
    with pytest.raises(ReceiptLogError):
        gate.close()  # the final checkpoint cannot be written: the close says so
    assert victim.read_text(encoding="ascii") == "precious\n"


def test_recover_does_not_shorten_a_file_a_planted_symlink_points_at(signed_log: Build, tmp_path: Path) -> None:
    """Attack: link the checkpoint sidecar to a file without a final newline, then wait for `recover`."""
    log = signed_log(3, every=3)
    victim = tmp_path / "victim.cfg"
    victim.write_text("line one\nlast line without newline", encoding="ascii")
    sidecar(log).unlink()
    sidecar(log).symlink_to(victim)
    result = CliRunner().invoke(main, ["recover", str(log)])
    assert result.exit_code == 0 and "symbolic link; not touched" in result.output
    assert victim.read_text(encoding="ascii") == "line one\nlast line without newline"


def test_receipt_log_that_is_a_pipe_refuses_the_call(manifest_path: Path, tmp_path: Path) -> None:
    """Attack: replace the log by a FIFO; the writer must refuse, not block once the pipe is full."""
    fifo = tmp_path / "r.jsonl"
    os.mkfifo(fifo)
    gate = Gate.open(manifest_path, receipts=fifo, clock=Clock(), git=GIT)
    decision = gate.check(read_call(1))
    assert not decision.approved


# --------------------------------------------------------------------------
# Inclusion proofs


def test_hostile_inclusion_proofs_fail_without_crashing(signed_log: Build, keypair: Any) -> None:
    log = signed_log(7, every=3)
    cp = list(iter_checkpoints(sidecar(log)))[-1]
    receipt = lines(log)[3]
    proof = prove_receipt(log, cp, receipt["receipt_id"])
    assert verify_receipt_proof(receipt, proof, cp, keypair[1])
    hostile = [
        {k: v for k, v in proof.items() if k != "audit_path"},
        dict(proof, leaf_index="3"),
        dict(proof, leaf_index=True),
        dict(proof, audit_path=["zz"] * len(proof["audit_path"])),
        dict(proof, audit_path=[p + "00" for p in proof["audit_path"]]),
        dict(proof, leaf_index=4),
    ]
    for bad in hostile:
        assert verify_receipt_proof(receipt, bad, cp, keypair[1]) is False
    assert verify_receipt_proof(dict(receipt, proposal_id="x"), proof, cp, keypair[1]) is False
    assert verify_receipt_proof(dict(receipt, session_id="other"), proof, cp, keypair[1]) is False


# --------------------------------------------------------------------------
# The command line: exit codes, named attacks, key files


@pytest.mark.parametrize("attack,code", [
    ("rewrite", RECEIPT_REWRITTEN), ("cut", TAIL_TRUNCATED), ("fabricate", SESSION_UNSIGNED),
    ("edit-checkpoint", CHECKPOINT_SIGNATURE_INVALID), ("drop-checkpoint", CHECKPOINT_MISSING),
])
def test_cli_names_each_attack_and_exits_1(signed_log: Build, keypair: Any, attack: str, code: str) -> None:
    log = signed_log(10, every=3)
    records, cps = lines(log), lines(sidecar(log))
    if attack == "rewrite":
        records[5]["proposal_id"] = "attacker"
        write_lines(log, rechain(records))
    elif attack == "cut":
        write_lines(log, records[:5])
    elif attack == "fabricate":
        write_lines(log, records + rechain([dict(r, session_id="x", receipt_id=str(uuid.uuid4()))
                                            for r in records[:2]]))
    elif attack == "edit-checkpoint":
        cps[2]["timestamp"] = "2020-01-01T00:00:00.000000Z"
        write_lines(sidecar(log), cps)
    else:
        write_lines(sidecar(log), cps[:1] + cps[2:])
    result = CliRunner().invoke(main, ["verify", str(log), "--public-key", str(keypair[1])])
    assert result.exit_code == 1 and code in result.output, result.output


def test_cli_verify_exit_0_for_an_honest_log(signed_log: Build, keypair: Any) -> None:
    log = signed_log(10, every=3, sessions=2)
    result = CliRunner().invoke(main, ["verify", str(log), "--public-key", str(keypair[1])])
    assert result.exit_code == 0 and "valid" in result.output and "INVALID" not in result.output


@pytest.mark.parametrize("kind", ["private-key", "garbage", "directory", "device", "missing", "huge"])
def test_cli_verify_with_a_bad_public_key_file_exits_2_naming_it(signed_log: Build, keypair: Any,
                                                                  tmp_path: Path, kind: str) -> None:
    log = signed_log(3, every=3)
    key = {"private-key": keypair[0], "directory": tmp_path / "no-keys", "device": Path("/dev/zero"),
           "missing": tmp_path / "nope.pub"}.get(kind, tmp_path / "bad.pub")
    if kind == "directory":  # a directory of trusted keys with none in it
        key.mkdir()
    elif kind == "garbage":
        key.write_bytes(b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    elif kind == "huge":
        key.write_bytes(b"A" * (1 << 20))
    result = CliRunner().invoke(main, ["verify", str(log), "--public-key", str(key)])
    assert result.exit_code == 2, result.output
    assert str(key) in result.output
    if kind == "private-key":
        assert "this is a private key" in result.output


@pytest.mark.parametrize("kind", ["missing", "device"])
def test_cli_verify_of_an_unreadable_log_exits_2(tmp_path: Path, keypair: Any, kind: str) -> None:
    path = tmp_path / "nope.jsonl" if kind == "missing" else Path("/dev/zero")
    result = CliRunner().invoke(main, ["verify", str(path), "--public-key", str(keypair[1])])
    assert result.exit_code == 2 and str(path) in result.output


def test_cli_keygen_owner_only_even_with_a_permissive_umask_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "k"
    old = os.umask(0)
    try:
        result = CliRunner().invoke(main, ["keygen", "--out", str(out)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert (out.stat().st_mode & 0o777) == 0o600
    before = out.read_bytes(), Path(f"{out}.pub").read_bytes()
    again = CliRunner().invoke(main, ["keygen", "--out", str(out)])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    # only the public half exists: still refused, and no private key is left behind
    lonely = tmp_path / "lonely"
    Path(f"{lonely}.pub").write_text("x", encoding="ascii")
    assert CliRunner().invoke(main, ["keygen", "--out", str(lonely)]).exit_code == 2
    assert not lonely.exists()
    # a dangling symlink where the key would go is not followed
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    assert CliRunner().invoke(main, ["keygen", "--out", str(link)]).exit_code == 2
    assert not (tmp_path / "elsewhere").exists()
    assert (out.read_bytes(), Path(f"{out}.pub").read_bytes()) == before


# --------------------------------------------------------------------------
# Several writers


def test_store_opened_while_another_writer_is_mid_line_waits_instead_of_calling_it_torn(tmp_path: Path) -> None:
    """Race: a process opens the log while another holds the lock half-way through a line (not a crash)."""
    import fcntl
    import threading

    from spinegate import JsonlReceiptStore

    log = tmp_path / "r.jsonl"
    log.write_bytes(b'{"a":1}\n')
    outcome: list[object] = []
    with open(log, "ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        other.write(b'{"b":')  # the other writer's line, not yet complete
        other.flush()

        def opener() -> None:
            try:
                outcome.append(JsonlReceiptStore(log))
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                outcome.append(exc)

        thread = threading.Thread(target=opener)
        thread.start()
        thread.join(0.3)
        assert outcome == []  # waiting for the lock, not reading a half-written line
        other.write(b"2}\n")
        other.flush()
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
    thread.join(5)
    assert len(outcome) == 1 and isinstance(outcome[0], JsonlReceiptStore), outcome
    outcome[0].append('{"c":3}')
    outcome[0].close()
    assert log.read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'


def test_cli_verify_of_a_per_session_directory_with_a_public_key_exits_2(tmp_path: Path, keypair: Any) -> None:
    """Signed checkpoints exist for JSONL logs only: a directory with --public-key is a usage error."""
    (tmp_path / "logdir").mkdir()
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "logdir"), "--public-key", str(keypair[1])])
    assert result.exit_code == 2 and "applies to a JSONL log" in result.output


def test_receipts_appended_after_a_sessions_final_checkpoint(signed_log: Build, keypair: Any) -> None:
    """Attack: append well-chained receipts to a closed session (fewer than `every`, so no gap shows)."""
    log = signed_log(4, every=100)
    records = lines(log)
    extra = dict(records[-1], receipt_id=str(uuid.uuid4()), sequence_number=records[-1]["sequence_number"] + 1)
    write_lines(log, rechain(records + [extra]))
    assert verify_path(log).ok
    report = verify_checkpoints(log, keypair[1])
    assert [(f.reason, f.sequence_number) for f in report.failures] == [(RECEIPTS_INSERTED, 5)]


def test_resume_refuses_to_sign_receipts_appended_after_the_final_checkpoint(
        signed_log: Build, manifest_path: Path, keypair: Any) -> None:
    log = signed_log(4, every=100)
    records = lines(log)
    extra = dict(records[-1], receipt_id=str(uuid.uuid4()), sequence_number=5)
    write_lines(log, rechain(records + [extra]))
    with pytest.raises(ReceiptLogError, match="follow its final checkpoint"):
        Gate.open(manifest_path, receipts=log, session_id=records[0]["session_id"], signing_key=keypair[0],
                  clock=Clock(), git=GIT)
