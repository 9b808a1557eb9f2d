"""The evidence gaps closed for fleets: each test here failed before its fix.

- a checkpoint that cannot be written denies the call, like a receipt;
- `verify --public-key` on a log with nothing signed (no checkpoints, emptied files) fails;
- CRLF line endings and a byte-order mark are warnings naming the line, failures with `--strict`;
- several verification keys, each checkpoint naming its key, and which key signed what.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tamper_support import GIT, Clock, read_call

from spinegate import Gate, ReceiptWriteError
from spinegate.checkpoint_verify import verify_checkpoints
from spinegate.cli import main
from spinegate.jsonl_store import JsonlFile, checkpoint_path_for
from spinegate.reasons import CHECKPOINT_KEY_MISMATCH, NO_CHECKPOINTS, RECEIPT_WRITE_FAILED
from spinegate.verify import verify_path


def _verify(*args: str) -> Any:
    return CliRunner().invoke(main, ["verify", *args])


# --------------------------------------------------------------------------
# A checkpoint that cannot be written denies


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_a_checkpoint_path_that_cannot_be_written_denies_the_call(kind: str, manifest_path: Path, keypair: Any,
                                                                  tmp_path: Path) -> None:
    log, where = tmp_path / "r.jsonl", tmp_path / "checkpoints"
    if kind == "directory":
        where.mkdir()
    elif kind == "fifo":
        os.mkfifo(where)
    else:
        where = Path("/dev/null")
    gate = Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=2, checkpoints=where,
                     clock=Clock(), git=GIT)
    first = gate.check(read_call(1))  # the opening checkpoint is owed: due with the first receipt
    assert not first.approved and first.reason is not None and first.reason.startswith(RECEIPT_WRITE_FAILED)
    assert "checkpoint" in first.reason
    second = gate.check(read_call(2))
    assert not second.approved and second.reason is not None and second.reason.startswith(RECEIPT_WRITE_FAILED)
    assert len(log.read_text(encoding="ascii").splitlines()) == 2  # both receipts on the record, both denied
    with pytest.raises(Exception, match="checkpoint"):
        gate.close()


def test_a_full_disk_under_the_checkpoint_file_denies_until_it_is_written(manifest_path: Path, keypair: Any,
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "r.jsonl"
    gate = Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=2, clock=Clock(),
                     git=GIT)
    assert gate.check(read_call(1)).approved
    sidecar = checkpoint_path_for(log)
    real_write_all = JsonlFile._write_all

    def full(self: JsonlFile, fd: int, data: bytes, start: int) -> None:
        if self.location == sidecar:  # what os.write does on a full disk, for this file only
            raise ReceiptWriteError(f"cannot write the receipt: {os.strerror(errno.ENOSPC)}", path=sidecar)
        real_write_all(self, fd, data, start)

    monkeypatch.setattr(JsonlFile, "_write_all", full)
    due = gate.check(read_call(2))  # the second checkpoint is due now, and the disk is full
    assert not due.approved and due.reason is not None and "No space left" in due.reason
    again = gate.check(read_call(3))  # still owed: every call is denied until it is written
    assert not again.approved
    monkeypatch.undo()
    assert gate.check(read_call(4)).approved  # written at last (covering all four receipts)
    gate.close()
    assert _verify(str(log), "--public-key", str(keypair[1])).exit_code == 0


def test_the_planted_symlink_checkpoint_denies_and_the_victim_is_untouched(manifest_path: Path, keypair: Any,
                                                                          tmp_path: Path) -> None:
    log, victim = tmp_path / "r.jsonl", tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="ascii")
    Path(checkpoint_path_for(log)).symlink_to(victim)
    gate = Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=1, clock=Clock(),
                     git=GIT)
    assert not gate.check(read_call(1)).approved
    assert victim.read_text(encoding="ascii") == "precious\n"


# --------------------------------------------------------------------------
# verify --public-key with nothing signed


def test_verify_with_a_key_fails_on_an_emptied_log_and_checkpoint_file(signed_log: Any, keypair: Any) -> None:
    log = signed_log(4, every=2)
    log.write_bytes(b"")
    Path(checkpoint_path_for(log)).write_bytes(b"")
    result = _verify(str(log), "--public-key", str(keypair[1]))
    assert result.exit_code == 1, result.output
    assert NO_CHECKPOINTS in result.output


def test_verify_with_a_key_fails_on_an_unsigned_log(manifest_path: Path, keypair: Any, tmp_path: Path) -> None:
    log = tmp_path / "unsigned.jsonl"
    with Gate.open(manifest_path, receipts=log, clock=Clock(), git=GIT) as gate:
        gate.check(read_call(1))
    assert _verify(str(log), "--public-key", str(keypair[1])).exit_code == 1
    Path(checkpoint_path_for(log)).write_bytes(b"")  # an empty checkpoint file next to it
    result = _verify(str(log), "--public-key", str(keypair[1]))
    assert result.exit_code == 1 and NO_CHECKPOINTS in result.output


def test_an_empty_signed_session_still_verifies(manifest_path: Path, keypair: Any, tmp_path: Path) -> None:
    """A gate opened and closed without a call wrote its opening and final checkpoints: signed, and valid."""
    log = tmp_path / "r.jsonl"
    Gate.open(manifest_path, receipts=log, signing_key=keypair[0], clock=Clock(), git=GIT).close()
    assert _verify(str(log), "--public-key", str(keypair[1])).exit_code == 0


# --------------------------------------------------------------------------
# CRLF and a byte-order mark: warnings, failures with --strict


def test_crlf_lines_are_warnings_naming_each_line(signed_log: Any, keypair: Any) -> None:
    log = signed_log(3, every=2)
    log.write_bytes(log.read_bytes().replace(b"\n", b"\r\n"))
    report = verify_path(log)
    assert report.ok and report.receipts == 3
    assert [(w.reason, w.line) for w in report.warnings] == [("LINE_ENDS_CRLF", n) for n in (1, 2, 3)]
    result = _verify(str(log), "--public-key", str(keypair[1]))
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and f"{log}:2" in result.output and "LINE_ENDS_CRLF" in result.output
    strict = _verify(str(log), "--public-key", str(keypair[1]), "--strict")
    assert strict.exit_code == 1 and "LINE_ENDS_CRLF" in strict.output


def test_a_byte_order_mark_is_a_warning_and_the_receipts_still_verify(signed_log: Any, keypair: Any) -> None:
    log = signed_log(3, every=2)
    log.write_bytes(b"\xef\xbb\xbf" + log.read_bytes())
    report = verify_path(log)
    assert report.ok and report.receipts == 3, report.failures
    assert [(w.reason, w.line) for w in report.warnings] == [("BYTE_ORDER_MARK", 1)]
    result = _verify(str(log), "--public-key", str(keypair[1]))
    assert result.exit_code == 0, result.output
    assert "BYTE_ORDER_MARK" in result.output
    assert _verify(str(log), "--strict").exit_code == 1


def test_a_byte_order_mark_in_the_middle_is_still_a_failure(signed_log: Any) -> None:
    log = signed_log(3, every=2)
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + b"\xef\xbb\xbf" + b"".join(lines[1:]))
    assert not verify_path(log).ok


def test_warnings_in_json_output(signed_log: Any) -> None:
    log = signed_log(2, every=2)
    log.write_bytes(log.read_bytes().replace(b"\n", b"\r\n"))
    doc = json.loads(_verify(str(log), "--json").output)
    assert doc["valid"] is True and doc["warning_count"] == 2
    assert doc["warnings"][0]["reason"] == "LINE_ENDS_CRLF" and doc["warnings"][0]["line"] == 1


# --------------------------------------------------------------------------
# Several keys


def _log_signed_by(manifest_path: Path, log: Path, keys: list[Path]) -> list[str]:
    """One session per key in one log; returns the session ids."""
    sessions = []
    for key in keys:
        with Gate.open(manifest_path, receipts=log, signing_key=key, checkpoint_every=2, clock=Clock(),
                       git=GIT) as gate:
            for i in range(3):
                gate.check(read_call(i))
            sessions.append(gate.session_id)
    return sessions


def test_several_keys_repeat_the_option_and_each_key_is_named(manifest_path: Path, keypair: Any,
                                                               other_keypair: Any, tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    old, new = _log_signed_by(manifest_path, log, [keypair[0], other_keypair[0]])
    assert _verify(str(log), "--public-key", str(keypair[1])).exit_code == 1  # the new key's session: unknown
    result = _verify(str(log), "--public-key", str(keypair[1]), "--public-key", str(other_keypair[1]))
    assert result.exit_code == 0, result.output
    report = verify_checkpoints(log, [keypair[1], other_keypair[1]])
    assert report.ok
    by_key = {kid: sorted(signed.sessions) for kid, signed in report.signed_by.items()}
    kid_old = json.loads(Path(checkpoint_path_for(log)).read_text(encoding="ascii").splitlines()[0])["key_id"]
    assert by_key[kid_old] == [old] and sorted(by_key) == sorted(report.key_ids)
    assert [s for k, s in by_key.items() if k != kid_old] == [[new]]
    doc = json.loads(_verify(str(log), "--json", "--public-key", str(keypair[1]), "--public-key",
                             str(other_keypair[1])).output)
    assert {k: v["sessions"] for k, v in doc["checkpoints"]["keys"].items()} == {kid_old: 1,
                                                                                 report.key_ids[1]: 1}


def test_several_keys_from_a_directory(manifest_path: Path, keypair: Any, other_keypair: Any,
                                       tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    _log_signed_by(manifest_path, log, [keypair[0], other_keypair[0]])
    keys = tmp_path / "trusted"
    keys.mkdir()
    for pub in (keypair[1], other_keypair[1]):
        (keys / pub.name).write_bytes(pub.read_bytes())
    (keys / "README").write_text("not a key, not read\n", encoding="ascii")
    result = _verify(str(log), "--public-key", str(keys))
    assert result.exit_code == 0, result.output
    assert result.output.count("key ") >= 2
    empty = tmp_path / "empty-keys"
    empty.mkdir()
    assert _verify(str(log), "--public-key", str(empty)).exit_code == 2


def test_a_session_whose_checkpoints_change_key_is_named(manifest_path: Path, keypair: Any, other_keypair: Any,
                                                         tmp_path: Path) -> None:
    """Both keys trusted, yet one session signed by two: a retired key used to extend another key's session."""
    log = tmp_path / "r.jsonl"
    (sid,) = _log_signed_by(manifest_path, log, [keypair[0]])
    sidecar = Path(checkpoint_path_for(log))
    lines = sidecar.read_text(encoding="ascii").splitlines()
    other = tmp_path / "other.jsonl"
    (other_sid,) = _log_signed_by(manifest_path, other, [other_keypair[0]])
    foreign = [json.loads(x) for x in Path(checkpoint_path_for(other)).read_text(encoding="ascii").splitlines()]
    # Re-sign the other key's last checkpoint as if it belonged to this session.
    from spinegate.canonical import canonical_json
    from spinegate.checkpoints import sign_checkpoint
    from spinegate.keys import load_private_key

    cp = dict(foreign[-1], session_id=sid, index=len(lines) + 1)
    cp.pop("signature")
    sidecar.write_text("\n".join(lines + [canonical_json(sign_checkpoint(load_private_key(other_keypair[0]), cp))])
                       + "\n", encoding="ascii")
    report = verify_checkpoints(log, [keypair[1], other_keypair[1]])
    assert CHECKPOINT_KEY_MISMATCH in {f.reason for f in report.failures}
    assert other_sid != sid


def test_checkpoints_name_their_key_id(signed_log: Any, keypair: Any) -> None:
    from spinegate.keys import key_id, load_public_key

    log = signed_log(2, every=2)
    kids = {json.loads(x)["key_id"] for x in Path(checkpoint_path_for(log)).read_text(encoding="ascii").splitlines()}
    assert kids == {key_id(load_public_key(keypair[1]))}
