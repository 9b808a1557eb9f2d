"""samples/tamper_demo.py: verify and the report page catch each tampering the sample makes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from report_support import ROOT, chromium


def test_tamper_sample_shows_verify_and_the_page_catching_each_change(tmp_path: Path) -> None:
    chromium()  # the sample's last step opens the pages headless; without Chromium this skips (fails under CI)
    run = subprocess.run([sys.executable, str(ROOT / "samples" / "tamper_demo.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    steps = run.stdout.split("\n== ")[1:]
    assert len(steps) == 4
    original, edited, rehashed, cut = steps
    assert "(exit 0)" in original and "the page's own check in headless Chromium: valid" in original
    assert "HASH_MISMATCH" in edited and "page's own check in headless Chromium: invalid, first failure HASH_MISMATCH" \
        in edited
    assert ": valid: 16 receipts" in rehashed and "RECEIPT_REWRITTEN" in rehashed  # the chain alone is fooled
    assert "invalid, first failure RECEIPT_REWRITTEN" in rehashed
    assert "TAIL_TRUNCATED" in cut and "invalid, first failure TAIL_TRUNCATED" in cut
    pages = sorted(p.name for p in tmp_path.glob("report-*.html"))
    assert pages == ["report-cut.html", "report-edited.html", "report-original.html", "report-rehashed.html"]
