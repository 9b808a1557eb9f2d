"""Witnessing: a log rolled back to an older copy, or missing a whole session, verifies on its own, but
not against its witness.

Each attack here passes `spinegate verify LOG --public-key KEY` (the gap
docs/tamper-evidence.md admitted) and fails with `--witness W`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tamper_support import GIT, Clock, lines, read_call, rechain, write_lines

from spinegate import Gate
from spinegate.cli import main
from spinegate.jsonl_store import checkpoint_path_for
from spinegate.reasons import (
    RECEIPT_WRITE_FAILED,
    WITNESS_MISMATCH,
    WITNESS_ROLLBACK,
    WITNESS_SESSION_MISSING,
    WITNESS_UNREADABLE,
)
from spinegate.witness import FileWitness, witness_log_name


def _verify(*args: str) -> Any:
    return CliRunner().invoke(main, ["verify", *args])


def _sidecar(log: Path) -> Path:
    return Path(checkpoint_path_for(log))


def _gate(manifest: Path, log: Path, key: Path, witness: Path, **kw: Any) -> Gate:
    return Gate.open(manifest, receipts=log, signing_key=key, checkpoint_every=2, witness=witness, clock=Clock(),
                     git=GIT, **kw)


def test_an_honest_log_agrees_with_its_witness(manifest_path: Path, keypair: Any, tmp_path: Path) -> None:
    log, witness = tmp_path / "r.jsonl", tmp_path / "elsewhere" / "w.jsonl"
    witness.parent.mkdir()
    for _ in range(2):
        with _gate(manifest_path, log, keypair[0], witness) as gate:
            for i in range(5):
                assert gate.check(read_call(i)).approved
    assert witness.read_text(encoding="ascii") == _sidecar(log).read_text(encoding="ascii")  # every checkpoint
    result = _verify(str(log), "--witness", str(witness), "--public-key", str(keypair[1]))
    assert result.exit_code == 0, result.output
    assert "2 sessions witnessed" in result.output and "2 reached and matched" in result.output
    assert _verify(str(log), "--witness", str(witness)).exit_code == 0  # without a key: the commitments still


def test_a_log_rolled_back_to_an_older_copy_is_caught(manifest_path: Path, keypair: Any, tmp_path: Path) -> None:
    log, witness, old = tmp_path / "r.jsonl", tmp_path / "w.jsonl", tmp_path / "old"
    gate = _gate(manifest_path, log, keypair[0], witness)
    for i in range(4):
        assert gate.check(read_call(i)).approved
    old.mkdir()
    shutil.copy(log, old / "r.jsonl")
    shutil.copy(_sidecar(log), old / "r.jsonl.checkpoints.jsonl")
    for i in range(4, 9):
        assert gate.check(read_call(i)).approved
    gate.close()
    shutil.copy(old / "r.jsonl", log)  # both files put back: every checkpoint left is genuine
    shutil.copy(old / "r.jsonl.checkpoints.jsonl", _sidecar(log))
    alone = _verify(str(log), "--public-key", str(keypair[1]))
    assert alone.exit_code == 0, alone.output  # the gap: invisible from the two files
    witnessed = _verify(str(log), "--public-key", str(keypair[1]), "--witness", str(witness))
    assert witnessed.exit_code == 1 and WITNESS_ROLLBACK in witnessed.output


def test_a_session_removed_whole_is_caught(manifest_path: Path, keypair: Any, tmp_path: Path) -> None:
    log, witness = tmp_path / "r.jsonl", tmp_path / "w.jsonl"
    sessions = []
    for _ in range(3):
        with _gate(manifest_path, log, keypair[0], witness) as gate:
            for i in range(3):
                gate.check(read_call(i))
            sessions.append(gate.session_id)
    gone = sessions[1]
    write_lines(log, [r for r in lines(log) if r["session_id"] != gone])
    write_lines(_sidecar(log), [c for c in lines(_sidecar(log)) if c["session_id"] != gone])
    assert _verify(str(log), "--public-key", str(keypair[1])).exit_code == 0  # the gap
    result = _verify(str(log), "--public-key", str(keypair[1]), "--witness", str(witness))
    assert result.exit_code == 1 and WITNESS_SESSION_MISSING in result.output and gone in result.output


def test_a_session_removed_before_its_first_receipt_is_caught(manifest_path: Path, keypair: Any,
                                                              tmp_path: Path) -> None:
    """Only the opening checkpoint was witnessed; the session is gone from both files."""
    log, witness = tmp_path / "r.jsonl", tmp_path / "w.jsonl"
    with _gate(manifest_path, log, keypair[0], witness) as gate:
        gate.check(read_call(1))
    opened = _gate(manifest_path, log, keypair[0], witness)  # opens, signs, writes nothing yet
    gone = opened.session_id
    write_lines(_sidecar(log), [c for c in lines(_sidecar(log)) if c["session_id"] != gone])
    result = _verify(str(log), "--witness", str(witness))
    assert result.exit_code == 1 and WITNESS_SESSION_MISSING in result.output
    opened.close()


def test_receipts_rewritten_after_they_were_witnessed_are_caught(manifest_path: Path, keypair: Any,
                                                                 tmp_path: Path) -> None:
    log, witness = tmp_path / "r.jsonl", tmp_path / "w.jsonl"
    with _gate(manifest_path, log, keypair[0], witness) as gate:
        for i in range(4):
            gate.check(read_call(i))
    records = lines(log)
    records[1]["action"]["description"] = "nothing happened"
    write_lines(log, rechain(records))
    assert _verify(str(log)).exit_code == 0  # the chain alone cannot tell
    result = _verify(str(log), "--witness", str(witness))
    assert result.exit_code == 1 and WITNESS_MISMATCH in result.output


def test_witness_lines_that_are_not_checkpoints_or_not_signed_are_named(manifest_path: Path, keypair: Any,
                                                                        other_keypair: Any, tmp_path: Path) -> None:
    log, witness = tmp_path / "r.jsonl", tmp_path / "w.jsonl"
    with _gate(manifest_path, log, keypair[0], witness) as gate:
        gate.check(read_call(1))
    with witness.open("a", encoding="ascii") as fh:
        fh.write("not json\n")
    result = _verify(str(log), "--witness", str(witness))
    assert result.exit_code == 1 and WITNESS_UNREADABLE in result.output
    other_log, other_witness = tmp_path / "o.jsonl", tmp_path / "ow.jsonl"
    with _gate(manifest_path, other_log, other_keypair[0], other_witness) as gate:
        gate.check(read_call(1))
    result = _verify(str(other_log), "--witness", str(other_witness), "--public-key", str(keypair[1]))
    assert result.exit_code == 1 and WITNESS_UNREADABLE in result.output


@pytest.mark.parametrize("kind", ["directory", "symlink"])
def test_a_witness_that_cannot_be_written_denies_the_call(kind: str, manifest_path: Path, keypair: Any,
                                                          tmp_path: Path) -> None:
    log, witness = tmp_path / "r.jsonl", tmp_path / "w.jsonl"
    if kind == "directory":
        witness.mkdir()
    else:
        victim = tmp_path / "victim.txt"
        victim.write_text("precious\n", encoding="ascii")
        witness.symlink_to(victim)
    gate = _gate(manifest_path, log, keypair[0], witness)
    decision = gate.check(read_call(1))
    assert not decision.approved and decision.reason is not None
    assert decision.reason.startswith(RECEIPT_WRITE_FAILED) and "witness" in decision.reason
    assert not gate.check(read_call(2)).approved  # still owed: every call denied until the witness takes it
    with pytest.raises(Exception, match="witness"):
        gate.close()
    if kind == "symlink":
        assert (tmp_path / "victim.txt").read_text(encoding="ascii") == "precious\n"


def test_a_witness_needs_a_signing_key(manifest_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="signing_key"):
        Gate.open(manifest_path, receipts=tmp_path / "r.jsonl", witness=tmp_path / "w.jsonl", git=GIT)


def test_a_witness_object_is_used_as_given_and_closed_with_the_gate(manifest_path: Path, keypair: Any,
                                                                    tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "w.jsonl")
    with Gate.open(manifest_path, receipts=tmp_path / "r.jsonl", signing_key=keypair[0], witness=witness,
                   clock=Clock(), git=GIT) as gate:
        gate.check(read_call(1))
    cps = [json.loads(x) for x in (tmp_path / "w.jsonl").read_text(encoding="ascii").splitlines()]
    assert [c["final"] for c in cps] == [False, True]


def test_witness_log_name_is_this_host_and_the_absolute_path(tmp_path: Path) -> None:
    import socket

    assert witness_log_name(str(tmp_path / "r.jsonl")) == f"{socket.gethostname()}:{tmp_path / 'r.jsonl'}"
    assert witness_log_name("postgresql://u@h:5432/db") == "postgresql://u@h:5432/db"
