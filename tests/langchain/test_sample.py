"""The LangChain sample runs without an API key and ends with a verified log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_offline_and_verifies(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    done = subprocess.run([sys.executable, str(ROOT / "samples" / "langchain_demo.py"), "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in done.stdout
    assert "demo: OK" in done.stdout
    assert (tmp_path / "scripted" / "notes.txt").exists()
    assert (tmp_path / "scripted" / "receipts.jsonl").stat().st_size > 0
