"""Helpers for the report and show tests: real gate logs, the rendered page in headless Chromium, Node."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from outside_tools import missing, require
from spinegate import Gate, ToolCall, write_keypair
from spinegate.canonical import canonical_json
from spinegate.manifest_file import seal_manifest
from spinegate.receipt_hash import receipt_hash

ROOT = Path(__file__).resolve().parents[2]
GIT = {"branch": "main", "commit_before": "0123456789abcdef0123456789abcdef01234567", "commit_after": None}
MANIFEST = {
    "version": "1.1.0", "posture": "NORMAL", "manifest_hash": "",
    "functions": [
        {"plugin": "Files", "function": "Read", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
         "max_calls_per_session": None},
        {"plugin": "Files", "function": "Delete", "effect_class": "SHELL_DANGEROUS", "allowed": False,
         "reason": "DESTRUCTIVE_OPERATION_BLOCKED", "max_calls_per_session": None},
        {"plugin": "Shell", "function": "ReadOnly", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
         "max_calls_per_session": None, "command_argument": "command", "record_arguments": True},
    ],
}
#: Text that would end the embedding element or open a comment if it were not escaped.
HOSTILE = "</script><script>document.body.dataset.pwned='yes'</script><!-- & <b>bold</b> -->"


class Clock:
    """Deterministic UTC clock, one second per reading, from `start`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class LogFactory:
    """Receipt logs written by a real gate, in one temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest = folder / "manifest.json"
        self.manifest.write_text(json.dumps(MANIFEST), encoding="utf-8")
        seal_manifest(self.manifest)
        self._keys: tuple[Path, Path] | None = None

    @property
    def keys(self) -> tuple[Path, Path]:
        if self._keys is None:
            priv, pub, _ = write_keypair(self.folder / "gate.key")
            self._keys = Path(priv), Path(pub)
        return self._keys

    def write(self, name: str = "receipts.jsonl", *, sessions: int = 2, calls: int = 4, signed: bool = False,
              every: int = 2, command: str | None = None, output: str | None = None) -> Path:
        """`sessions` sessions, each with `calls` rounds of a read (approved, with outcome) and a delete (denied).

        `command` / `output`: one extra shell call with this command line, and this output recorded.
        """
        log = self.folder / name
        for s in range(sessions):
            options: dict[str, Any] = {"clock": Clock(datetime(2026, 5, 1, 12 + s, 0, 0, tzinfo=UTC)),
                                       "git": GIT}
            if signed:
                options.update(signing_key=self.keys[0], checkpoint_every=every)
            with Gate.open(self.manifest, receipts=log, **options) as gate:
                for i in range(calls):
                    read = gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": f"f{i}.txt"}))
                    gate.record_outcome(read, output=f"contents of f{i}.txt")
                    gate.check(ToolCall(plugin="Files", function="Delete", arguments={"path": f"f{i}.txt"}))
                if command is not None and s == 0:
                    shell = gate.check(ToolCall(plugin="Shell", function="ReadOnly", arguments={"command": command}))
                    gate.record_outcome(shell, output=output if output is not None else "")
        return log


    def write_rotated(self, name: str = "fleet.jsonl") -> tuple[Path, Path]:
        """A signed log whose first session is signed by `keys`, its second by a rotated key: (log, that key's .pub)."""
        log = self.folder / name
        priv, pub, _ = write_keypair(self.folder / f"{name}.rotated.key")
        for s, key in enumerate((self.keys[0], Path(priv))):
            with Gate.open(self.manifest, receipts=log, signing_key=key, checkpoint_every=2,
                           clock=Clock(datetime(2026, 5, 2, 10 + s, 0, 0, tzinfo=UTC)), git=GIT) as gate:
                for i in range(3):
                    read = gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": f"f{i}.txt"}))
                    gate.record_outcome(read, output="ok")
        return log, Path(pub)


    def write_rolled_back(self, name: str = "witnessed.jsonl") -> tuple[Path, Path]:
        """A signed log with a witness, put back to a copy taken before its second session: (log, witness).

        On its own the log and its checkpoint file verify; against the witness a session is missing.
        """
        log, witness = self.folder / name, self.folder / f"{name}.witness"
        cps = Path(str(log) + ".checkpoints.jsonl")
        clock = Clock()
        saved: tuple[bytes, bytes] | None = None
        for _ in range(2):
            with Gate.open(self.manifest, receipts=log, signing_key=self.keys[0], checkpoint_every=2,
                           witness=witness, clock=clock, git=GIT) as gate:
                for i in range(3):
                    gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": f"f{i}.txt"}))
            saved = saved or (log.read_bytes(), cps.read_bytes())
        log.write_bytes(saved[0])
        cps.write_bytes(saved[1])
        return log, witness


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]


def write_records(log: Path, rows: list[dict[str, Any]]) -> None:
    log.write_text("".join(canonical_json(r) + "\n" for r in rows), encoding="ascii")


def rehash(r: dict[str, Any]) -> dict[str, Any]:
    r["receipt_hash"] = receipt_hash(r)
    return r


# --------------------------------------------------------------------------
# The rendered page

CHROMIUM_HOW = ("Debian's chromium package: `apt-get install chromium` as root, or run `bash scripts/test`, "
                "whose step scripts/setup.d/20-chromium.sh installs it")


def chromium() -> str:
    return shutil.which("chromium-browser") or require("chromium", CHROMIUM_HOW)


def chromium_command(url: str, profile: str, *, budget_ms: int, extra: list[str]) -> list[str]:
    """Headless Chromium with no network: no background services, every host unresolvable, a dead proxy."""
    flags = [
        "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
        f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    return [chromium(), *flags, *extra, url]


def run_chromium(page: Path, extra: list[str], *, fragment: str = "", budget_ms: int = 15000) -> str:
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    with tempfile.TemporaryDirectory(prefix="spinegate-chromium-") as profile:
        done = subprocess.run(chromium_command(url, profile, budget_ms=budget_ms, extra=extra),
                              capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def rendered(page: Path, *, fragment: str = "") -> BeautifulSoup:
    """The page's DOM after its script ran in headless Chromium (asserts that the script finished)."""
    dom = BeautifulSoup(run_chromium(page, ["--dump-dom"], fragment=fragment), "html.parser")
    state = dom.body.get("data-state") if dom.body else None
    if state != "done":
        error = dom.find(id="verdict")
        raise AssertionError(f"the page's script did not finish: body data-state={state!r}, "
                             f"error={error.get('data-page-error') if error else None!r}")
    return dom


def verdict(dom: BeautifulSoup) -> dict[str, Any]:
    """The verdict section's attributes and text."""
    section = dom.find(id="verdict")
    assert section is not None
    return {**{k: v for k, v in section.attrs.items() if k.startswith("data-")},
            "title": section.find(id="verdict-title").get_text(" ", strip=True),
            "text": section.get_text(" ", strip=True)}


def count(dom: BeautifulSoup, name: str) -> int:
    tile = dom.find(attrs={"data-count": name})
    return int(tile.find(class_="value").get_text().replace(",", ""))


def table_rows(dom: BeautifulSoup) -> list[list[str]]:
    body = dom.find(id="receipt-rows")
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in body.find_all("tr")]


# --------------------------------------------------------------------------
# Editing a written page, as someone with the file would

_EMBEDDED = re.compile(r'(<script type="application/jsonl" id="spinegate-receipts">)(.*?)(</script>)', re.S)


def embedded_lines(page_html: str) -> list[str]:
    m = _EMBEDDED.search(page_html)
    assert m is not None
    return m.group(2).split("\n")[1:-1]


def with_embedded_lines(page_html: str, lines: list[str]) -> str:
    return _EMBEDDED.sub(lambda m: m.group(1) + "\n" + "".join(x + "\n" for x in lines) + m.group(3), page_html,
                         count=1)


_MAIN_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def without_ed25519(page_html: str) -> str:
    """The page as a browser whose WebCrypto has no Ed25519 would run it (the CSP hash updated to match)."""
    m = _MAIN_SCRIPT.search(page_html)
    assert m is not None
    shim = ("(function(){const s=crypto.subtle,i=s.importKey.bind(s);s.importKey=function(f,k,a,...r){"
            "if(a&&(a===\"Ed25519\"||a.name===\"Ed25519\"))return Promise.reject(new DOMException("
            "\"Unrecognized name\",\"NotSupportedError\"));return i(f,k,a,...r);};})();\n")
    script = shim + m.group(1)
    old = "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode() + "'"
    new = "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
    assert old in page_html
    return page_html.replace(old, new).replace(m.group(0), "<script>" + script + "</script>")


# --------------------------------------------------------------------------
# Node

NODE_HOW = "Node.js 18 or newer (`apt-get install nodejs` as root); the machines this project runs on have Node 20"


def node() -> str:
    path = require("node", NODE_HOW)
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    m = re.match(r"v(\d+)", version)
    if m is None or int(m.group(1)) < 18:
        missing(f"Node.js 18 or newer (found {version or 'an unknown version'})", NODE_HOW)
    return path
