"""Reading the PostgreSQL ledger: streamed, from one consistent snapshot, never written to.

Each read opens its own connection and a read-only, repeatable-read
transaction, and streams rows through a server-side cursor, so a ledger of
any size is read in bounded memory and never half before and half after a
concurrent write. A database without the ledger's tables reads as empty.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .canonical import canonical_json
from .errors import ReceiptLogError
from .jsonl_store import MAX_CHECKPOINT_LINE
from .log_lines import StreamedLog
from .postgres_schema import connect, display_dsn, driver, first_line
from .store import StoredRecord

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

#: Rows fetched from the server per round trip when streaming.
FETCH_ROWS = 2000
_CURSOR_NUMBERS = itertools.count(1)  # names server-side cursors apart


@contextmanager
def snapshot(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection in a read-only, repeatable-read transaction; ReceiptLogError when the ledger cannot be read."""
    psycopg = driver()
    location = display_dsn(dsn)
    try:
        conn = connect(dsn)
    except psycopg.Error as exc:
        raise ReceiptLogError(f"cannot read the ledger: {first_line(exc)}", path=location,
                              fix="check the URL, the server and the role's SELECT privilege") from None
    try:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield conn
    except psycopg.Error as exc:
        raise ReceiptLogError(f"cannot read the ledger: {first_line(exc)}", path=location,
                              fix="check the server and the role's SELECT privilege") from None
    finally:
        try:
            conn.rollback()
        except psycopg.Error:
            pass  # the connection is gone (the error that ended the read says why); nothing was written
        finally:
            conn.close()


def has_table(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"spinegate.{table}",)).fetchone()
    return bool(row and row[0])


def stream(conn: psycopg.Connection[Any], query: str, args: tuple[Any, ...] | dict[str, Any] = ()) -> Iterator[Any]:
    """The rows of `query`, fetched FETCH_ROWS at a time through a server-side cursor.

    Each stream has its own cursor, so several may be open at once on `conn`.
    """
    with conn.cursor(name=f"spinegate_read_{next(_CURSOR_NUMBERS)}") as cur:
        cur.itersize = FETCH_ROWS
        cur.execute(query, args)
        yield from cur


def read_records(dsn: str, query: str, args: tuple[Any, ...], *, table: str, location: str) -> Iterator[StoredRecord]:
    """(position, line) rows of `query` as StoredRecords; nothing when the ledger has no such table yet."""
    from .postgres_store import stored_record

    with snapshot(dsn) as conn:
        if not has_table(conn, table):
            return
        for position, line in stream(conn, query, args):
            yield stored_record(position, line, location)


def session_window(since: datetime | None, until: datetime | None) -> tuple[str, dict[str, Any]]:
    """The SQL condition (on a `session_id` column) selecting sessions whose first receipt falls in [since, until).

    A session is archived whole, with the window it began in, so each export
    verifies on its own and each session is in exactly one archive.
    """
    if since is None and until is None:
        return "TRUE", {}
    bounds = []
    if since is not None:
        bounds.append("f.receipt_time >= %(since)s")
    if until is not None:
        bounds.append("f.receipt_time < %(until)s")
    condition = ("session_id IN (SELECT f.session_id FROM spinegate.receipts f WHERE f.sequence_number = 1 AND "
                 + " AND ".join(bounds) + ")")
    return condition, {"since": since, "until": until}


def ledger_lines(conn: psycopg.Connection[Any], table: str, where: str = "TRUE",
                 args: dict[str, Any] | None = None) -> Iterator[tuple[int, str]]:
    """(position, line) of the rows of `table` meeting `where`, in the order they were written."""
    if not has_table(conn, table):
        return
    yield from stream(conn, f"SELECT position, line FROM spinegate.{table} WHERE {where} ORDER BY position",
                      args or {})



def checkpoint_of_row(text: str) -> Any:
    """A checkpoint row's parsed checkpoint, or None when it is not the canonical JSON the gate writes
    (as `jsonl_store.read_checkpoint_lines` reads a checkpoint file's lines)."""
    if len(text) > MAX_CHECKPOINT_LINE:
        return None
    try:
        data = json.loads(text)
        return data if canonical_json(data) == text else None
    except (ValueError, RecursionError, TypeError):
        return None


def checkpoint_rows(conn: psycopg.Connection[Any], table: str, where: str = "TRUE",
                    args: dict[str, Any] | None = None) -> Iterator[tuple[int, Any]]:
    """(place in position order, parsed checkpoint or None) of the rows of a checkpoint `table` meeting `where`."""
    for n, (_, text) in enumerate(ledger_lines(conn, table, where, args), start=1):
        yield n, checkpoint_of_row(text)


def receipt_line_bytes(text: str) -> bytes:
    """A receipt row as a line of the log it would be in a file: a CR or LF inside it (never in a line the gate
    wrote) becomes NUL, which keeps it one line and makes it invalid JSON."""
    return text.replace("\n", "\0").replace("\r", "\0").encode("utf-8") + b"\n"


def ledger_log(conn: psycopg.Connection[Any], location: str) -> StreamedLog:
    """The ledger's receipts and checkpoints as a `StreamedLog`: every row, in position order, streamed again on
    each pass from `conn`'s snapshot (a row's line number is its place in that order, its line in `export`)."""

    def receipt_lines() -> Iterator[bytes]:
        for _, text in ledger_lines(conn, "receipts"):
            yield receipt_line_bytes(text)

    return StreamedLog(location, f"{location} (checkpoints)", receipt_lines,
                       lambda: checkpoint_rows(conn, "checkpoints"))
