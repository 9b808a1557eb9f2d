"""The MCP sample runs offline and ends with a verified log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_offline_and_verifies(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "samples" / "mcp_demo.py"), "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo: OK" in done.stdout
    assert "WRITE_OUTSIDE_ALLOWED_ROOTS" in done.stdout and "TOOL_NOT_IN_MANIFEST" in done.stdout
    assert (tmp_path / "workspace" / "plan.txt").read_text() == "the plan\n"
    assert (tmp_path / "pins.json").exists()
