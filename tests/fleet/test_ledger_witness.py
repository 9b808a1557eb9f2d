"""The ledger as the witness of local logs: `witness="postgresql://..."`, `verify LOG --witness postgresql://...`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fleet_support import GIT, cli, read_call, rows

from spinegate import Gate
from spinegate.jsonl_store import checkpoint_path_for
from spinegate.witness import witness_log_name


def test_a_local_log_rolled_back_behind_its_ledger_witness_is_caught(manifest_path: Path, ledger: str,
                                                                      keypair: Any, tmp_path: Path) -> None:
    log = tmp_path / "local.jsonl"
    sidecar = Path(checkpoint_path_for(log))
    gate = Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=2, witness=ledger,
                     git=GIT)
    for i in range(3):
        assert gate.check(read_call(i)).approved
    saved = log.read_bytes(), sidecar.read_bytes()
    for i in range(3, 8):
        assert gate.check(read_call(i)).approved
    gate.close()
    names = rows(ledger, "witness", "log_name, checkpoint_index")
    assert {n for n, _ in names} == {witness_log_name(str(log))} and len(names) == 6
    honest = cli("verify", str(log), "--witness", ledger, "--public-key", str(keypair[1]))
    assert honest.exit_code == 0, honest.output
    log.write_bytes(saved[0])
    sidecar.write_bytes(saved[1])
    assert cli("verify", str(log), "--public-key", str(keypair[1])).exit_code == 0  # alone, it looks fine
    rolled = cli("verify", str(log), "--witness", ledger)
    assert rolled.exit_code == 1 and "WITNESS_ROLLBACK" in rolled.output
    copy = tmp_path / "copy.jsonl"  # verified elsewhere: name the log as the gate did
    shutil.copy(log, copy)
    shutil.copy(sidecar, checkpoint_path_for(copy))
    named = cli("verify", str(copy), "--witness", ledger, "--witness-log", witness_log_name(str(log)))
    assert named.exit_code == 1 and "WITNESS_ROLLBACK" in named.output
