"""The PostgreSQL ledger: one receipt store that every gate of a fleet shares (the extra `spinegate[postgres]`).

`Gate.open(manifest, receipts="postgresql://user@host:port/db")` writes each
receipt as a row of ``spinegate.receipts`` (see `postgres_schema`) and
commits it before `check` returns: no commit, no execution.

Writers in one process share one connection per URL and one commit per
batch (group commit across sessions): `write_receipt` queues the row under
the gate's lock, `sync` returns once a commit covering it succeeded. The
first caller to find no commit running leads one for everything queued;
the others wait for it. Every receipt is inserted only as the successor of
the receipt it links to, which the ledger must already hold (or sequence 1
with no link), and (session, sequence) is unique: two writers of one
session, on one host or many, can never fork its chain; the second is
refused and its call denied. Writers of different sessions never wait on
each other's rows.

Connection loss: a batch whose commit failed or whose outcome is unknown is
sent again on a new connection (rows already committed are recognised by
their hash, never written twice), for up to `reconnect_for` seconds; past
that the waiting calls are denied (RECEIPT_WRITE_FAILED) and the rows stay
queued, first in line, so the chain continues when the server is back.
Until then new receipts are refused at once, and their calls denied.
Nothing is dropped that an agent was told was recorded.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ReceiptLogError, ReceiptWriteError
from .postgres_schema import connect, display_dsn, driver, ensure_schema, first_line
from .receipts import Receipt
from .store import Durability, StoredRecord

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

log = logging.getLogger("spinegate")

#: A receipt goes in only as the successor of the ledger's row it links to (or as sequence 1 with no link).
INSERT_RECEIPT = """\
INSERT INTO spinegate.receipts (session_id, sequence_number, receipt_id, receipt_hash, previous_receipt_hash,
                                receipt_time, operation, tool, status, line)
SELECT %(s)s, %(n)s, %(id)s, %(h)s, %(p)s::text, %(t)s::timestamptz, %(op)s, %(tool)s, %(st)s, %(line)s
WHERE CASE WHEN %(n)s::bigint = 1 THEN %(p)s::text IS NULL
      ELSE EXISTS (SELECT 1 FROM spinegate.receipts r
                   WHERE r.session_id = %(s)s AND r.sequence_number = %(n)s::bigint - 1
                     AND r.receipt_hash = %(p)s::text) END
ON CONFLICT (session_id, sequence_number) DO NOTHING
RETURNING position"""

INSERT_CHECKPOINT = """\
INSERT INTO spinegate.checkpoints (session_id, checkpoint_index, sequence_number, key_id, line)
VALUES (%(s)s, %(i)s, %(n)s, %(k)s, %(line)s)
ON CONFLICT (session_id, checkpoint_index) DO NOTHING
RETURNING position"""

INSERT_WITNESS = """\
INSERT INTO spinegate.witness (log_name, session_id, checkpoint_index, sequence_number, line)
VALUES (%(log)s, %(s)s, %(i)s, %(n)s, %(line)s)
ON CONFLICT (log_name, session_id, checkpoint_index) DO NOTHING
RETURNING position"""

_RECEIPT, _CHECKPOINT, _WITNESS = "receipt", "checkpoint", "witness"
_INSERTS = {_RECEIPT: INSERT_RECEIPT, _CHECKPOINT: INSERT_CHECKPOINT, _WITNESS: INSERT_WITNESS}
_NEW_SESSION_FIX = "open a new session (no session_id); run `spinegate verify` on the ledger if this is unexpected"


class _Row:
    """One row waiting for a commit: what to insert, and (once done) whether it went in."""

    __slots__ = ("done", "error", "kind", "params", "taken")

    def __init__(self, kind: str, params: dict[str, Any]) -> None:
        self.kind = kind
        self.params = params
        self.taken = False  # in the batch being committed
        self.done = False
        self.error: ReceiptWriteError | None = None

    def again(self) -> _Row:
        """A fresh copy, queued again after a failed attempt (the chain must not lose it)."""
        return _Row(self.kind, self.params)


def receipt_params(receipt: Mapping[str, Any], line: str) -> dict[str, Any]:
    """The columns of one receipt row (the indexed fields beside its stored line)."""
    action, result = receipt["action"], receipt["result"]
    return {"s": receipt["session_id"], "n": receipt["sequence_number"], "id": receipt["receipt_id"],
            "h": receipt["receipt_hash"], "p": receipt["previous_receipt_hash"], "t": receipt["timestamp"],
            "op": action["operation"], "tool": action["tool"], "st": result["status"], "line": line}


def checkpoint_params(checkpoint: Mapping[str, Any], line: str) -> dict[str, Any]:
    return {"s": checkpoint["session_id"], "i": checkpoint["index"], "n": checkpoint["sequence_number"],
            "k": checkpoint["key_id"], "line": line}


class Ledger:
    """The write side of one ledger in this process: one connection, group commit, reconnection.

    Shared by every store of the same URL in a process (`Ledger.share`), so
    concurrent sessions share commits. `commits` and `rows` count what it did.
    """

    _shared: ClassVar[dict[tuple[int, str], Ledger]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, dsn: str, *, reconnect_for: float = 5.0) -> None:
        driver()  # a clear error now if psycopg is missing
        self.dsn = dsn
        self.location = display_dsn(dsn)
        self.reconnect_for = reconnect_for
        self.commits = 0
        self.rows = 0
        self._users = 0
        # Group commit without a thundering herd (as `jsonl_store.JsonlFile.sync`): each waiter parks on its own
        # pre-acquired lock; a finished commit wakes only the callers it covered, and the first caller whose
        # row came in during it, who leads the next. All of this state is guarded by `_mutex`.
        self._mutex = threading.Lock()
        self._queue: list[_Row] = []
        self._busy = False
        self._running_waiters: list[threading.Lock] = []  # callers whose rows the running commit covers
        self._queued_waiters: list[threading.Lock] = []  # callers whose rows are queued for a later one
        self._next_leader: threading.Lock | None = None  # the first of those: leads the next commit
        self._conn: psycopg.Connection[Any] | None = None  # used by the leader of a commit only
        self._down_until = 0.0
        self._down_error: ReceiptWriteError | None = None

    # -- sharing ---------------------------------------------------------------------------------

    @classmethod
    def share(cls, dsn: str, *, reconnect_for: float = 5.0) -> Ledger:
        """The ledger of `dsn` in this process (made on first use); `release` it when done."""
        key = (os.getpid(), dsn)  # a forked child makes its own: a connection is never shared across processes
        with cls._shared_lock:
            ledger = cls._shared.get(key)
            if ledger is None:
                ledger = cls._shared[key] = cls(dsn, reconnect_for=reconnect_for)
            ledger._users += 1
            return ledger

    def release(self) -> None:
        """One user fewer; the last one commits what is queued and closes the connection."""
        with self._shared_lock:
            self._users -= 1
            if self._users > 0:
                return
            self._shared.pop((os.getpid(), self.dsn), None)
        with self._mutex:
            pending = list(self._queue)
        if pending:
            try:
                self.wait(pending[-1])
            except ReceiptWriteError as exc:
                log.warning("%d receipt row(s) queued for %s were never committed (their calls were denied): %s",
                            len(pending), self.location, exc)
        self._drop_connection()

    # -- writing ---------------------------------------------------------------------------------

    def submit(self, kind: str, params: dict[str, Any]) -> _Row:
        """Queue one row for the next commit. Raises ReceiptWriteError at once while the ledger is known down."""
        row = _Row(kind, params)
        with self._mutex:
            if self._down_error is not None and time.monotonic() < self._down_until:
                raise self._down_error
            self._queue.append(row)
        return row

    def wait(self, row: _Row) -> None:
        """Return once `row` is committed; raise ReceiptWriteError if it was refused or could not be."""
        while True:
            with self._mutex:
                if row.done:
                    break
                if self._busy:
                    parked = threading.Lock()
                    parked.acquire()
                    if row.taken:
                        self._running_waiters.append(parked)
                    elif self._next_leader is None:
                        self._next_leader = parked
                    else:
                        self._queued_waiters.append(parked)
                else:
                    # Lead: one commit for everything queued; its callers now wait for this commit.
                    self._busy = True
                    batch, self._queue = self._queue, []
                    for r in batch:
                        r.taken = True
                    covered = self._queued_waiters
                    if self._next_leader is not None:
                        covered.append(self._next_leader)
                    self._running_waiters, self._queued_waiters, self._next_leader = covered, [], None
                    parked = None
            if parked is None:
                self._lead(batch)
                break
            parked.acquire()  # released when the commit covering the row ends, or to lead the next: re-check
        if row.error is not None:
            raise row.error

    def _lead(self, batch: list[_Row]) -> None:
        """Commit `batch`, then wake the callers it covered and the next leader."""
        try:
            self._commit(batch)
        except BaseException as exc:  # a bug or an interrupt: no caller may wait for a row that will never be done
            _finish([r for r in batch if not r.done], ReceiptWriteError(
                f"writing to the ledger failed: {type(exc).__name__}: {exc}", path=self.location))
            raise
        finally:
            with self._mutex:
                self._busy = False
                covered, self._running_waiters = self._running_waiters, []
                # The first caller whose row came in meanwhile leads the next commit; the others queued behind
                # it stay parked until that leader takes their rows (then they wait for its commit).
                following, self._next_leader = self._next_leader, None
            if following is not None:
                following.release()  # first, so the next commit starts while the covered callers wake
            for parked in covered:
                parked.release()

    def _commit(self, batch: list[_Row]) -> None:
        """Insert and commit `batch`, resolving each row; retries a lost connection for `reconnect_for` seconds."""
        psycopg = driver()
        deadline = time.monotonic() + self.reconnect_for
        pause = 0.05
        while True:
            try:
                conn = self._connection()
                self._insert(conn, batch)
                with self._mutex:
                    self._down_error = None
                return
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._drop_connection()
                if time.monotonic() + pause > deadline:
                    self._give_up(batch, exc)
                    return
                log.warning("the ledger %s did not answer (%s); retrying", self.location, first_line(exc))
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
            except psycopg.Error as exc:  # refused by the server: a privilege, a value out of range
                self._rollback()
                if len(batch) > 1:  # find the one at fault: the others go in
                    for row in batch:
                        self._commit([row])
                    return
                _finish(batch, ReceiptWriteError(f"the ledger refused the row: {first_line(exc)}",
                                                 path=self.location, fix=_fix_for(exc)))
                return
            except ReceiptWriteError as exc:  # the schema could not be made
                self._drop_connection()
                _finish(batch, exc)
                return

    def _give_up(self, batch: list[_Row], exc: BaseException) -> None:
        """Deny the waiting calls; keep their rows first in the queue, and refuse new ones for a moment."""
        if isinstance(exc, driver().errors.LockNotAvailable):
            error = ReceiptWriteError(f"the ledger is locked by another session: {first_line(exc)}",
                                      path=self.location, fix="find the session holding a lock on the ledger's tables "
                                      "(pg_locks); calls are denied until it lets go")
        else:
            error = ReceiptWriteError(f"the ledger cannot be reached: {first_line(exc)}", path=self.location,
                                      fix="check the server and the network; calls are denied until it answers")
        with self._mutex:
            self._queue[:0] = [row.again() for row in batch]
            self._down_error = error
            self._down_until = time.monotonic() + min(1.0, self.reconnect_for)
        log.warning("the ledger %s cannot be reached; denying calls until it answers: %s", self.location, exc)
        _finish(batch, error)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = connect(self.dsn)
            try:
                ensure_schema(conn, self.location)
                _bound_lock_waits(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken: nothing more to release
                pass

    def _rollback(self) -> None:
        if self._conn is not None:
            try:
                self._conn.rollback()
            except Exception:  # noqa: BLE001 - a broken connection: the next attempt reconnects
                self._drop_connection()

    def _insert(self, conn: psycopg.Connection[Any], batch: list[_Row]) -> None:
        """One transaction: every row of the batch (by kind, in order), each not taken resolved, then commit."""
        refused: list[_Row] = []
        with conn.cursor() as cur:
            for kind, query in _INSERTS.items():
                rows = [r for r in batch if r.kind == kind]
                if not rows:
                    continue
                cur.executemany(query, [r.params for r in rows], returning=True)
                for r in rows:
                    if cur.fetchone() is None:
                        refused.append(r)
                    cur.nextset()
            errors = self._resolve(cur, refused) if refused else {}
        conn.commit()
        self.commits += 1
        self.rows += len(batch) - len(errors)
        for r in batch:
            r.error = errors.get(id(r))
            r.done = True

    def _resolve(self, cur: psycopg.Cursor[Any], refused: list[_Row]) -> dict[int, ReceiptWriteError]:
        """Why each row not inserted was not: already there (ours, sent again: fine) or in conflict (an error)."""
        errors: dict[int, ReceiptWriteError] = {}
        for r in refused:
            p = r.params
            if r.kind == _RECEIPT:
                found = cur.execute("SELECT receipt_hash FROM spinegate.receipts WHERE session_id = %s AND "
                                    "sequence_number = %s", (p["s"], p["n"])).fetchone()
                if found is not None and found[0] == p["h"]:
                    continue  # committed by an earlier attempt whose answer was lost
                if found is not None:
                    errors[id(r)] = ReceiptWriteError(
                        f"session {p['s']} already has a receipt with sequence {p['n']} in the ledger: another "
                        "writer continues this session, so this chain may not", path=self.location,
                        fix=_NEW_SESSION_FIX)
                else:
                    errors[id(r)] = ReceiptWriteError(
                        f"the ledger does not hold the receipt that sequence {p['n']} of session {p['s']} follows "
                        f"(sequence {p['n'] - 1} with hash {p['p']}): an earlier receipt of this session was "
                        "refused, so the chain cannot continue here", path=self.location, fix=_NEW_SESSION_FIX)
            else:
                table = "checkpoints" if r.kind == _CHECKPOINT else "witness"
                where = "session_id = %s AND checkpoint_index = %s"
                args: tuple[Any, ...] = (p["s"], p["i"])
                if r.kind == _WITNESS:
                    where, args = "log_name = %s AND " + where, (p["log"], *args)
                found = cur.execute(f"SELECT line FROM spinegate.{table} WHERE {where}", args).fetchone()
                if found is None or found[0] != p["line"]:
                    errors[id(r)] = ReceiptWriteError(
                        f"the ledger's {table} table already holds another checkpoint {p['i']} of session {p['s']}: "
                        "another writer signs this session", path=self.location, fix=_NEW_SESSION_FIX)
        return errors


#: How long a writer's statement waits on a lock another session holds on the ledger's tables (an owner's
#: LOCK TABLE, a long migration) before the attempt fails and is retried like a lost connection (then denied),
#: unless the URL, the role or the database sets its own `lock_timeout`.
LOCK_TIMEOUT_MS = 5000


def _bound_lock_waits(conn: psycopg.Connection[Any]) -> None:
    """Give the writer's connection LOCK_TIMEOUT_MS as its lock_timeout when nothing else set one: no call waits
    without end on a server that answers but is blocked."""
    conn.execute("SELECT set_config('lock_timeout', %s, false) WHERE current_setting('lock_timeout') = '0'",
                 (f"{LOCK_TIMEOUT_MS}ms",))
    conn.commit()


def _forget_after_fork() -> None:
    """In a forked child: the parent's ledgers (their connections, a lock another thread held) are not its own."""
    Ledger._shared_lock = threading.Lock()
    Ledger._shared = {}


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_after_fork)


def _finish(batch: list[_Row], error: ReceiptWriteError) -> None:
    for r in batch:
        r.error = error
        r.done = True



def _fix_for(exc: BaseException) -> str:
    psycopg = driver()
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return "grant the writer role INSERT and SELECT on the ledger's tables (docs/fleet.md)"
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return ("the server or database only reads (a standby, or default_transaction_read_only): point the URL at "
                "the primary, writable database")
    return "check the server's log"


class PostgresReceiptStore:
    """The `ReceiptStore` of a PostgreSQL ledger: receipts and checkpoints as rows, committed before `sync` returns.

    Opening connects to nothing: the first write connects (and creates the
    schema if the database has none); continuing a session reads it.
    `reconnect_for` is how long a lost connection is retried before calls
    are denied (shared by every store of the URL in the process: the first
    one's setting holds).
    """

    #: Every receipt is committed (and the server flushes its log, with synchronous_commit on, the
    #: default) before the call runs; async callers write from a worker thread.
    durability: Durability = "fsync"

    def __init__(self, dsn: str, *, reconnect_for: float = 5.0) -> None:
        self.dsn = dsn
        self.location = display_dsn(dsn)
        self.checkpoints_location = self.location
        self._ledger: Ledger | None = Ledger.share(dsn, reconnect_for=reconnect_for)
        self._tickets: dict[int, _Row] = {}
        self._next_ticket = 0
        self._lock = threading.Lock()

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            raise ReceiptWriteError("the ledger store is closed", path=self.location, fix="open a new gate")
        return self._ledger

    # -- receipts --------------------------------------------------------------------------------

    def write_receipt(self, receipt: Receipt) -> int:
        row = self.ledger.submit(_RECEIPT, receipt_params(receipt, receipt.to_json()))
        with self._lock:
            self._next_ticket += 1
            ticket = self._next_ticket
            self._tickets[ticket] = row
        return ticket

    def sync(self, ticket: int) -> None:
        with self._lock:
            row = self._tickets.pop(ticket, None)
        if row is not None:
            self.ledger.wait(row)

    def last_receipt(self, session_id: str) -> dict[str, Any] | None:
        for record in self._read("SELECT position, line FROM spinegate.receipts WHERE session_id = %s "
                                 "ORDER BY sequence_number DESC LIMIT 1", (session_id,), "receipts"):
            return record.data
        return None

    def session_receipts(self, session_id: str) -> Iterator[StoredRecord]:
        return self._read("SELECT position, line FROM spinegate.receipts WHERE session_id = %s "
                          "ORDER BY sequence_number", (session_id,), "receipts")

    def all_receipts(self) -> Iterator[StoredRecord]:
        return self._read("SELECT position, line FROM spinegate.receipts ORDER BY position", (), "receipts")

    # -- checkpoints -----------------------------------------------------------------------------

    def write_checkpoint(self, checkpoint: Mapping[str, Any], line: str) -> None:
        """Queued behind this session's receipts, so it commits with them or after them, never before."""
        self.ledger.wait(self.ledger.submit(_CHECKPOINT, checkpoint_params(checkpoint, line)))

    def session_checkpoints(self, session_id: str) -> Iterator[StoredRecord]:
        return self._read("SELECT position, line FROM spinegate.checkpoints WHERE session_id = %s "
                          "ORDER BY checkpoint_index", (session_id,), "checkpoints")

    def all_checkpoints(self) -> Iterator[StoredRecord]:
        return self._read("SELECT position, line FROM spinegate.checkpoints ORDER BY position", (), "checkpoints")

    def _read(self, query: str, args: tuple[Any, ...], table: str) -> Iterator[StoredRecord]:
        from .postgres_read import read_records

        return read_records(self.dsn, query, args, table=table, location=self.location)

    # -- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Commit what this store queued (if the server answers) and release the shared connection."""
        with self._lock:
            ledger, self._ledger = self._ledger, None
            pending = list(self._tickets.values())
            self._tickets.clear()
        if ledger is None:
            return
        try:
            for row in pending:
                ledger.wait(row)
        except ReceiptWriteError as exc:
            log.warning("closing %s: %s", self.location, exc)
        finally:
            ledger.release()


class LedgerWitness:
    """A `witness.Witness` in the ledger's ``witness`` table: every checkpoint of one log, under its `log_name`.

    `log_name` says which log the checkpoints are of (default: this host and
    the log's absolute path), so one ledger can witness a fleet's local logs.
    """

    def __init__(self, dsn: str, *, log_name: str, reconnect_for: float = 5.0) -> None:
        self.dsn = dsn
        self.log_name = log_name
        self.location = f"{display_dsn(dsn)} (witness of {log_name})"
        self._ledger: Ledger | None = Ledger.share(dsn, reconnect_for=reconnect_for)

    def append(self, checkpoint: Mapping[str, Any], line: str) -> None:
        if self._ledger is None:
            raise ReceiptWriteError("the witness is closed", path=self.location, fix="open a new gate")
        params = dict(checkpoint_params(checkpoint, line), log=self.log_name)
        self._ledger.wait(self._ledger.submit(_WITNESS, params))

    def close(self) -> None:
        ledger, self._ledger = self._ledger, None
        if ledger is not None:
            ledger.release()


def stored_record(position: int, line: str, location: str) -> StoredRecord:
    """A row's line as a `StoredRecord`; ReceiptLogError when the ledger holds something that is not an object."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise ReceiptLogError(f"row {position} is not valid JSON: {exc}", path=location) from None
    if not isinstance(data, dict):
        raise ReceiptLogError(f"row {position} is not a JSON object", path=location)
    return StoredRecord(position, data, line)
