"""Exporting receipts from any store to canonical JSONL: the archive format every sibling reads.

`export_receipts(SOURCE, TO)` reads a JSONL log, a per-session directory or
the PostgreSQL ledger (a `postgresql://` URL) and writes TO: one receipt per
line, exactly as `json.dumps(receipt, sort_keys=True, separators=(",", ":"))`
writes it, in the order the source holds them, and the source's signed
checkpoints beside it in ``TO.checkpoints.jsonl``, so the archive verifies
on its own (`spinegate verify TO --public-key KEY`).

`since` / `until` select whole sessions by the time of their first receipt
(``since <= t < until``): each session lands whole in the archive of the
window it began in, so every archive verifies on its own and a retention job
can delete exactly the sessions it archived.

Nothing existing is overwritten: the files are written under temporary names
beside TO, made durable, then linked into place, and an existing TO is an
error. A line of the source that is not a JSON object stops the export with
its line number (an archive must not silently drop anything); a torn last
line, still being written or left by a crash, is left out and counted.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .canonical import canonical_json
from .errors import ReceiptLogError
from .jsonl_store import checkpoint_path_for
from .log_lines import LineReader
from .store import is_postgres_url

_EXPORT_FIX = "run `spinegate verify SOURCE` to see what is wrong with it; export copies receipts only"


@dataclass
class ExportResult:
    """What an export wrote."""

    source: str
    path: str
    checkpoints_path: str | None
    receipts: int = 0
    sessions: int = 0
    checkpoints: int = 0
    respelled: int = 0  # source lines not in canonical form, written canonically (same values)
    torn: int = 0  # a torn last line left out

    def summary(self) -> str:
        text = (f"exported {self.receipts} receipts of {self.sessions} sessions from {self.source} to {self.path}")
        if self.checkpoints_path is not None:
            text += f", {self.checkpoints} checkpoints to {self.checkpoints_path}"
        if self.respelled:
            text += f"; {self.respelled} lines were not in canonical form and were written canonically"
        if self.torn:
            text += "; a torn last line (an interrupted write) was left out"
        return text


#: (line or row number, the stored text) of each record of a source.
Lines = Iterator[tuple[int, str]]


def export_receipts(source: str | os.PathLike[str], to: str | os.PathLike[str], *, since: datetime | None = None,
                    until: datetime | None = None) -> ExportResult:
    """Write the receipts (and checkpoints) of `source` to `to` and `to`.checkpoints.jsonl.

    Raises ReceiptLogError for an unreadable source or a line that is not a
    JSON object, and FileExistsError when `to` (or its checkpoint file) exists.
    """
    src = os.fspath(source)
    out = os.fspath(to)
    cps_out = checkpoint_path_for(out)
    for existing in (out, cps_out):
        if os.path.lexists(existing):
            raise FileExistsError(existing)
    result = ExportResult(src, out, None)
    if is_postgres_url(src):
        from .postgres_read import ledger_lines, session_window, snapshot
        from .postgres_schema import display_dsn

        result.source = display_dsn(src)
        with snapshot(src) as conn:
            where, args = session_window(since, until)
            _write(out, ledger_lines(conn, "receipts", where, args), result, receipts=True)
            _write(cps_out, ledger_lines(conn, "checkpoints", where, args), result, receipts=False)
        return result
    path = Path(src)
    window = since is not None or until is not None
    if path.is_dir():
        begun = _sessions_begun(_directory_lines(path), since, until, src) if window else None
        _write(out, _directory_lines(path, begun), result, receipts=True)
        return result
    begun = _sessions_begun(_jsonl_lines(src, None), since, until, src) if window else None
    _write(out, _jsonl_lines(src, result, begun), result, receipts=True)
    sidecar = checkpoint_path_for(src)
    if os.path.isfile(sidecar):
        _write(cps_out, _jsonl_lines(sidecar, None, begun), result, receipts=False)
    return result


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or date-time for --since / --until; without an offset it is UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------
# Sources


def _jsonl_lines(path: str, result: ExportResult | None, sessions: set[str] | None = None) -> Lines:
    """The complete lines of a JSONL file (of `sessions` only, if given); a torn last line is counted, not read."""
    reader = LineReader(path)
    for n, text in reader:
        if sessions is not None and not _in_sessions(text, sessions):
            continue
        yield n, text
    if reader.torn and result is not None:
        result.torn = 1


def _in_sessions(text: str, sessions: set[str]) -> bool:
    data = _parse_object(text, "", 0, strict=False)
    return data is not None and data.get("session_id") in sessions


def _directory_lines(root: Path, sessions: set[str] | None = None) -> Lines:
    """The original emitter's per-session layout: each receipt file's JSON, in verification order."""
    from .verify import receipt_files

    for n, (f, _) in enumerate(receipt_files(root), start=1):
        text = f.read_bytes().decode("utf-8", errors="strict")
        if sessions is not None and not _in_sessions(text, sessions):
            continue
        yield n, text


def _sessions_begun(lines: Iterable[tuple[int, str]], since: datetime | None, until: datetime | None,
                    where: str) -> set[str]:
    """The sessions whose first receipt (sequence 1) has a timestamp in [since, until)."""
    begun: set[str] = set()
    for n, text in lines:
        data = _parse_object(text, where, n)
        if data is None or data.get("sequence_number") != 1 or not isinstance(data.get("session_id"), str):
            continue
        try:
            moment = parse_time(str(data.get("timestamp")))
        except ValueError:
            continue  # a receipt without a readable time belongs to no window (verify names it)
        if (since is None or moment >= since) and (until is None or moment < until):
            begun.add(data["session_id"])
    return begun


def _parse_object(text: str, where: str, n: int, *, strict: bool = True) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        return data
    if strict:
        raise ReceiptLogError("not a JSON object", path=where, line=n, fix=_EXPORT_FIX)
    return None


# --------------------------------------------------------------------------
# Writing


def _write(out: str, lines: Iterable[tuple[int, str]], result: ExportResult, *, receipts: bool) -> None:
    """Write `lines` to a temporary file beside `out`, make it durable, then link it into place (never over one)."""
    directory = os.path.dirname(os.path.abspath(out))
    fd, temp = tempfile.mkstemp(prefix=".spinegate-export-", dir=directory)
    wrote = 0
    sessions: set[str] = set()
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            wrote = _copy(lines, fh, result, sessions)
            fh.flush()
            os.fsync(fh.fileno())
        if wrote == 0 and not receipts:
            return  # no checkpoints: no checkpoint file
        os.link(temp, out)  # fails if `out` appeared meanwhile: nothing is overwritten
    finally:
        os.unlink(temp)
    if receipts:
        result.receipts, result.sessions = wrote, len(sessions)
    else:
        result.checkpoints, result.checkpoints_path = wrote, out


def _copy(lines: Iterable[tuple[int, str]], fh: IO[str], result: ExportResult, sessions: set[str]) -> int:
    wrote = 0
    for n, text in lines:
        data = _parse_object(text, result.source, n)
        assert data is not None
        line = canonical_json(data)
        if line != text:
            result.respelled += 1
        fh.write(line + "\n")
        if isinstance(data.get("session_id"), str):
            sessions.add(data["session_id"])
        wrote += 1
    return wrote
