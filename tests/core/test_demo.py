"""The README's first quick-start command runs `samples/demo.py`: it must work and leave a valid log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from core_support import ROOT

from spinegate.verify import verify_path


def test_core_demo_runs_and_its_log_verifies(tmp_path: Path, assert_schema_valid: Any) -> None:
    log = tmp_path / "receipts.jsonl"
    proc = subprocess.run([sys.executable, str(ROOT / "samples" / "demo.py"), "--receipts", str(log)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout and "DENY" in proc.stdout and "ALLOW" in proc.stdout
    lines = log.read_text(encoding="ascii").splitlines()
    assert assert_schema_valid(lines) == len(lines) > 0
    report = verify_path(log)
    assert report.ok and report.approvals > 0 and report.denials > 0 and report.outcomes > 0
    assert {json.loads(x)["session_id"] for x in lines} == {json.loads(lines[0])["session_id"]}
