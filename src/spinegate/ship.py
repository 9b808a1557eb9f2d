"""Shipping a local JSONL log (and its signed checkpoints) into the PostgreSQL ledger: idempotent, resumable.

For fleets that keep a local log as the source of truth (each call waits
only for the local disk) and copy it into the shared ledger, from cron or
after each session. Each receipt is checked before it is sent (the
twelve-field schema, its hash, its link to the previous receipt of its
session) and stored exactly as the log holds it. Receipts go in log order,
in batches, each batch one transaction, each receipt only as the successor
of the ledger's receipt it links to:

- idempotent: a receipt the ledger already holds with the same hash is
  skipped, so shipping twice gives the same ledger;
- resumable: a ship cut short leaves whole batches committed; the next run
  skips them and goes on;
- never a fork: a receipt the ledger holds *differently* (same session and
  sequence, another hash), or one that breaks its chain, stops the ship
  there, naming the line; everything before it is committed.

Checkpoints follow the receipts; a checkpoint covering receipts not (yet)
shipped is held back for the next run, so the ledger never holds a
checkpoint ahead of its receipts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .checkpoints import well_formed
from .errors import ReceiptFormatError, ReceiptLogError
from .jsonl_store import checkpoint_path_for, read_checkpoint_lines
from .log_lines import LineReader
from .postgres_schema import connect, display_dsn, driver, ensure_schema, first_line
from .postgres_store import INSERT_CHECKPOINT, INSERT_RECEIPT, checkpoint_params, receipt_params
from .receipt_hash import receipt_hash
from .receipts import validate_receipt

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

#: Receipts per transaction.
BATCH = 500


class ShipError(ReceiptLogError):
    """The log cannot be shipped past a line: it is not a valid receipt, or the ledger holds it differently."""


@dataclass
class ShipResult:
    """What one run of `ship_log` did."""

    log: str
    ledger: str
    sent: int = 0  # receipts inserted by this run
    present: int = 0  # receipts the ledger already held, identical
    checkpoints_sent: int = 0
    checkpoints_present: int = 0
    held_back: int = 0  # checkpoints covering receipts not shipped yet
    torn: bool = False  # the log ends in a torn line (left for the next run)

    def summary(self) -> str:
        text = (f"shipped {self.log} to {self.ledger}: {self.sent} receipts sent, {self.present} already there; "
                f"{self.checkpoints_sent} checkpoints sent, {self.checkpoints_present} already there")
        if self.held_back:
            text += f"; {self.held_back} checkpoints held back until the receipts they cover are shipped"
        if self.torn:
            text += "; the last line is incomplete (being written, or torn) and was left for the next run"
        return text


def ship_log(log: str | os.PathLike[str], dsn: str, *, checkpoints: str | os.PathLike[str] | None = None,
             batch: int = BATCH) -> ShipResult:
    """Copy the receipts of `log` and its checkpoint file into the ledger at `dsn`; see the module docstring.

    Raises ShipError naming the line that stops it, and ReceiptLogError (or
    ReceiptWriteError) when the log or the ledger cannot be read or written.
    """
    psycopg = driver()
    path = os.fspath(log)
    location = display_dsn(dsn)
    result = ShipResult(path, location)
    try:
        conn = connect(dsn)
    except psycopg.Error as exc:
        raise ReceiptLogError(f"cannot connect to the ledger: {first_line(exc)}",
                              path=location, fix="check the URL, the server and the role") from None
    try:
        ensure_schema(conn, location)
        shipped = _ship_receipts(conn, path, location, result, batch)
        cpath = os.fspath(checkpoints) if checkpoints is not None else checkpoint_path_for(path)
        if os.path.isfile(cpath):
            _ship_checkpoints(conn, cpath, location, shipped, result)
    except psycopg.Error as exc:
        raise ReceiptLogError(f"the ledger refused the shipment: {first_line(exc)}",
                              path=location, fix="check the server, and the role's INSERT and SELECT "
                              "privileges (docs/fleet.md)") from None
    finally:
        conn.close()
    return result


def _checked_receipts(path: str, result: ShipResult) -> Iterator[tuple[int, dict[str, Any], str]]:
    """(line, receipt, text) of each receipt of the log, checked as a chain verifier would.

    Raises ShipError at the first line that is not a valid receipt or breaks its session's chain.
    """
    heads: dict[str, tuple[int, str]] = {}
    reader = LineReader(path)
    for n, text in _lines(reader):
        try:
            data = json.loads(text)
            validate_receipt(data)
        except (ValueError, RecursionError, ReceiptFormatError) as exc:
            raise ShipError(f"not a valid receipt: {exc}", path=path, line=n, fix=_VERIFY_FIX) from None
        if receipt_hash(data) != data["receipt_hash"]:
            raise ShipError("the receipt's hash does not match its content", path=path, line=n, fix=_VERIFY_FIX)
        sid, seq, prev = data["session_id"], data["sequence_number"], data["previous_receipt_hash"]
        head = heads.get(sid)
        broken = (head is not None and (seq != head[0] + 1 or prev != head[1])) or \
            (head is None and seq == 1 and prev is not None)
        if broken:
            raise ShipError(f"receipt {seq} of session {sid} does not follow the one before it in the log",
                            path=path, line=n, fix=_VERIFY_FIX)
        heads[sid] = (seq, data["receipt_hash"])
        yield n, data, text
    result.torn = reader.torn


_VERIFY_FIX = "run `spinegate verify LOG`; nothing from this line on was shipped"


def _lines(reader: LineReader) -> Iterator[tuple[int, str]]:
    """The reader's lines; a line that is not UTF-8 stops the ship there, like any line that is not a receipt."""
    try:
        yield from reader
    except ReceiptLogError as exc:
        if exc.line is None:
            raise  # the log cannot be read at all
        raise ShipError("not a valid receipt: the line is not UTF-8 text", path=reader.name, line=exc.line,
                        fix=_VERIFY_FIX) from None


def _ship_receipts(conn: psycopg.Connection[Any], path: str, location: str, result: ShipResult,
                   batch: int) -> dict[str, int]:
    """Ship every receipt; returns, per session, the last sequence number the ledger now holds from this log."""
    shipped: dict[str, int] = {}
    pending: list[tuple[int, dict[str, Any]]] = []
    try:
        for n, data, text in _checked_receipts(path, result):
            pending.append((n, receipt_params(data, text)))
            if len(pending) >= batch:
                _send(conn, pending, path, location, result, shipped)
                pending = []
    finally:
        if pending:  # what came before a bad line still goes in
            _send(conn, pending, path, location, result, shipped)
    return shipped


def _send(conn: psycopg.Connection[Any], rows: list[tuple[int, dict[str, Any]]], path: str, location: str,
          result: ShipResult, shipped: dict[str, int]) -> None:
    """One transaction: skip what the ledger holds identically, insert the rest in order, stop at a conflict."""
    with conn.cursor() as cur:
        cur.execute("SELECT r.session_id, r.sequence_number, r.receipt_hash FROM spinegate.receipts r "
                    "JOIN unnest(%s::text[], %s::bigint[]) AS k(s, n) ON r.session_id = k.s AND "
                    "r.sequence_number = k.n", ([p["s"] for _, p in rows], [p["n"] for _, p in rows]))
        held = {(s, n): h for s, n, h in cur.fetchall()}
        conflict: ShipError | None = None
        for n, p in rows:
            have = held.get((p["s"], p["n"]))
            if have is None:
                cur.execute(INSERT_RECEIPT, p)
                if cur.fetchone() is None:
                    conflict = ShipError(f"the ledger refused receipt {p['n']} of session {p['s']}: it does not "
                                         "hold the receipt this one follows, or another writer just wrote this "
                                         "sequence", path=path, line=n, fix=_LEDGER_FIX.format(location=location))
                    break
                result.sent += 1
            elif have == p["h"]:
                result.present += 1
            else:
                conflict = ShipError(f"the ledger holds another receipt {p['n']} of session {p['s']} (hash "
                                     f"{have}, the log's {p['h']}): the chains differ", path=path, line=n,
                                     fix=_LEDGER_FIX.format(location=location))
                break
            shipped[p["s"]] = p["n"]
    conn.commit()
    if conflict is not None:
        raise conflict


_LEDGER_FIX = "run `spinegate verify LOG` and `spinegate verify {location}`, and compare"


def _ship_checkpoints(conn: psycopg.Connection[Any], cpath: str, location: str, shipped: dict[str, int],
                      result: ShipResult) -> None:
    with conn.cursor() as cur:
        for n, cp in read_checkpoint_lines(cpath):
            if cp is None or well_formed(cp) is not None:
                raise ShipError("not a checkpoint the gate wrote (not canonical, or malformed)", path=cpath,
                                line=n, fix="run `spinegate verify LOG --public-key KEY.pub`")
            if cp["count"] and shipped.get(cp["session_id"], 0) < cp["sequence_number"]:
                result.held_back += 1
                continue
            line = json.dumps(cp, sort_keys=True, separators=(",", ":"))
            cur.execute(INSERT_CHECKPOINT, checkpoint_params(cp, line))
            if cur.fetchone() is not None:
                result.checkpoints_sent += 1
                continue
            found = cur.execute("SELECT line FROM spinegate.checkpoints WHERE session_id = %s AND "
                                "checkpoint_index = %s", (cp["session_id"], cp["index"])).fetchone()
            if found is None or found[0] != line:
                conn.commit()
                raise ShipError(f"the ledger holds another checkpoint {cp['index']} of session {cp['session_id']}",
                                path=cpath, line=n, fix=_LEDGER_FIX.format(location=location))
            result.checkpoints_present += 1
    conn.commit()
