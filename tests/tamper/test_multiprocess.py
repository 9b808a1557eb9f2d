"""Several processes, one log: four writers of 500 receipts each, coordinated by flock on the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

from spinegate.checkpoint_verify import verify_checkpoints
from spinegate.verify import verify_path

PROCESSES, RECEIPTS = 4, 500

WRITER = r"""
import os, sys, time
from spinegate import Gate, ToolCall
manifest, log, key, go, durability = sys.argv[1:6]
gate = Gate.open(manifest, receipts=log, signing_key=key, checkpoint_every=50, durability=durability,
                 git={"branch": "main", "commit_before": None, "commit_after": None})
while not os.path.exists(go):  # start together, so the writers really contend for the lock
    time.sleep(0.001)
for i in range(int(sys.argv[6])):
    d = gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": f"{os.getpid()}-{i}"}))
    assert d.approved, d.reason
gate.close()
print(gate.session_id)
"""


def test_four_processes_share_one_log_without_interleaving(tmp_path: Path, manifest_path: Path,
                                                            keypair: Any) -> None:
    log, go = tmp_path / "shared.jsonl", tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(manifest_path), str(log), str(keypair[0]), str(go),
                               "fsync" if n == 0 else "flush", str(RECEIPTS)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for n in range(PROCESSES)]
    go.touch()
    sessions = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        sessions.append(out.strip())

    raw = log.read_bytes()
    assert raw.endswith(b"\n")
    rows = [json.loads(line) for line in raw.splitlines()]  # every line is one whole receipt
    assert len(rows) == PROCESSES * RECEIPTS
    assert Counter(r["session_id"] for r in rows) == dict.fromkeys(sessions, RECEIPTS)
    # The writers really interleaved (at line granularity), or the test proves nothing about the lock.
    switches = sum(1 for a, b in pairwise(rows) if a["session_id"] != b["session_id"])
    assert switches >= PROCESSES - 1
    report = verify_path(log)
    assert report.ok, [str(f) for f in report.failures[:5]]
    assert report.sessions == PROCESSES and report.receipts == PROCESSES * RECEIPTS
    signed = verify_checkpoints(log, keypair[1])
    assert signed.ok, [str(f) for f in signed.failures[:5]]
    # per process: the opening checkpoint, one every 50 of 500 receipts, the final one
    assert signed.covered_receipts == PROCESSES * RECEIPTS and signed.verified_checkpoints == PROCESSES * 12
