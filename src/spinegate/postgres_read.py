"""Reading the PostgreSQL ledger: streamed, from one consistent snapshot, never written to.

Each read opens its own connection and a read-only, repeatable-read
transaction, and streams rows through a server-side cursor, so a ledger of
any size is read in bounded memory and never half before and half after a
concurrent write. A database without the ledger's tables reads as empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import ReceiptLogError
from .postgres_schema import connect, display_dsn, driver, first_line
from .store import StoredRecord

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

#: Rows fetched from the server per round trip when streaming.
FETCH_ROWS = 2000


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
        finally:
            conn.close()


def has_table(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"spinegate.{table}",)).fetchone()
    return bool(row and row[0])


def stream(conn: psycopg.Connection[Any], query: str, args: tuple[Any, ...] | dict[str, Any] = ()) -> Iterator[Any]:
    """The rows of `query`, fetched FETCH_ROWS at a time through a server-side cursor."""
    with conn.cursor(name="spinegate_read") as cur:
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

