"""Regenerate docs/report-screenshot.png: the report page for the demo log, as headless Chromium draws it.

    .venv/bin/python scripts/report_screenshot.py [--out docs/report-screenshot.png]

Runs samples/demo.py into a fresh log, writes `spinegate report` for it,
and lets Debian's `chromium` (headless, no network) run the page's own
check before it takes the picture.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    parser.add_argument("--size", default="1280,1700", help="window width,height in pixels")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="spinegate-screenshot-") as tmp:
        folder = Path(tmp)
        log, page = folder / "receipts.jsonl", folder / "report.html"
        subprocess.run([sys.executable, str(ROOT / "samples" / "demo.py"), "--receipts", str(log)], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "spinegate.cli", "report", log.name, "--html", page.name], check=True,
                       stdout=subprocess.DEVNULL, cwd=folder)  # the page names the log as given: no temporary path
        flags = ["--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND",
                 "--hide-scrollbars", f"--window-size={args.size}", f"--user-data-dir={folder / 'profile'}",
                 "--virtual-time-budget=10000", f"--screenshot={args.out.resolve()}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium will not start its sandbox as root
        subprocess.run([browser, *flags, page.as_uri()], check=True, capture_output=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
