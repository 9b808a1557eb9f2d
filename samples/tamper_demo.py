"""Tamper with a receipt log, and watch `spinegate verify` and the report page catch it.

    python samples/tamper_demo.py [--out DIR] [--no-browser]

A gate with a signing key writes a log and its signed checkpoints. Then the
log is changed three ways, as someone with write access to it could:

1. a denial turned into an approval, hashes left alone: the hash chain shows it;
2. the same edit with every hash and link recomputed: the chain verifies, the
   signed checkpoints do not;
3. the last receipts cut off: the chain verifies, the checkpoints do not.

For each, the sample runs `spinegate verify` and writes `spinegate report`
pages into DIR. Open them in a browser: each page checks the log itself.
When Debian's `chromium` is installed, the sample also opens each page
headless (no network) and prints the verdict the page's own JavaScript
reached. No API key and no agent framework needed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from spinegate import Gate, ToolCall, write_keypair
from spinegate.canonical import canonical_json
from spinegate.receipt_hash import receipt_hash

HERE = Path(__file__).resolve().parent

CALLS = [
    ToolCall(plugin="Files", function="Read", arguments={"path": "notes/plan.md"}),
    ToolCall(plugin="Files", function="Delete", arguments={"path": "notes/"}),
    ToolCall(plugin="Web", function="Fetch", arguments={"url": "https://example.com"}),
    ToolCall(plugin="Secrets", function="WriteEnv", arguments={"key": "API_TOKEN", "value": "s3cr3t"}),
    ToolCall(plugin="Files", function="Write", arguments={"path": "notes/plan.md", "text": "v2"}),
]


def spinegate(*args: str) -> tuple[int, str]:
    """Run the `spinegate` command line as a user would, and return (exit code, what it printed)."""
    done = subprocess.run([sys.executable, "-m", "spinegate.cli", *args], capture_output=True, text=True)
    return done.returncode, (done.stdout + done.stderr).strip()


def write_signed_log(folder: Path, key: Path) -> Path:
    log = folder / "receipts.jsonl"
    for _ in range(2):  # two sessions
        with Gate.open(HERE / "manifest.json", receipts=log, signing_key=key, checkpoint_every=2) as gate:
            for call in CALLS:
                decision = gate.check(call)
                if decision.approved:
                    gate.record_outcome(decision, output=f"{call.tool_name} done")
    return log


def receipts(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="ascii").splitlines()]


def save(log: Path, rows: list[dict]) -> None:
    log.write_text("".join(canonical_json(r) + "\n" for r in rows), encoding="ascii")


def allow_the_delete(rows: list[dict], *, rehash: bool) -> int:
    """Turn the first denied Files.Delete into an approval; with `rehash`, recompute every hash and link."""
    i = next(k for k, r in enumerate(rows) if r["action"]["tool"] == "Files.Delete")
    rows[i]["result"].update(status="success", blocked_by=None)
    if rehash:
        heads: dict[str, str | None] = {}
        for r in rows:
            r["previous_receipt_hash"] = heads.get(r["session_id"])
            r["receipt_hash"] = receipt_hash(r)
            heads[r["session_id"]] = r["receipt_hash"]
    return i + 1


def page_verdict(page: Path) -> str | None:
    """The verdict the page's own script reaches in headless Chromium (no network), or None without Chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    with tempfile.TemporaryDirectory() as profile:
        flags = ["--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND",
                 f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium will not start its sandbox as root
            flags.append("--no-sandbox")
        dom = subprocess.run([browser, *flags, page.resolve().as_uri()], capture_output=True, text=True,
                             timeout=120).stdout
    from html.parser import HTMLParser

    found: dict[str, str] = {}

    class Verdict(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if a.get("id") == "verdict":
                found.update({k: v or "" for k, v in a.items()})

    Verdict().feed(dom)
    if not found:
        return "the page did not render"
    text = found.get("data-verdict", "?")
    if found.get("data-reason"):
        text += f", first failure {found['data-reason']}"
    return text


def step(title: str, log: Path, pub: Path, page: Path, browser: bool) -> None:
    print(f"\n== {title}")
    code, out = spinegate("verify", str(log), "--public-key", str(pub), "--max-failures", "2")
    print(f"$ spinegate verify {log.name} --public-key {pub.name}    (exit {code})")
    print("  " + out.replace("\n", "\n  "))
    code, out = spinegate("report", str(log), "--html", str(page), "--public-key", str(pub))
    print(f"$ spinegate report {log.name} --html {page.name} --public-key {pub.name}    (exit {code})")
    if browser:
        seen = page_verdict(page)
        if seen is not None:
            print(f"  the page's own check in headless Chromium: {seen}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the log and pages (default: a new one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open the pages in headless Chromium")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="spinegate-tamper-"))
    folder.mkdir(parents=True, exist_ok=True)
    browser = not args.no_browser
    priv, pub, kid = write_keypair(folder / "gate.key")
    log = write_signed_log(folder, Path(priv))
    pub = Path(pub)
    original = log.read_bytes()
    print(f"a signed log of {len(receipts(log))} receipts in 2 sessions: {log}\nsigning key id {kid}")
    step("0. the log as the gate wrote it", log, pub, folder / "report-original.html", browser)

    rows = receipts(log)
    line = allow_the_delete(rows, rehash=False)
    save(log, rows)
    step(f"1. line {line}: a denied Files.Delete rewritten as approved, hashes left alone", log, pub,
         folder / "report-edited.html", browser)

    log.write_bytes(original)
    rows = receipts(log)
    allow_the_delete(rows, rehash=True)
    save(log, rows)
    step("2. the same edit, every hash and link recomputed (the chain alone is fooled)", log, pub,
         folder / "report-rehashed.html", browser)

    log.write_bytes(original)
    save(log, receipts(log)[:-3])
    step("3. the last three receipts cut off (the chain alone is fooled)", log, pub, folder / "report-cut.html",
         browser)

    log.write_bytes(original)
    print(f"\nthe log is back as written; open the pages in {folder} to see each verdict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
