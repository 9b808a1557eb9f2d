"""`spinegate show`: a receipt log as a table for a terminal, or one JSON object per receipt.

Rows come from `logview`; every row is checked as `spinegate verify` checks
it, and a row that fails is marked with the reasons. Text that came from the
log is printed with control and bidirectional-override characters escaped,
so a hostile tool name cannot rewrite the terminal.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .logview import LogEntry, Marker, is_directory_log, iter_entries, row_of, session_of, tail_entries
from .verify import Failure


class UnknownSession(LookupError):
    """`--session` names a session with no receipt in the log."""

    def __init__(self, session: str, path: str) -> None:
        super().__init__(f"{path}: no receipt of session {session!r} in this log")
        self.session = session
        self.path = path


@dataclass
class ShowSummary:
    """What was shown, for the closing line."""

    shown: int = 0
    failing: int = 0
    sessions: set[str] = field(default_factory=set)


# Control characters (C0, DEL, C1) and the bidirectional controls that can reorder a terminal line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with characters that would act on a terminal written as visible escapes (\\x1b, \\u202e)."""
    def escape(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _UNSAFE.sub(escape, text)


def selected_entries(path: str | os.PathLike[str], *, session: str | None, tail: int | None) -> Iterator[LogEntry]:
    """The entries `show` prints: all of them, one session's, or the last `tail` (read from the end)."""
    if tail is not None:
        yield from tail_entries(path, tail, session=session)
        return
    for entry in iter_entries(path):
        if session is None or session_of(entry) == session:
            yield entry


def _cell(value: Any, width: int) -> str:
    """A left-aligned cell of `width` characters, at least one of them a space."""
    text = "-" if value is None else terminal_safe(str(value))
    return text.ljust(width - 1) + " "


def _time(timestamp: str | None) -> str | None:
    """`2026-04-30 22:57:32` from an ISO-8601 timestamp; other text as it is."""
    if timestamp and len(timestamp) >= 19 and timestamp[10] == "T":
        return timestamp[:10] + " " + timestamp[11:19]
    return timestamp


_COLUMNS = (("CHECK", 6), ("SESSION", 14), ("SEQ", 6), ("TIME", 21), ("VERDICT", 10), ("EFFECT", 18),
            ("TOOL", 26))


def header(path: str, *, directory: bool, tail: int | None, session: str | None) -> list[str]:
    """The title line and the column names of the text table."""
    what = "per-session directory" if directory else "JSONL log"
    scope = f"the last {tail} receipts" if tail is not None else "every receipt"
    if session is not None:
        scope += f" of session {session}"
    cols = (_cell("LINE", 8) if _numbered(directory, tail) else "") + "".join(
        _cell(name, width) for name, width in _COLUMNS) + "REASON"
    return [f"{terminal_safe(path)} ({what}): {terminal_safe(scope)}", cols]


def _numbered(directory: bool, tail: int | None) -> bool:
    """Whether rows carry line numbers (a JSONL log read from its start)."""
    return not directory and tail is None


def text_row(entry: LogEntry, failures: list[Failure], *, directory: bool, tail: int | None) -> str:
    """One table row; a row that fails verification says FAIL and ends with the reasons."""
    row = row_of(entry.data)
    text = _cell(entry.line, 8) if _numbered(directory, tail) else ""
    check = "FAIL" if failures else "ok"
    if row is None:  # not a JSON object: the failure after <- says what it is
        text += _cell(check, _COLUMNS[0][1])
    else:
        values = (check, row.session_id, row.sequence_number, _time(row.timestamp), row.verdict,
                  row.effect_class, row.tool)
        text += "".join(_cell(v, w) for v, (_, w) in zip(values, _COLUMNS)) + terminal_safe(row.reason or "")
    if failures:
        where = f"{terminal_safe(entry.file)}: " if entry.file is not None else ""
        text += "  <- " + where + "; ".join(f"{f.reason}: {terminal_safe(f.detail)}" for f in failures)
    return text.rstrip()


def json_row(entry: LogEntry, failures: list[Failure]) -> str:
    """One receipt as a JSON object: the row, where it is, whether it verifies, and the receipt itself."""
    row = row_of(entry.data)
    doc: dict[str, Any] = {"line": entry.line, "file": entry.file}
    names = ("session_id", "sequence_number", "timestamp", "tool", "operation", "effect_class", "verdict",
             "reason", "receipt_id")
    doc.update({n: getattr(row, n) if row is not None else None for n in names})
    doc["verified"] = not failures
    doc["failures"] = [{"reason": f.reason, "detail": f.detail} for f in failures]
    doc["receipt"] = entry.data if isinstance(entry.data, dict) else None
    try:
        return json.dumps(doc)
    except (ValueError, RecursionError):  # a receipt that is JSON but nested past the writer's limit
        doc["receipt"] = None
        return json.dumps(doc)


def show_lines(path: str | os.PathLike[str], *, session: str | None = None, tail: int | None = None,
               as_json: bool = False, summary: ShowSummary | None = None) -> Iterator[str]:
    """The lines `spinegate show` prints, produced as the log is read.

    Raises UnknownSession (after reading) when `session` matches nothing,
    OSError when the log cannot be read.
    """
    name = os.fspath(path)
    directory = is_directory_log(path)
    marker = Marker(name, window=tail is not None)
    summary = summary if summary is not None else ShowSummary()
    started = False
    for entry in selected_entries(path, session=session, tail=tail):
        failures = marker.check(entry)
        if not started and not as_json:
            yield from header(name, directory=directory, tail=tail, session=session)
        started = True
        summary.shown += 1
        summary.failing += bool(failures)
        sid = session_of(entry)
        if sid is not None:
            summary.sessions.add(sid)
        yield json_row(entry, failures) if as_json else text_row(entry, failures, directory=directory, tail=tail)
    if session is not None and not started:
        raise UnknownSession(session, name)
    if not as_json:
        if not started:
            yield from header(name, directory=directory, tail=tail, session=session)
        yield closing_line(summary, tail=tail)


def closing_line(summary: ShowSummary, *, tail: int | None) -> str:
    n, k = summary.shown, len(summary.sessions)
    text = f"{n} shown, from {k} session{'s' if k != 1 else ''}"
    if summary.failing:
        text += f"; {summary.failing} FAIL verification (reasons after <-)"
    else:
        text += "; all verify" if n else ""
    if tail is not None:
        text += ("; read from the end of the log: links to receipts before the first one shown of each session "
                 "are not checked here (`spinegate verify` checks the whole log)")
    return text
