"""Verify receipt logs: JSONL files and the original emitter's per-session directories.

One chain per `session_id`: the first receipt has sequence 1 and a null
`previous_receipt_hash`; each next one has sequence +1 and links to the
previous hash; every recomputed hash matches. The hash is recomputed from the
parsed receipt, never from how a line happens to be formatted.

What changes no receipt's values is a warning, not a failure: a line ending
in CR LF (a log written on Windows), or a UTF-8 byte-order mark at the start
of the log. Each is reported with its line; `spinegate verify --strict`
counts them as failures.
"""

from __future__ import annotations

import dataclasses
import gc
import heapq
import json
import marshal
import multiprocessing
import os
import re
import shutil
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ReceiptFormatError
from .native import native
from .reasons import (
    BAD_GENESIS,
    BYTE_ORDER_MARK,
    CHAIN_BROKEN,
    DUPLICATE_RECEIPT_ID,
    FILENAME_MISMATCH,
    HASH_MISMATCH,
    INVALID_JSON,
    LINE_ENDS_CRLF,
    SCHEMA_VIOLATION,
    SEQUENCE_GAP,
    SEQUENCE_REGRESSION,
    TORN_LINE,
)
from .receipt_hash import dotnet_variant, fixed_schema_hash, receipt_hash, sorted_receipt_hash
from .receipts import parse_receipt_line, validate_receipt

MAX_REPORTED = 100
#: The UTF-8 byte-order mark: tolerated at the very start of a JSONL log, with a warning.
BOM = b"\xef\xbb\xbf"


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


class FailureList:
    """What every report whose failures are all kept in `failures` says about them (checkpoints, witness)."""

    failures: list[Failure]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failure_count(self) -> int:
        return len(self.failures)

    def state(self) -> str:
        """`valid`, or `INVALID (N problems)`."""
        n = self.failure_count
        return "valid" if self.ok else f"INVALID ({n} problem{'s' if n != 1 else ''})"


@dataclass
class VerifyReport:
    """The result of verifying one log."""

    path: str
    receipts: int = 0
    sessions: int = 0
    approvals: int = 0
    denials: int = 0
    outcomes: int = 0
    escalations: int = 0
    session_events: int = 0  # posture and reload receipts: the session's own, no call decided
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0
    session_heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: What changes no receipt's values (CR LF endings, a byte-order mark): the first MAX_REPORTED, and how many.
    warnings: list[Failure] = field(default_factory=list)
    warning_count: int = 0

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    @property
    def first_failure(self) -> Failure | None:
        return self.failures[0] if self.failures else None

    def summary(self) -> str:
        n = self.failure_count
        state = "valid" if self.ok else f"INVALID ({n} problem{'s' if n != 1 else ''})"
        text = (f"{self.path}: {state}: {self.receipts} receipts, {self.sessions} sessions, "
                f"{self.approvals} approvals, {self.denials} denials, {self.outcomes} outcomes")
        if self.escalations:
            text += f", {self.escalations} escalations"
        if self.session_events:
            text += f", {self.session_events} posture or reload receipts"
        if self.warning_count:
            text += f"; {self.warning_count} warning{'s' if self.warning_count != 1 else ''}"
        return text


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

    def add(self, data: Any, *, file: str, line: int | None, expected_id: str | None = None) -> None:
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
        where = {"file": file, "line": line, "receipt_id": rid, "session_id": sid, "sequence_number": seq}

        _tally(report, data)

        if expected_id is not None and expected_id != rid:
            self.fail(Failure(FILENAME_MISMATCH, f"file name says receipt {expected_id}", **where))
        if rid in self.seen_ids:
            self.fail(Failure(DUPLICATE_RECEIPT_ID, "this receipt_id appears earlier in the log", **where))
        self.seen_ids.add(rid)

        # From the parsed values, never the stored text: a line whose own bytes hash to the
        # stored value can still parse to other values (a repeated key, `1.50`, `1E-05`).
        computed = receipt_hash(data)
        if computed != stored:
            self.fail(Failure(HASH_MISMATCH, _mismatch_detail(data, stored, computed), **where))

        head = self.heads.get(sid)
        if head is None:
            report.sessions += 1
            problem = _genesis_failure(seq, prev)
        else:
            problem = _link_failure(seq, prev, *head)
        if problem is not None:
            self.fail(Failure(*problem, **where))
        self.heads[sid] = (seq, stored)


#: Receipt kinds that record the session's own events, not a call decided or run.
_SESSION_KINDS = frozenset({"posture", "reload"})


def _tally(counts: VerifyReport | _Range, data: dict[str, Any]) -> None:
    """Count one schema-valid receipt by its kind (any other operation, as the siblings write, is a decision)."""
    operation = data["action"]["operation"]
    if operation == "outcome":
        counts.outcomes += 1
    elif operation == "escalation":
        counts.escalations += 1
    elif operation in _SESSION_KINDS:
        counts.session_events += 1
    elif data["result"]["status"] == "blocked":
        counts.denials += 1
    else:
        counts.approvals += 1


def _mismatch_detail(data: dict[str, Any], stored: str, computed: str) -> str:
    """The hash-mismatch message, naming the .NET port's spelling when that explains the stored hash."""
    detail = f"stored {stored}, recomputed {computed}"
    variant = dotnet_variant(data, stored)
    if variant:
        detail += (f"; the stored hash matches the .NET port's serialisation ({variant}), "
                   "which is not the canonical form")
    return detail


def _parse(raw: bytes) -> tuple[Any, str | None]:
    """(the JSON value, None) of one stored receipt's bytes, or (None, why they are not JSON).

    Strict UTF-8 (a replacement character would only turn up later as a
    misleading hash mismatch), and never raising on hostile input such as
    `[[[[...` nested past the parser's recursion limit.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    try:
        return json.loads(text), None  # the newline, or CRLF, is JSON whitespace
    except RecursionError:
        return None, "not valid JSON: nested too deeply to parse"
    except ValueError as exc:
        return None, f"not valid JSON: {exc}"


def _iter_jsonl(path: str) -> Iterator[tuple[int, bytes, bool]]:
    with open(path, "rb") as fh:
        n = 0
        for raw in fh:
            n += 1
            yield n, raw, raw.endswith(b"\n")


_RECEIPT_FILE = re.compile(r"^(\d+)_(.+)\.json$")


def _session_dirs(root: Path) -> list[Path]:
    """`root` itself (one session's directory) and each directory in it (a directory per session).

    Both, always: a receipt file dropped at the top must not hide the session
    directories from verification, nor the other way round.
    """
    return [root, *sorted(p for p in root.iterdir() if p.is_dir())]


def receipt_files(root: str | os.PathLike[str]) -> list[tuple[Path, str]]:
    """(file, the receipt id its name gives) of a per-session directory, in the order verification reads them.

    Session directory by session directory (sorted by name), files in NNNN order.
    """
    out: list[tuple[Path, str]] = []
    for session_dir in _session_dirs(Path(root)):
        files = []
        for f in session_dir.iterdir():
            m = _RECEIPT_FILE.match(f.name)
            if m and f.is_file():
                files.append((int(m.group(1)), m.group(2), f))
        out.extend((f, rid) for _, rid, f in sorted(files))
    return out


def verify_path(path: str | os.PathLike[str]) -> VerifyReport:
    """Verify a JSONL log or a per-session directory. Raises OSError if unreadable."""
    p = Path(path)
    if p.is_dir():
        return verify_directory(p)
    return verify_jsonl(p)


def _verify_jsonl_serial(path: str | os.PathLike[str]) -> VerifyReport:
    """The general, single-process JSONL verifier: the reference `verify_jsonl` is tested against."""
    path = str(path)
    report = VerifyReport(path)
    checker = _ChainChecker(report)
    for n, raw, whole in _iter_jsonl(path):
        if not whole:
            checker.fail(Failure(TORN_LINE, f"the last line is incomplete ({len(raw)} bytes, no newline): "
                                 "a write was interrupted; `spinegate recover` moves it aside", path, n))
            break
        raw = _tolerate(raw, n, n == 1, path, report)
        data, problem = _parse(raw)
        if problem is not None:
            checker.fail(Failure(INVALID_JSON, problem, path, n))
            continue
        checker.add(data, file=path, line=n)
    return report


def _tolerate(raw: bytes, n: int, at_start: bool, path: str, counts: VerifyReport | _Range) -> bytes:
    """`raw` without a byte-order mark at the start of the log; a warning for it and for a CR LF ending."""
    if raw[-2:] == b"\r\n":
        _warn(counts, Failure(LINE_ENDS_CRLF, "the line ends in CR LF (as written on Windows); the receipt's "
                              "values and hash are unchanged", path, n))
    if at_start and raw[:3] == BOM:
        _warn(counts, Failure(BYTE_ORDER_MARK, "the log starts with a UTF-8 byte-order mark, read past; the "
                              "receipt's values and hash are unchanged", path, n))
        return raw[3:]
    return raw


def _warn(counts: VerifyReport | _Range, warning: Failure) -> None:
    counts.warning_count += 1
    if len(counts.warnings) < MAX_REPORTED:
        counts.warnings.append(warning)


def verify_directory(path: str | os.PathLike[str]) -> VerifyReport:
    """Verify the original emitter's layout: <session dir>/NNNN_<receipt_id>.json."""
    root = Path(path)
    report = VerifyReport(str(root))
    checker = _ChainChecker(report)
    for f, rid in receipt_files(root):
        data, problem = _parse(f.read_bytes())
        if problem is not None:
            checker.fail(Failure(INVALID_JSON, problem, str(f)))
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


# --------------------------------------------------------------------------
# Fast JSONL verification: streaming, byte ranges in parallel, bounded memory.
#
# The log is cut into byte ranges on line boundaries. Each range is scanned
# on its own (by a worker process when the log is large): every line is
# parsed, validated, hashed and chained to the previous receipt of its
# session inside the range. What a range cannot know on its own is settled
# afterwards, in log order: the link from each session's first receipt in
# the range to the session's head so far, and receipt ids seen twice, which
# are spilled to disk in hash buckets so memory does not grow with the log.
# The report is the one `_verify_jsonl_serial` gives (tests/perf checks it).

#: Logs smaller than this are verified in this process.
PARALLEL_MIN_BYTES = 32 << 20
#: Target size of one byte range.
CHUNK_BYTES = 16 << 20
#: Roughly how many bytes of log feed one duplicate-id bucket.
BUCKET_BYTES = 48 << 20
#: Show a progress bar on a terminal for logs at least this large.
PROGRESS_MIN_BYTES = 64 << 20

# Failure phases: the order in which `_ChainChecker.add` reports problems of one receipt.
_P_READ, _P_FILENAME, _P_DUPLICATE, _P_HASH, _P_CHAIN = range(5)



@dataclass
class _Range:
    """What one byte range of the log tells about itself."""

    index: int
    lines: int = 0
    receipts: int = 0
    approvals: int = 0
    denials: int = 0
    outcomes: int = 0
    escalations: int = 0
    session_events: int = 0
    failure_count: int = 0
    #: (local line, phase, failure with a local line number), the first MAX_REPORTED of them.
    failures: list[tuple[int, int, Failure]] = field(default_factory=list)
    #: session -> [first seq, first prev, first line, first receipt id, last seq, last hash]
    sessions: dict[str, list[Any]] = field(default_factory=dict)
    #: (local line, receipt id, session, seq) of each schema-valid receipt, when not spilled.
    ids: list[tuple[int, str, str, int]] | None = None
    nbytes: int = 0
    warnings: list[Failure] = field(default_factory=list)  # with local line numbers
    warning_count: int = 0


#: Bytes read at a time while scanning a range (memory stays bounded by this, not by the log).
BLOCK_BYTES = 1 << 20


def _scan_range(path: str, start: int, end: int, index: int, spill_dir: str | None, buckets: int) -> _Range:
    """Verify bytes [start, end) of the log file on their own (see the section comment)."""
    return _scan_blocks(_file_blocks(path, start, end), path, start == 0, index, spill_dir, buckets)


def _file_blocks(path: str, start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of a file, BLOCK_BYTES at a time."""
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = fh.read(min(BLOCK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _scan_blocks(blocks: Iterable[bytes], path: str, at_start: bool, index: int, spill_dir: str | None,
                 buckets: int) -> _Range:
    """`_scan_lines`, with the cyclic garbage collector paused: the range makes one tuple per receipt and no
    cycles, and each collection would walk all of them again."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _scan_lines(blocks, path, at_start, index, spill_dir, buckets)
    finally:
        if collecting:
            gc.enable()


def _scan_lines(blocks: Iterable[bytes], path: str, at_start: bool, index: int, spill_dir: str | None,
                buckets: int) -> _Range:
    """Verify the lines of one range of the log, given as consecutive byte blocks, on their own.

    A block may end inside a line (the rest comes with the next one); the
    range ends with its last block. `at_start`: the range starts the log (a
    byte-order mark is tolerated on its first line). `path` names the log in
    failures.

    The native extension takes every line it can check in full in one pass
    (parse, schema, canonical form, hash, the link to the session's previous
    receipt, the id for the duplicate check); each line it leaves (damaged,
    hostile or only unusual) is checked here by the general path, in order.
    """
    out = _Range(index)
    failures = out.failures
    sessions = out.sessions
    spilled = spill_dir is not None and buckets > 1
    parts: list[list[tuple[int, str, str, int]]] = [[] for _ in range(buckets if spilled else 1)]

    def add_id(record: tuple[int, str, str, int]) -> None:
        parts[_bucket_of(record[1], buckets) if spilled else 0].append(record)

    def fail(line: int, phase: int, failure: Failure) -> None:
        out.failure_count += 1
        if len(failures) < MAX_REPORTED:
            failures.append((line, phase, failure))

    def general(raw: bytes, n: int) -> None:
        if raw[-2:-1] == b"\r" or (at_start and n == 1):
            raw = _tolerate(raw, n, at_start and n == 1, path, out)
        # The raw bytes: valid UTF-8 parses as the decoded text would, and the
        # newline or a CR before it is JSON whitespace either way.
        data = parse_receipt_line(raw)
        if data is not None:
            out.receipts += 1
            _check_one(data, n, path, out, sessions, add_id, fail, sorted_keys=True)
            return
        data, problem = _parse(raw)
        if problem is not None:
            fail(n, _P_READ, Failure(INVALID_JSON, problem, path, n))
            return
        out.receipts += 1
        try:
            validate_receipt(data)
        except ReceiptFormatError as exc:
            rid = data.get("receipt_id") if isinstance(data, dict) else None
            fail(n, _P_READ, Failure(SCHEMA_VIOLATION, str(exc), path, n, rid if isinstance(rid, str) else None))
        else:
            _check_one(data, n, path, out, sessions, add_id, fail)

    problems: list[tuple[Any, ...]] = []
    scanner = native.RangeScanner(sessions, parts, problems) if native is not None else None

    def broken_links() -> None:
        for n, rid, sid, seq, prev, last_seq, last_hash in problems:
            failure = _link_failure(seq, prev, last_seq, last_hash)
            if failure is not None:
                fail(n, _P_CHAIN, Failure(failure[0], failure[1], path, n, rid, sid, seq))
        problems.clear()

    n = 0
    carry = b""
    feed = iter(blocks)
    chunk = next(feed, b"")
    while True:
        out.nbytes += len(chunk)
        following = next(feed, b"") if chunk else b""
        block = carry + chunk if carry else chunk
        last = not following
        if not last:  # whole lines only; the rest waits for the next block
            cut = block.rfind(b"\n") + 1
            carry, block = block[cut:], block[:cut]
        pos, size = 0, len(block)
        while pos < size:
            if scanner is not None:
                status, pos, n = scanner.feed(block, pos, n)
                if problems:
                    broken_links()
                if status == 0:
                    break
            newline = block.find(b"\n", pos)
            n += 1
            if newline < 0:
                fail(n, _P_READ, Failure(TORN_LINE, f"the last line is incomplete ({size - pos} bytes, no "
                                         "newline): a write was interrupted; `spinegate recover` moves it aside",
                                         path, n))
                last = True
                break
            general(block[pos:newline + 1], n)
            pos = newline + 1
        if last:
            break
        chunk = following
    if scanner is not None:
        receipts, approvals, denials, outcomes, escalations, session_events = scanner.counts
        out.receipts += receipts
        out.approvals += approvals
        out.denials += denials
        out.outcomes += outcomes
        out.escalations += escalations
        out.session_events += session_events
    out.lines = n
    if spill_dir is None:
        out.ids = parts[0]
    else:
        _spill(parts, spill_dir, index)
    return out


def _check_one(data: dict[str, Any], n: int, path: str, out: _Range, sessions: dict[str, list[Any]],
               add_id: Callable[[tuple[int, str, str, int]], None], fail: Any, *, sorted_keys: bool = False) -> None:
    """`_ChainChecker.add` for one schema-valid receipt, minus what needs the rest of the log.

    `sorted_keys`: `data` came from `parse_receipt_line` (see `receipt_hash.sorted_receipt_hash`).
    """
    sid = data["session_id"]
    seq = data["sequence_number"]
    rid = data["receipt_id"]
    stored = data["receipt_hash"]
    prev = data["previous_receipt_hash"]
    _tally(out, data)
    add_id((n, rid, sid, seq))
    computed = sorted_receipt_hash(data) if sorted_keys else fixed_schema_hash(data)
    if computed != stored:
        fail(n, _P_HASH, Failure(HASH_MISMATCH, _mismatch_detail(data, stored, computed), path, n, rid, sid, seq))
    state = sessions.get(sid)
    if state is None:
        sessions[sid] = [seq, prev, n, rid, seq, stored]
        return
    last_seq, last_hash = state[4], state[5]
    failure = _link_failure(seq, prev, last_seq, last_hash)
    if failure is not None:
        fail(n, _P_CHAIN, Failure(failure[0], failure[1], path, n, rid, sid, seq))
    state[4] = seq
    state[5] = stored


def _link_failure(seq: int, prev: str | None, last_seq: int, last_hash: str) -> tuple[str, str] | None:
    """The chain failure (code, detail) of a receipt following (last_seq, last_hash), if any."""
    if seq != last_seq + 1:
        code = SEQUENCE_GAP if seq > last_seq + 1 else SEQUENCE_REGRESSION
        return code, f"expected sequence {last_seq + 1} after {last_seq}, found {seq}"
    if prev != last_hash:
        return CHAIN_BROKEN, f"previous_receipt_hash {prev!r} does not match the previous receipt's hash {last_hash}"
    return None


def _genesis_failure(seq: int, prev: str | None) -> tuple[str, str] | None:
    """The chain failure (code, detail) of a session's first receipt, if any."""
    if seq != 1 or prev is not None:
        return BAD_GENESIS, (f"a session's first receipt must have sequence 1 and previous_receipt_hash null "
                             f"(found sequence {seq}, previous {prev!r})")
    return None


def _bucket_of(receipt_id: str, buckets: int) -> int:
    """The duplicate-id bucket a receipt id falls in."""
    return zlib.crc32(receipt_id.encode("utf-8", "surrogatepass")) % buckets


def _spill(parts: list[list[tuple[int, str, str, int]]], spill_dir: str, index: int) -> None:
    """Write a range's receipt ids, already in their hash buckets, to per-bucket files (marshal: fast, exact)."""
    for b, recs in enumerate(parts):
        if recs:
            with open(os.path.join(spill_dir, f"{index}.{b}"), "wb") as fh:
                marshal.dump(recs, fh)


def _duplicates(groups: Iterable[tuple[int, list[tuple[int, str, str, int]]]],
                path: str) -> tuple[int, list[Failure]]:
    """Count receipt ids seen before in log order; keep the first MAX_REPORTED failures.

    `groups` are (line offset, records) in log order. A group with no repeat
    among itself or what came before is added to the set in one step.
    """
    seen: set[str] = set()
    count = 0
    found: list[Failure] = []
    for offset, recs in groups:
        rids = [rec[1] for rec in recs]
        fresh = set(rids)
        if len(fresh) == len(rids) and seen.isdisjoint(fresh):
            seen |= fresh
            continue
        for n, rid, sid, seq in recs:
            if rid in seen:
                count += 1
                if len(found) < MAX_REPORTED:
                    found.append(Failure(DUPLICATE_RECEIPT_ID, "this receipt_id appears earlier in the log",
                                         path, n + offset, rid, sid, seq))
            else:
                seen.add(rid)
    return count, found


def _bucket_duplicates(spill_dir: str, bucket: int, offsets: list[int], path: str) -> tuple[int, list[Failure]]:
    """`_duplicates` over one bucket's spilled ids, ranges read in log order."""

    def groups() -> Iterator[tuple[int, list[tuple[int, str, str, int]]]]:
        for index, offset in enumerate(offsets):
            name = os.path.join(spill_dir, f"{index}.{bucket}")
            if not os.path.exists(name):
                continue
            with open(name, "rb") as fh:
                recs = marshal.loads(fh.read())  # marshal.load(fh) reads the file item by item
            os.unlink(name)
            yield offset, recs

    return _duplicates(groups(), path)


def _scan_range_star(args: tuple[Any, ...]) -> _Range:
    return _scan_range(*args)


def _bucket_duplicates_star(args: tuple[Any, ...]) -> tuple[int, list[Failure]]:
    return _bucket_duplicates(*args)


def _ranges(path: str, size: int, chunk: int) -> list[tuple[int, int]]:
    """Byte ranges of about `chunk` bytes, each starting at the beginning of a line."""
    bounds = [0]
    with open(path, "rb") as fh:
        pos = chunk
        while pos < size:
            fh.seek(pos)
            fh.readline()
            nxt = fh.tell()
            if nxt >= size:
                break
            if nxt > bounds[-1]:
                bounds.append(nxt)
            pos = nxt + chunk
    bounds.append(size)
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


class _Merger:
    """Joins the ranges' results in log order into one report."""

    def __init__(self, report: VerifyReport, path: str) -> None:
        self.report = report
        self.path = path
        self.heads = report.session_heads
        self.line_offset = 0
        self.offsets: list[int] = []
        self.count = 0
        #: (global line, phase, failure): the first MAX_REPORTED in log order.
        self.kept: list[tuple[int, int, Failure]] = []

    def _keep(self, items: Iterable[tuple[int, int, Failure]]) -> None:
        self.kept = heapq.nsmallest(MAX_REPORTED, [*self.kept, *items], key=lambda t: (t[0], t[1]))

    def add(self, r: _Range) -> None:
        report, offset = self.report, self.line_offset
        self.offsets.append(offset)
        report.receipts += r.receipts
        report.approvals += r.approvals
        report.denials += r.denials
        report.outcomes += r.outcomes
        report.escalations += r.escalations
        report.session_events += r.session_events
        self.count += r.failure_count
        report.warning_count += r.warning_count
        for w in r.warnings:
            if len(report.warnings) >= MAX_REPORTED:
                break
            report.warnings.append(dataclasses.replace(w, line=(w.line or 0) + offset))
        items = [(n + offset, phase, dataclasses.replace(f, line=n + offset)) for n, phase, f in r.failures]
        for sid, (first_seq, first_prev, n, rid, last_seq, last_hash) in r.sessions.items():
            head = self.heads.get(sid)
            if head is None:
                report.sessions += 1
                problem = _genesis_failure(first_seq, first_prev)
            else:
                problem = _link_failure(first_seq, first_prev, head[0], head[1])
            if problem is not None:
                self.count += 1
                items.append((n + offset, _P_CHAIN,
                              Failure(problem[0], problem[1], self.path, n + offset, rid, sid, first_seq)))
            self.heads[sid] = (last_seq, last_hash)
        self._keep(items)
        self.line_offset += r.lines

    def add_duplicates(self, count: int, found: list[Failure]) -> None:
        self.count += count
        self._keep((f.line or 0, _P_DUPLICATE, f) for f in found)

    def finish(self) -> VerifyReport:
        self.report.failure_count = self.count
        self.report.failures = [f for _, _, f in self.kept]
        return self.report


def _progress(total: int, show: bool | None, path: str) -> Any:
    """A click progress bar on stderr when it is a terminal (or when asked), else a no-op."""
    if show is None:
        show = total >= PROGRESS_MIN_BYTES and sys.stderr.isatty()
    if not show:
        return None
    import click

    return click.progressbar(length=total, label=f"verifying {os.path.basename(path)}", file=sys.stderr,
                             show_pos=False, show_percent=True)


def _start_method() -> str:
    """"fork" from a single-threaded process (workers share its pages), "spawn" otherwise.

    Forking a process that runs other threads can copy a lock some thread
    holds; a fresh interpreter is the safe choice there.
    """
    import threading

    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def verify_jsonl(path: str | os.PathLike[str], *, workers: int | None = None, chunk_bytes: int | None = None,
                 progress: bool | None = None) -> VerifyReport:
    """Verify a JSONL log, one receipt per line (blank lines are not allowed).

    Streams the log in byte ranges with memory that does not grow with its
    length (receipt ids are spilled to disk to find duplicates); logs of
    PARALLEL_MIN_BYTES or more are checked by `workers` processes (default:
    one per CPU). A progress bar shows on a terminal for large logs. The
    report equals the single-process verifier's.
    """
    path = str(path)
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):  # a pipe or device: no byte ranges, read it as a stream
        return _verify_jsonl_serial(path)
    size = st.st_size
    if workers is None:
        workers = (os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1
    chunk = chunk_bytes or CHUNK_BYTES
    ranges = _ranges(path, size, chunk) if size else [(0, 0)]
    report = VerifyReport(path)
    merger = _Merger(report, path)
    bar = _progress(size, progress, path)
    if bar is not None:
        bar.__enter__()
    try:
        if workers <= 1 and len(ranges) == 1:
            r = _scan_range(path, 0, size, 0, None, 1)
            merger.add(r)
            merger.add_duplicates(*_duplicates([(0, r.ids or [])], path))
            if bar is not None:
                bar.update(size)
            return merger.finish()
        buckets = max(1, -(-size // BUCKET_BYTES))
        spill_dir = tempfile.mkdtemp(prefix="spinegate-verify-")
        try:
            tasks = [(path, s, e, i, spill_dir, buckets) for i, (s, e) in enumerate(ranges)]
            if workers <= 1:
                for t in tasks:
                    r = _scan_range_star(t)
                    merger.add(r)
                    if bar is not None:
                        bar.update(r.nbytes)
                for b in range(buckets):
                    merger.add_duplicates(*_bucket_duplicates(spill_dir, b, merger.offsets, path))
            else:
                ctx = multiprocessing.get_context(_start_method())
                with ctx.Pool(workers) as pool:
                    for r in pool.imap(_scan_range_star, tasks):
                        merger.add(r)
                        if bar is not None:
                            bar.update(r.nbytes)
                    jobs = [(spill_dir, b, merger.offsets, path) for b in range(buckets)]
                    for count, found in pool.imap_unordered(_bucket_duplicates_star, jobs):
                        merger.add_duplicates(count, found)
            return merger.finish()
        finally:
            shutil.rmtree(spill_dir, ignore_errors=True)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


# --------------------------------------------------------------------------
# Verifying a log that is not a file: the PostgreSQL ledger's rows, streamed.

#: Duplicate-id buckets of a streamed log longer than one range (its length is not known in advance):
#: the duplicate check holds one bucket's receipt ids in memory at a time.
STREAM_BUCKETS = 64


class _StreamRanges:
    """A stream of lines cut into consecutive ranges of about `chunk` bytes, each handed out as byte blocks."""

    def __init__(self, lines: Iterable[bytes], chunk: int) -> None:
        self._lines = iter(lines)
        self._chunk = chunk
        self._next: bytes | None = next(self._lines, None)

    def finished(self) -> bool:
        return self._next is None

    def blocks(self) -> Iterator[bytes]:
        """The next range: whole lines, joined into blocks of about BLOCK_BYTES."""
        taken = 0
        block: list[bytes] = []
        size = 0
        while self._next is not None and taken < self._chunk:
            line = self._next
            block.append(line)
            size += len(line)
            taken += len(line)
            self._next = next(self._lines, None)
            if size >= BLOCK_BYTES:
                yield b"".join(block)
                block, size = [], 0
        if block:
            yield b"".join(block)


def verify_stream(lines: Iterable[bytes], name: str, *, chunk_bytes: int | None = None) -> VerifyReport:
    """Verify a log read once, in order, from something that is not a file, in memory that does not grow with it.

    `lines` are the log's lines as bytes, each ending in its newline (a last
    one without is torn); `name` names the log in the report. The stream is
    cut into ranges of about CHUNK_BYTES, each checked as `verify_jsonl`
    checks a file's ranges; past the first range, receipt ids go to
    STREAM_BUCKETS bucket files for the duplicate check (ids only, never
    receipts). The report is the one `verify_jsonl` gives for a file holding
    these bytes, under `name`. Memory grows with the number of sessions (one
    chain head each), as for a file.
    """
    report = VerifyReport(name)
    merger = _Merger(report, name)
    ranges = _StreamRanges(lines, chunk_bytes or CHUNK_BYTES)
    first = _scan_blocks(ranges.blocks(), name, True, 0, None, 1)
    merger.add(first)
    if ranges.finished():
        merger.add_duplicates(*_duplicates([(0, first.ids or [])], name))
        return merger.finish()
    spill_dir = tempfile.mkdtemp(prefix="spinegate-verify-")
    try:
        parts: list[list[tuple[int, str, str, int]]] = [[] for _ in range(STREAM_BUCKETS)]
        for record in first.ids or []:
            parts[_bucket_of(record[1], STREAM_BUCKETS)].append(record)
        _spill(parts, spill_dir, 0)
        first.ids = None
        index = 1
        while not ranges.finished():
            merger.add(_scan_blocks(ranges.blocks(), name, False, index, spill_dir, STREAM_BUCKETS))
            index += 1
        for bucket in range(STREAM_BUCKETS):
            merger.add_duplicates(*_bucket_duplicates(spill_dir, bucket, merger.offsets, name))
        return merger.finish()
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)
