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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..checkpoint_verify import CheckpointReport, verify_checkpoints
from ..jsonl_store import checkpoint_path_for
from ..keys import PublicKey, key_id, load_public_keys
from ..logview import APPROVE, DENY, ESCALATE, OUTCOME, LogEntry, iter_entries, row_of
from ..verify import VerifyReport, verify_path
from ..witness_check import WitnessReport, check_witness, witness_lines_of_file
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
    public_keys_raw: list[bytes] = field(default_factory=list)
    """The trusted public keys given (raw 32 bytes each, each key once, in the order given)."""
    key_ids: list[str] = field(default_factory=list)
    checkpoints: CheckpointReport | None = None
    checkpoint_file: str = "not-read"
    """"present", "missing", "not-a-file" (with a public key), or "not-read" (no key given)."""
    checkpoint_lines: list[str] | None = None
    checkpoint_file_exists: bool = False
    witness: WitnessReport | None = None
    """The log compared with its witness (copies of its checkpoints kept elsewhere), when one was given."""
    strict: bool = False
    """Warnings (CR LF line endings, a byte-order mark) count as failures, as with `spinegate verify --strict`."""

    @property
    def public_key_raw(self) -> bytes | None:
        """The first public key given, or None."""
        return self.public_keys_raw[0] if self.public_keys_raw else None

    @property
    def key_id(self) -> str | None:
        """The first public key's id, or None."""
        return self.key_ids[0] if self.key_ids else None


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


#: One trusted key (a PEM file, a directory of `*.pub` files, a loaded key) or several.
PublicKeys = PublicKey | Sequence[PublicKey]


def trusted_keys(public_key: PublicKeys) -> list[Ed25519PublicKey]:
    """The keys `public_key` names, each once, in the order given (raises KeyFileError; ValueError if none)."""
    given = [public_key] if isinstance(public_key, (str, os.PathLike, Ed25519PublicKey)) else list(public_key)
    loaded: dict[str, Ed25519PublicKey] = {}
    for one in given:
        for pub in [one] if isinstance(one, Ed25519PublicKey) else load_public_keys([one]):
            loaded.setdefault(key_id(pub), pub)
    if not loaded:
        raise ValueError("no public key given")
    return list(loaded.values())


def gather(log: str | os.PathLike[str], *, public_key: PublicKeys | None = None,
           checkpoints: str | os.PathLike[str] | None = None,
           max_embedded: int = DEFAULT_MAX_EMBEDDED, strict: bool = False,
           witness: str | os.PathLike[str] | None = None) -> ReportData:
    """Read `log` (JSONL or per-session directory) and everything the page shows about it.

    `public_key`: one trusted key or several (a fleet that rotated keys
    signs sessions with different ones), as `spinegate verify` takes them.
    `witness`: a witness file to compare the log with, as `spinegate verify
    --witness` does (the page shows that verdict; it does not re-check it).
    Raises OSError when the log cannot be read, KeyFileError for an unusable
    key, ValueError when a public key is given for a directory log (its
    checkpoints belong to JSONL logs).
    """
    path = Path(log)
    directory = path.is_dir()
    if (public_key is not None or witness is not None) and directory:
        option = "--public-key" if public_key is not None else "--witness"
        raise ValueError(f"{option} applies to a JSONL log, not a directory")
    if witness is not None and not stat.S_ISREG(os.stat(witness).st_mode):
        raise ValueError(f"{os.fspath(witness)}: the witness is not a regular file (a directory, pipe or device)")
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
        max_embedded=max_embedded, non_json_lines=non_json, strict=strict,
    )
    if not directory:
        cpath = Path(checkpoints) if checkpoints is not None else Path(checkpoint_path_for(path))
        report.checkpoint_file_exists = cpath.exists()
        if public_key is not None:
            _gather_checkpoints(report, path, cpath, public_key)
        if witness is not None:
            report.witness = check_witness(path, witness_lines_of_file(witness), os.fspath(witness),
                                           keys=trusted_keys(public_key) if public_key is not None else (),
                                           checkpoints_path=cpath, log_name=os.fspath(log))
    return report


def _gather_checkpoints(report: ReportData, log: Path, cpath: Path, public_key: PublicKeys) -> None:
    keys = trusted_keys(public_key)
    report.public_keys_raw = [pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                              for pub in keys]
    report.key_ids = [key_id(pub) for pub in keys]
    report.checkpoints = verify_checkpoints(log, keys, cpath)
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


def report_ok(report: ReportData) -> bool:
    """The command line's verdict, as `spinegate verify` (with the same keys and --strict) gives it."""
    return (report.verify.ok and (report.checkpoints is None or report.checkpoints.ok)
            and (report.witness is None or report.witness.ok)
            and not (report.strict and report.verify.warning_count > 0))


def command_line_verdict(report: ReportData) -> dict[str, Any]:
    """The command line's findings as JSON for the page (what `spinegate verify --json` prints)."""
    v = report.verify
    doc: dict[str, Any] = {
        "valid": report_ok(report), "strict": report.strict,
        "chain_valid": v.ok, "receipts": v.receipts, "sessions": v.sessions, "approvals": v.approvals,
        "denials": v.denials, "outcomes": v.outcomes, "failure_count": v.failure_count,
        "failures": [dataclasses.asdict(f) for f in v.failures],
        "warning_count": v.warning_count, "warnings": [dataclasses.asdict(w) for w in v.warnings],
        "checkpoints": None,
    }
    cp = report.checkpoints
    if cp is not None:
        doc["checkpoints"] = {
            "valid": cp.ok, "key_id": cp.key_id, "key_ids": cp.key_ids,
            "signed_by": {k: {"checkpoints": signed.checkpoints, "sessions": len(signed.sessions)}
                          for k, signed in cp.signed_by.items()},
            "checkpoints": cp.checkpoints, "verified": cp.verified_checkpoints,
            "sessions": cp.sessions, "covered_receipts": cp.covered_receipts,
            "uncovered_receipts": sum(cp.uncovered.values()), "unclosed_sessions": len(cp.unclosed),
            "failures": [dataclasses.asdict(f) for f in cp.failures[:100]], "failure_count": cp.failure_count,
            "summary": cp.summary(),
        }
    w = report.witness
    doc["witness"] = None if w is None else {
        "valid": w.ok, "witness": w.witness, "lines": w.lines, "sessions": w.sessions, "checked": w.checked,
        "failures": [dataclasses.asdict(f) for f in w.failures[:100]], "failure_count": w.failure_count,
        "summary": w.summary(),
    }
    return doc
