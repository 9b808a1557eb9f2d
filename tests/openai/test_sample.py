"""samples/openai_demo.py runs offline (a local server plays the model) and ends with a verified log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from spinegate import verify_path

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_without_an_api_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    log = tmp_path / "demo.jsonl"
    done = subprocess.run([sys.executable, str(REPO / "samples" / "openai_demo.py"), "--receipts", str(log)],
                          capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "-> VALID" in done.stdout
    assert done.stdout.count("REFUSED delete_file") == 2
    assert done.stdout.count("INVALID_ARGUMENTS_JSON") >= 2
    report = verify_path(log)
    assert report.ok and report.denials == 4 and report.outcomes == 2
    cli = subprocess.run([str(Path(sys.executable).parent / "spinegate"), "verify", str(log)],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stdout + cli.stderr
