"""Verify receipt logs: JSONL files and the original emitter's per-session directories.

One chain per `session_id`: the first receipt has sequence 1 and a null
`previous_receipt_hash`; each next one has sequence +1 and links to the
previous hash; every recomputed hash matches. The hash is recomputed from the
parsed receipt, never from how a line happens to be formatted.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .canonical import receipt_hash
from .errors import ReceiptFormatError
from .receipts import validate_receipt

# Failure reasons (stable codes; the conformance vectors use them).
INVALID_JSON = "INVALID_JSON"
SCHEMA_VIOLATION = "SCHEMA_VIOLATION"
HASH_MISMATCH = "HASH_MISMATCH"
BAD_GENESIS = "BAD_GENESIS"
SEQUENCE_GAP = "SEQUENCE_GAP"
SEQUENCE_REGRESSION = "SEQUENCE_REGRESSION"
CHAIN_BROKEN = "CHAIN_BROKEN"
TORN_LINE = "TORN_LINE"
FILENAME_MISMATCH = "FILENAME_MISMATCH"
DUPLICATE_RECEIPT_ID = "DUPLICATE_RECEIPT_ID"

MAX_REPORTED = 100


@dataclass(frozen=True, slots=True)
class Failure:
    """Where a log fails verification, and why."""

    reason: str
    detail: str
    file: str
    line: int | None = None
    receipt_id: str | None = None
    session_id: str | None = None
    sequence_number: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        parts = [where]
        if self.session_id is not None:
            parts.append(f"session {self.session_id}")
        if self.sequence_number is not None:
            parts.append(f"sequence {self.sequence_number}")
        if self.receipt_id is not None:
            parts.append(f"receipt {self.receipt_id}")
        return ", ".join(parts) + f": {self.reason}: {self.detail}"


@dataclass
class VerifyReport:
    """The result of verifying one log."""

    path: str
    receipts: int = 0
    sessions: int = 0
    approvals: int = 0
    denials: int = 0
    outcomes: int = 0
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0
    session_heads: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    @property
    def first_failure(self) -> Failure | None:
        return self.failures[0] if self.failures else None

    def summary(self) -> str:
        state = "valid" if self.ok else f"INVALID ({self.failure_count} problem{'s' if self.failure_count != 1 else ''})"
        return (f"{self.path}: {state}: {self.receipts} receipts, {self.sessions} sessions, "
                f"{self.approvals} approvals, {self.denials} denials, {self.outcomes} outcomes")


class _ChainChecker:
    """Checks receipts one at a time, in log order."""

    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self.heads: dict[str, tuple[int, str]] = report.session_heads
        self.seen_ids: set[str] = set()

    def fail(self, failure: Failure) -> None:
        self.report.failure_count += 1
        if len(self.report.failures) < MAX_REPORTED:
            self.report.failures.append(failure)

    def add(self, data: Any, *, file: str, line: int | None, canonical_line: str | None = None,
            expected_id: str | None = None) -> None:
        report = self.report
        report.receipts += 1
        try:
            validate_receipt(data)
        except ReceiptFormatError as exc:
            rid = data.get("receipt_id") if isinstance(data, dict) else None
            self.fail(Failure(SCHEMA_VIOLATION, str(exc), file, line,
                              rid if isinstance(rid, str) else None))
            return
        sid = data["session_id"]
        seq = data["sequence_number"]
        rid = data["receipt_id"]
        stored = data["receipt_hash"]
        prev = data["previous_receipt_hash"]
        where = dict(file=file, line=line, receipt_id=rid, session_id=sid, sequence_number=seq)

        status = data["result"]["status"]
        if data["action"]["operation"] == "outcome":
            report.outcomes += 1
        elif status == "blocked":
            report.denials += 1
        else:
            report.approvals += 1

        if expected_id is not None and expected_id != rid:
            self.fail(Failure(FILENAME_MISMATCH, f"file name says receipt {expected_id}", **where))
        if rid in self.seen_ids:
            self.fail(Failure(DUPLICATE_RECEIPT_ID, "this receipt_id appears earlier in the log", **where))
        self.seen_ids.add(rid)

        computed = _hash_of(data, canonical_line, stored, prev)
        if computed != stored:
            self.fail(Failure(HASH_MISMATCH, f"stored {stored}, recomputed {computed}", **where))

        head = self.heads.get(sid)
        if head is None:
            report.sessions += 1
            if seq != 1 or prev is not None:
                self.fail(Failure(BAD_GENESIS,
                                  f"a session's first receipt must have sequence 1 and previous_receipt_hash null "
                                  f"(found sequence {seq}, previous {prev!r})", **where))
        else:
            last_seq, last_hash = head
            if seq != last_seq + 1:
                code = SEQUENCE_GAP if seq > last_seq + 1 else SEQUENCE_REGRESSION
                self.fail(Failure(code, f"expected sequence {last_seq + 1} after {last_seq}, found {seq}", **where))
            elif prev != last_hash:
                self.fail(Failure(CHAIN_BROKEN, f"previous_receipt_hash {prev!r} does not match the previous "
                                  f"receipt's hash {last_hash}", **where))
        self.heads[sid] = (seq, stored)


def _hash_of(data: dict[str, Any], line: str | None, stored: str, prev: str | None) -> str:
    """Recompute the receipt hash; when the stored line is canonical, hash its bytes directly.

    A canonical line minus its two hash members is exactly the hash input, so
    hashing it gives the same digest as re-serialising the parsed receipt. If
    the line is not canonical that digest will not match, and the receipt is
    re-serialised, so the result never depends on formatting.
    """
    if line is not None:
        import hashlib

        prev_member = '"previous_receipt_hash":' + ("null" if prev is None else f'"{prev}"') + ","
        hash_member = f'"receipt_hash":"{stored}",'
        if line.count(prev_member) == 1 and line.count(hash_member) == 1:
            body = line.replace(prev_member, "", 1).replace(hash_member, "", 1)
            try:
                digest = hashlib.sha256(body.encode("ascii")).hexdigest()
            except UnicodeEncodeError:
                digest = ""
            if digest == stored:
                return digest
    return receipt_hash(data)


def _iter_jsonl(path: str) -> Iterator[tuple[int, bytes, bool]]:
    with open(path, "rb") as fh:
        n = 0
        for raw in fh:
            n += 1
            yield n, raw, raw.endswith(b"\n")


_RECEIPT_FILE = re.compile(r"^(\d+)_(.+)\.json$")


def _session_dirs(root: Path) -> list[Path]:
    if any(_RECEIPT_FILE.match(p.name) for p in root.iterdir() if p.is_file()):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir())


def verify_path(path: str | os.PathLike[str]) -> VerifyReport:
    """Verify a JSONL log or a per-session directory. Raises OSError if unreadable."""
    p = Path(path)
    if p.is_dir():
        return verify_directory(p)
    return verify_jsonl(p)


def verify_jsonl(path: str | os.PathLike[str]) -> VerifyReport:
    """Verify a JSONL log, one receipt per line (blank lines are not allowed)."""
    path = str(path)
    report = VerifyReport(path)
    checker = _ChainChecker(report)
    for n, raw, whole in _iter_jsonl(path):
        if not whole:
            checker.fail(Failure(TORN_LINE, f"the last line is incomplete ({len(raw)} bytes, no newline): "
                                 "a write was interrupted; `spinegate recover` moves it aside", path, n))
            break
        text = raw[:-1].decode("utf-8", errors="replace").rstrip("\r")
        try:
            data = json.loads(text)
        except ValueError as exc:
            checker.fail(Failure(INVALID_JSON, f"not valid JSON: {exc}", path, n))
            continue
        checker.add(data, file=path, line=n, canonical_line=text)
    return report


def verify_directory(path: str | os.PathLike[str]) -> VerifyReport:
    """Verify the original emitter's layout: <session dir>/NNNN_<receipt_id>.json."""
    root = Path(path)
    report = VerifyReport(str(root))
    checker = _ChainChecker(report)
    for session_dir in _session_dirs(root):
        files = []
        for f in session_dir.iterdir():
            m = _RECEIPT_FILE.match(f.name)
            if m and f.is_file():
                files.append((int(m.group(1)), m.group(2), f))
        for _, rid, f in sorted(files):
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
            except ValueError as exc:
                checker.fail(Failure(INVALID_JSON, f"not valid JSON: {exc}", str(f)))
                report.receipts += 1
                continue
            checker.add(data, file=str(f), line=None, expected_id=rid)
    return report


def verify_receipts(receipts: Iterable[dict[str, Any]], *, name: str = "<receipts>") -> VerifyReport:
    """Verify receipts already in memory, in order."""
    report = VerifyReport(name)
    checker = _ChainChecker(report)
    for i, data in enumerate(receipts, start=1):
        checker.add(data, file=name, line=i)
    return report
