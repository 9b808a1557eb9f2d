"""The Claude Code sample runs offline, without Claude Code, and ends with a verified log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_offline_and_verifies(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "samples" / "claude_code" / "demo.py"), "--workdir",
                           str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo: OK" in done.stdout
    for shown in ("-> allow", "-> deny", "-> ask", "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY", "posture", "valid: "):
        assert shown in done.stdout, shown
    assert (tmp_path / "project" / "notes.txt").exists() is False  # the demo plays the hooks, nothing runs
    assert not (tmp_path / "project" / ".spinegate" / "run" / "helper.sock").exists()  # the helper was stopped
