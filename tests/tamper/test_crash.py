"""Crashes: SIGKILL a writing process at random moments, over and over, and lose no approved call's receipt.

A child process reports a receipt id on a pipe only after `check()` returned
approved, so every id the parent read must be a complete line in the log. A
kill cannot tear a small `write` to a regular file, so torn lines (what a
power cut or a full disk leaves) are also made deliberately, and must be
detected at open, named by `spinegate verify` with their line number, and
moved aside by `spinegate recover` so that writing resumes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tamper_support import GIT, read_call

from spinegate import Gate
from spinegate.checkpoint_verify import verify_checkpoints
from spinegate.cli import main
from spinegate.errors import TornLogError
from spinegate.jsonl_store import find_torn_tail
from spinegate.verify import verify_path

KILLS = 24


def _writer(manifest: str, log: str, key: str, fd: int, durability: str) -> None:
    """Child: check calls forever, announcing each approved receipt id on the pipe."""
    gate = Gate.open(manifest, receipts=log, signing_key=key, checkpoint_every=4, durability=durability, git=GIT)
    i = 0
    while True:
        decision = gate.check(read_call(i))
        if decision.approved:
            os.write(fd, (decision.receipt_id + "\n").encode())
        i += 1


def _read_ids(fd: int, want: int) -> list[str]:
    buf = b""
    while buf.count(b"\n") < want:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode().splitlines()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL") or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs fork and SIGKILL")
def test_sigkill_at_random_moments_loses_no_approved_receipt(tmp_path: Path, manifest_path: Path,
                                                             keypair: Any) -> None:
    rng = random.Random(20260501)
    ctx = multiprocessing.get_context("fork")
    log = tmp_path / "crash.jsonl"
    runner = CliRunner()
    announced: set[str] = set()
    torn_made = 0
    rounds_with_receipts = 0
    for round_ in range(KILLS):
        read_fd, write_fd = os.pipe()
        child = ctx.Process(target=_writer, args=(str(manifest_path), str(log), str(keypair[0]), write_fd,
                                                  "fsync" if round_ % 3 == 0 else "flush"))
        child.start()
        os.close(write_fd)
        ids = _read_ids(read_fd, rng.randint(0, 12))
        if rng.random() < 0.5:  # sometimes let it run on a little: the kill lands anywhere in check()
            ids += _read_ids(read_fd, 1)
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        assert child.exitcode == -signal.SIGKILL
        ids += os.read(read_fd, 1 << 20).decode().splitlines()  # anything announced before the kill landed
        os.close(read_fd)
        ids = [i for i in ids if i]
        announced.update(ids)
        rounds_with_receipts += bool(ids)

        # Every approved call's receipt is a complete line in the log.
        if log.exists():
            complete = log.read_bytes()
            torn = find_torn_tail(log)
            if torn is not None:
                complete = complete[:torn]
            in_log = {json.loads(line)["receipt_id"] for line in complete.splitlines()}
            assert announced <= in_log, announced - in_log

        if round_ % 4 == 1:  # what a crash mid-write leaves: a partial receipt, no newline
            with open(log, "ab") as fh:
                fh.write(b'{"action":{"command":null,"description":"interrupted wri')
            torn_made += 1
        offset = find_torn_tail(log) if log.exists() else None
        if offset is not None:
            line_no = log.read_bytes()[:offset].count(b"\n") + 1
            with pytest.raises(TornLogError) as info:  # detected at open: nothing is appended after it
                Gate.open(manifest_path, receipts=log, git=GIT)
            assert info.value.line == line_no
            result = runner.invoke(main, ["verify", str(log)])
            assert result.exit_code == 1 and "TORN_LINE" in result.output and f"{log}:{line_no}" in result.output
            fragment = log.read_bytes()[offset:]
            recovered = runner.invoke(main, ["recover", str(log)])
            assert recovered.exit_code == 0, recovered.output
            side = recovered.output.split(" to ")[1].split(";")[0]
            assert Path(side).read_bytes() == fragment  # moved aside, never deleted
            assert find_torn_tail(log) is None

    assert torn_made == KILLS // 4 and len(announced) > 0
    report = verify_path(log)
    assert report.ok, [str(f) for f in report.failures[:5]]
    signed = verify_checkpoints(log, keypair[1])
    assert signed.ok, [str(f) for f in signed.failures[:5]]
    assert rounds_with_receipts <= report.sessions <= KILLS  # a child killed before its first receipt has none


def test_torn_checkpoint_file_is_detected_and_recovered(tmp_path: Path, manifest_path: Path, keypair: Any) -> None:
    """A crash mid-checkpoint leaves a partial line in the checkpoint file: named, and moved aside."""
    from spinegate.jsonl_store import checkpoint_path_for
    from spinegate.reasons import CHECKPOINT_TORN

    log = tmp_path / "r.jsonl"
    with Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=2, git=GIT) as gate:
        for i in range(4):
            gate.check(read_call(i))
    sidecar = Path(checkpoint_path_for(log))
    with open(sidecar, "ab") as fh:
        fh.write(b'{"count":6,"digest":"ab')
    report = verify_checkpoints(log, keypair[1])
    assert [f.reason for f in report.failures] == [CHECKPOINT_TORN] and report.failures[0].line == 5
    with pytest.raises(TornLogError):
        Gate.open(manifest_path, receipts=log, signing_key=keypair[0], git=GIT)
    result = CliRunner().invoke(main, ["recover", str(log)])
    assert result.exit_code == 0 and f"{sidecar}: moved a torn fragment of 23 bytes" in result.output
    assert verify_checkpoints(log, keypair[1]).ok
    with Gate.open(manifest_path, receipts=log, signing_key=keypair[0], git=GIT) as gate:
        assert gate.check(read_call(9)).approved
    assert verify_checkpoints(log, keypair[1]).ok
