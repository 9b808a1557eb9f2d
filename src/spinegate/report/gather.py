"""Everything the report page shows, read from a log in one pass (plus the verifiers' own passes).

This is the report's edge: it reads the log, the checkpoint file and the key,
runs `spinegate verify`'s checks (the command line's verdict, which the page
shows beside its own), counts receipts by kind, collects each session's
decisions over time and the denials by reason for the charts, and prepares
the embedded copy of the log, unless the log has more receipts than
`max_embedded`, in which case the page is a summary.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from ..checkpoint_verify import CheckpointReport, verify_checkpoints
from ..jsonl_store import checkpoint_path_for
from ..keys import key_id, load_public_key
from ..logview import APPROVE, DENY, ESCALATE, OUTCOME, LogEntry, iter_entries, row_of
from ..verify import VerifyReport, verify_path
from .embed import embed_file, embed_line, embed_raw_line

#: Above this many receipts the page summarises the log instead of embedding it.
DEFAULT_MAX_EMBEDDED = 50_000

#: Kinds of receipt, in the order the page lists them; the codes index `SessionSeries.kinds`.
KINDS = (APPROVE, DENY, ESCALATE, OUTCOME, "other")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


@dataclass
class SessionSeries:
    """One session's receipts over time: seconds since the epoch and a kind code, per receipt with a readable time."""

    session_id: str
    receipts: int = 0
    times: array[float] = field(default_factory=lambda: array("d"))
    kinds: bytearray = field(default_factory=bytearray)


@dataclass
class ReportData:
    """What `render.render_page` needs, gathered from a log."""

    log_name: str
    layout: str  # "jsonl" or "directory"
    entries: int
    verify: VerifyReport
    kinds: Counter[str]
    sessions: dict[str, SessionSeries]
    denial_reasons: Counter[str]
    unreadable: int
    embedded: list[str] | None
    """The embedded lines, or None when the log has more than `max_embedded` receipts."""
    max_embedded: int
    non_json_lines: list[int]
    """Line numbers of lines embedded as base64 because they are not JSON (up to a thousand)."""
    public_key_raw: bytes | None = None
    key_id: str | None = None
    checkpoints: CheckpointReport | None = None
    checkpoint_file: str = "not-read"
    """"present", "missing", "not-a-file" (with a public key), or "not-read" (no key given)."""
    checkpoint_lines: list[str] | None = None
    checkpoint_file_exists: bool = False


def _epoch(timestamp: Any) -> float | None:
    if not isinstance(timestamp, str):
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def _kind(verdict: str | None) -> str:
    return verdict if verdict in (APPROVE, DENY, ESCALATE, OUTCOME) else "other"


class _Collector:
    """Counts and chart series, one entry at a time."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.sessions: dict[str, SessionSeries] = {}
        self.denial_reasons: Counter[str] = Counter()
        self.unreadable = 0

    def add(self, entry: LogEntry) -> None:
        row = row_of(entry.data) if entry.complete else None
        if row is None or row.session_id is None:
            self.unreadable += 1
            return
        kind = _kind(row.verdict)
        self.kinds[kind] += 1
        if kind == DENY:
            self.denial_reasons[row.reason or "(no reason given)"] += 1
        series = self.sessions.get(row.session_id)
        if series is None:
            series = self.sessions[row.session_id] = SessionSeries(row.session_id)
        series.receipts += 1
        t = _epoch(row.timestamp)
        if t is not None:
            series.times.append(t)
            series.kinds.append(_KIND_CODE[kind])


def gather(log: str | os.PathLike[str], *, public_key: str | os.PathLike[str] | None = None,
           checkpoints: str | os.PathLike[str] | None = None,
           max_embedded: int = DEFAULT_MAX_EMBEDDED) -> ReportData:
    """Read `log` (JSONL or per-session directory) and everything the page shows about it.

    Raises OSError when the log cannot be read, KeyFileError for an unusable
    key, ValueError when a public key is given for a directory log (its
    checkpoints belong to JSONL logs).
    """
    path = Path(log)
    directory = path.is_dir()
    if public_key is not None and directory:
        raise ValueError("--public-key applies to a JSONL log, not a directory")
    collector = _Collector()
    embedded: list[str] | None = []
    non_json: list[int] = []
    entries = 0
    for entry in iter_entries(path):
        entries += 1
        collector.add(entry)
        if embedded is None:
            continue
        if entries > max_embedded:
            embedded = None  # a summary page: the lines read so far are dropped
            continue
        if directory:
            embedded.append(embed_file(entry.file or "", entry.raw))
            continue
        text, as_json = embed_line(entry.raw, is_json=entry.problem is None, complete=entry.complete)
        embedded.append(text)
        if not as_json and entry.complete and entry.problem is not None and len(non_json) < 1000:
            non_json.append(entry.line or 0)
    report = ReportData(
        log_name=os.fspath(log), layout="directory" if directory else "jsonl", entries=entries,
        verify=verify_path(path), kinds=collector.kinds, sessions=collector.sessions,
        denial_reasons=collector.denial_reasons, unreadable=collector.unreadable, embedded=embedded,
        max_embedded=max_embedded, non_json_lines=non_json,
    )
    if not directory:
        cpath = Path(checkpoints) if checkpoints is not None else Path(checkpoint_path_for(path))
        report.checkpoint_file_exists = cpath.exists()
        if public_key is not None:
            _gather_checkpoints(report, path, cpath, public_key)
    return report


def _gather_checkpoints(report: ReportData, log: Path, cpath: Path, public_key: str | os.PathLike[str]) -> None:
    pub = load_public_key(public_key)
    report.public_key_raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    report.key_id = key_id(pub)
    report.checkpoints = verify_checkpoints(log, pub, cpath)
    if not cpath.exists():
        report.checkpoint_file = "missing"
        return
    if not stat.S_ISREG(os.stat(cpath).st_mode):
        report.checkpoint_file = "not-a-file"
        return
    report.checkpoint_file = "present"
    if report.embedded is None:
        return
    lines: list[str] = []
    with open(cpath, "rb") as fh:
        for raw in fh:
            whole = raw.endswith(b"\n")
            lines.append(embed_raw_line(raw[:-1] if whole else raw, complete=whole))
    report.checkpoint_lines = lines


def command_line_verdict(report: ReportData) -> dict[str, Any]:
    """The command line's findings as JSON for the page (what `spinegate verify --json` prints)."""
    v = report.verify
    doc: dict[str, Any] = {
        "valid": v.ok and (report.checkpoints is None or report.checkpoints.ok),
        "chain_valid": v.ok, "receipts": v.receipts, "sessions": v.sessions, "approvals": v.approvals,
        "denials": v.denials, "outcomes": v.outcomes, "failure_count": v.failure_count,
        "failures": [dataclasses.asdict(f) for f in v.failures],
        "checkpoints": None,
    }
    cp = report.checkpoints
    if cp is not None:
        doc["checkpoints"] = {
            "valid": cp.ok, "key_id": cp.key_id, "checkpoints": cp.checkpoints, "verified": cp.verified_checkpoints,
            "sessions": cp.sessions, "covered_receipts": cp.covered_receipts,
            "uncovered_receipts": sum(cp.uncovered.values()), "unclosed_sessions": len(cp.unclosed),
            "failures": [dataclasses.asdict(f) for f in cp.failures[:100]], "failure_count": cp.failure_count,
            "summary": cp.summary(),
        }
    return doc
