"""Reading a receipt log for people to look at: entries, one row per receipt, and verification marks.

`spinegate show` and `spinegate report` read logs through here. A log is a
JSONL file or the original emitter's per-session directory; either way it
comes back as `LogEntry` values in verification order, each parsed as far as
it parses (a line that is not JSON is still an entry, so it can be shown and
reported). `tail_entries` reads a JSONL log backwards from its end, so the
last few receipts of a large log cost a few blocks, not the whole file.
`Marker` checks entries as `spinegate verify` does and says which fail.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .reasons import INVALID_JSON, TORN_LINE
from .verify import (
    BOM,
    Failure,
    VerifyReport,
    _ChainChecker,
    receipt_files,
)

#: How much of the file `tail_entries` reads per step, backwards from the end.
TAIL_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of a JSONL log (or one file of the directory layout), parsed as far as it parses."""

    raw: bytes
    """The line without its newline, or the whole file."""
    line: int | None
    """1-based line number in a JSONL log read from the start; None for files and for `tail_entries`."""
    file: str | None
    """The file, for the per-session directory layout."""
    complete: bool
    """False for a last line with no newline (a torn write)."""
    data: Any
    """The parsed JSON value, or None when `problem` says why there is none."""
    problem: str | None
    expected_id: str | None = None
    """The receipt id the directory layout's file name gives."""

    @property
    def place(self) -> str:
        """Where the entry is, for people: `line 7`, the file, or `near the end`."""
        if self.file is not None:
            return self.file
        return f"line {self.line}" if self.line is not None else "near the end"


def parse_line(raw: bytes) -> tuple[Any, str | None]:
    """(the JSON value, None) of one stored receipt's bytes, or (None, why they are not JSON).

    As verification reads it: strict UTF-8, Python's JSON, never raising on hostile input.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    try:
        return json.loads(text), None
    except RecursionError:
        return None, "not valid JSON: nested too deeply to parse"
    except ValueError as exc:
        return None, f"not valid JSON: {exc}"


def _entry(raw: bytes, *, line: int | None, file: str | None = None, complete: bool = True,
           expected_id: str | None = None, at_start: bool = False) -> LogEntry:
    """`at_start`: the first line of a JSONL log, where verification reads past a UTF-8 byte-order mark."""
    if not complete:
        return LogEntry(raw, line, file, False, None, "the last line is incomplete (no newline)", expected_id)
    data, problem = parse_line(raw[len(BOM):] if at_start and raw.startswith(BOM) else raw)
    return LogEntry(raw, line, file, True, data, problem, expected_id)


def is_directory_log(path: str | os.PathLike[str]) -> bool:
    return Path(path).is_dir()


class NotALog(OSError):
    """The path holds no log: a FIFO or device (reading it would hang), or a directory with no receipt files."""


def check_readable(path: str | os.PathLike[str]) -> None:
    """Raise NotALog unless `path` is a regular file or a directory holding receipt files (OSError if missing)."""
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        if not receipt_files(path):
            raise NotALog("no receipt files (<session>/NNNN_<receipt_id>.json) in this directory; "
                          "for a JSONL log, pass the file itself")
    elif not stat.S_ISREG(st.st_mode):
        raise NotALog("not a regular file or directory (a pipe or device is not read)")


def iter_entries(path: str | os.PathLike[str]) -> Iterator[LogEntry]:
    """Every entry of a JSONL log or per-session directory, in verification order."""
    p = Path(path)
    if p.is_dir():
        for f, rid in receipt_files(p):
            yield _entry(f.read_bytes(), line=None, file=str(f.relative_to(p)), expected_id=rid)
        return
    with open(p, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            whole = raw.endswith(b"\n")
            yield _entry(raw[:-1] if whole else raw, line=n, complete=whole, at_start=n == 1)


def session_of(entry: LogEntry) -> str | None:
    data = entry.data
    sid = data.get("session_id") if isinstance(data, dict) else None
    return sid if isinstance(sid, str) else None


def tail_entries(path: str | os.PathLike[str], count: int, *, session: str | None = None) -> list[LogEntry]:
    """The last `count` entries (of `session`, if given), in log order, read from the end of the log.

    A JSONL log is read backwards in TAIL_BLOCK steps until enough lines are
    found, so the cost follows what is shown, not the size of the log (with
    `session`, the distance back to that session's last receipts). Line
    numbers are not known this way and are None. A directory log lists its
    files and reads only the ones shown.
    """
    if count < 1:
        return []
    p = Path(path)
    found: list[LogEntry] = []
    if p.is_dir():
        for f, rid in reversed(receipt_files(p)):
            entry = _entry(f.read_bytes(), line=None, file=str(f.relative_to(p)), expected_id=rid)
            if session is None or session_of(entry) == session:
                found.append(entry)
                if len(found) == count:
                    break
        found.reverse()
        return found
    with open(p, "rb") as fh:
        pos = fh.seek(0, os.SEEK_END)
        pending = b""  # the start of a line whose beginning lies before `pos`
        at_end = True
        while pos > 0 and len(found) < count:
            start = max(0, pos - TAIL_BLOCK)
            fh.seek(start)
            pieces = (fh.read(pos - start) + pending).split(b"\n")
            pos = start
            if at_end:
                at_end = False
                fragment = pieces.pop()  # what follows the last newline: nothing, or a torn line
                if fragment and session is None:  # a torn line belongs to no session anyone can name
                    found.append(_entry(fragment, line=None, complete=False))
            pending = pieces.pop(0) if start > 0 else b""
            for k in range(len(pieces) - 1, -1, -1):
                if len(found) == count:
                    break
                entry = _entry(pieces[k], line=None, at_start=start == 0 and k == 0)
                if session is None or session_of(entry) == session:
                    found.append(entry)
    found.reverse()
    return found


# --------------------------------------------------------------------------
# One row per receipt


#: What a receipt records, for people: the gate's verdict or the receipt's kind.
APPROVE, DENY, ESCALATE, OUTCOME = "approve", "deny", "escalate", "outcome"


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    """The fields a reviewer reads first, taken from a receipt however malformed (missing ones are None)."""

    session_id: str | None
    sequence_number: int | None
    timestamp: str | None
    tool: str | None
    operation: str | None
    effect_class: str | None
    status: str | None
    verdict: str | None
    reason: str | None
    receipt_id: str | None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def verdict_of(operation: str | None, status: str | None) -> str | None:
    """approve / deny / escalate / outcome for decisions and outcomes; the operation for posture and reload.

    A sibling emitter's receipts (operation `command`, `write`, ...) count as
    decisions: blocked is a denial, anything else an approval.
    """
    if operation == "outcome":
        return OUTCOME
    if operation == "escalation":
        return ESCALATE
    if operation in ("posture", "reload"):
        return operation
    if status is None:
        return None
    return DENY if status == "blocked" else APPROVE


def row_of(data: Any) -> ReceiptRow | None:
    """The row of a parsed receipt, or None when it is not a JSON object."""
    if not isinstance(data, dict):
        return None
    action: dict[str, Any] = data["action"] if isinstance(data.get("action"), dict) else {}
    result: dict[str, Any] = data["result"] if isinstance(data.get("result"), dict) else {}
    seq = data.get("sequence_number")
    operation = _text(action.get("operation"))
    status = _text(result.get("status"))
    verdict = verdict_of(operation, status)
    reason = _text(result.get("blocked_by"))
    if verdict == OUTCOME:
        code = result.get("exit_code")
        reason = status if not isinstance(code, int) or isinstance(code, bool) else f"{status} (exit {code})"
    elif verdict in ("posture", "reload"):
        reason = _text(action.get("description"))
    return ReceiptRow(
        session_id=_text(data.get("session_id")),
        sequence_number=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        timestamp=_text(data.get("timestamp")),
        tool=_text(action.get("tool")),
        operation=operation,
        effect_class=_text(action.get("effect_class")),
        status=status,
        verdict=verdict,
        reason=reason,
        receipt_id=_text(data.get("receipt_id")),
    )


# --------------------------------------------------------------------------
# Verification marks


class _RecordingChecker(_ChainChecker):
    """verify's chain checker, keeping every failure (not only the first hundred) for the caller to collect."""

    def __init__(self, report: VerifyReport) -> None:
        super().__init__(report)
        self.recorded: list[Failure] = []

    def fail(self, failure: Failure) -> None:
        self.recorded.append(failure)


class Marker:
    """Checks entries one by one, in log order, as `spinegate verify` does, and returns each one's failures.

    With `window=True` the entries are the end of a log (`tail_entries`): each
    session's first receipt in the window is taken to link correctly to the
    receipts before it, which were not read; everything else (schema, hash,
    duplicate ids and links inside the window) is checked.
    """

    def __init__(self, name: str, *, window: bool = False) -> None:
        self._checker = _RecordingChecker(VerifyReport(name))
        self._window = window
        self.failing = 0

    def check(self, entry: LogEntry) -> list[Failure]:
        """The failures of this entry (empty when it verifies so far)."""
        recorded = self._checker.recorded = []
        where = entry.file or self._checker.report.path
        if not entry.complete:
            recorded.append(Failure(TORN_LINE, "the last line is incomplete (no newline): a write was interrupted; "
                                 "`spinegate recover` moves it aside", where, entry.line))
        elif entry.problem is not None:
            recorded.append(Failure(INVALID_JSON, entry.problem, where, entry.line))
        else:
            if self._window:
                self._assume_link(entry.data)
            self._checker.add(entry.data, file=where, line=entry.line, expected_id=entry.expected_id)
        if recorded:
            self.failing += 1
        return recorded

    def _assume_link(self, data: Any) -> None:
        """In a window, accept the first receipt of a session as linked to the (unread) one before it."""
        if not isinstance(data, dict):
            return
        sid, seq, prev = data.get("session_id"), data.get("sequence_number"), data.get("previous_receipt_hash")
        if (isinstance(sid, str) and sid not in self._checker.heads and isinstance(seq, int)
                and not isinstance(seq, bool) and seq > 1 and isinstance(prev, str)):
            self._checker.heads[sid] = (seq - 1, prev)
