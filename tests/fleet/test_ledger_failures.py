"""The ledger failing under a write, against a real server: every call whose receipt is not committed is denied
with a reason that says what to do, the tool never runs, and no receipt an agent was given is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fleet_support import GIT, cli, ledger_receipts, read_call

from spinegate import Gate, postgres_store
from spinegate.decision import Decision
from spinegate.postgres_store import PostgresReceiptStore
from spinegate.reasons import RECEIPT_WRITE_FAILED


def _admin(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True)


class Tool:
    """A tool the agent may run only with an approved decision (what every adapter does)."""

    def __init__(self) -> None:
        self.runs = 0

    def call(self, gate: Gate, i: int) -> Decision:
        decision = gate.check(read_call(i))
        if decision.approved:
            self.runs += 1
        return decision


def _denied_for_the_receipt(decision: Decision, *words: str) -> None:
    assert not decision.approved
    assert decision.reason is not None and decision.reason.startswith(RECEIPT_WRITE_FAILED), decision.reason
    for word in words:
        assert word in decision.reason, decision.reason


def test_a_read_only_ledger_denies_and_says_so(manifest_path: Path, ledger: str) -> None:
    with Gate.open(manifest_path, receipts=ledger, git=GIT) as gate:  # the schema exists
        assert gate.check(read_call(0)).approved
    with _admin(ledger) as conn:  # a standby, or a database turned read-only
        conn.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', "
                     "current_database()); END $$")
    tool = Tool()
    with Gate.open(manifest_path, receipts=ledger, git=GIT) as gate:
        decision = tool.call(gate, 1)
        _denied_for_the_receipt(decision, "read-only", "primary")
        _denied_for_the_receipt(tool.call(gate, 2), "read-only")
    assert tool.runs == 0
    assert len(ledger_receipts(ledger)) == 1


def test_a_read_only_database_without_the_ledger_denies_and_says_so(manifest_path: Path, ledger: str) -> None:
    with _admin(ledger) as conn:
        conn.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', "
                     "current_database()); END $$")
    tool = Tool()
    with Gate.open(manifest_path, receipts=ledger, git=GIT) as gate:
        _denied_for_the_receipt(tool.call(gate, 1), "read-only", "primary")
    assert tool.runs == 0


def _hold_the_table(ledger: str) -> psycopg.Connection[Any]:
    """Another session locks the receipts table: the gate's INSERT waits on the server, mid-write."""
    holder = psycopg.connect(ledger)
    holder.execute("LOCK TABLE spinegate.receipts IN EXCLUSIVE MODE")
    return holder


def _writer_backends(ledger: str) -> list[int]:
    with _admin(ledger) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'spinegate' AND wait_event_type = 'Lock' "
            "AND datname = current_database()").fetchall()]


def _wait_for_writer(ledger: str) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = _writer_backends(ledger)
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("the gate's INSERT never waited on the lock")


def test_a_connection_lost_during_the_write_is_retried_and_the_receipt_committed_once(
        manifest_path: Path, ledger: str) -> None:
    tool = Tool()
    store = PostgresReceiptStore(ledger, reconnect_for=10.0)
    with Gate.open(manifest_path, receipts=store, git=GIT) as gate:
        assert tool.call(gate, 0).approved
        holder = _hold_the_table(ledger)
        results: list[Decision] = []
        writer = threading.Thread(target=lambda: results.append(tool.call(gate, 1)))
        writer.start()
        try:
            victims = _wait_for_writer(ledger)
            with _admin(ledger) as conn:  # the connection dies with the INSERT in flight
                for pid in victims:
                    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            time.sleep(0.3)  # the writer reconnects and waits on the lock again
        finally:
            holder.rollback()
            holder.close()
        writer.join(30)
        assert results and results[0].approved, results
        assert tool.call(gate, 2).approved
    receipts = ledger_receipts(ledger)
    assert [r["sequence_number"] for r in receipts] == [1, 2, 3]
    assert results[0].receipt_id == receipts[1]["receipt_id"]
    assert tool.runs == 3
    assert cli("verify", ledger).exit_code == 0


def test_a_server_that_dies_during_the_write_denies_the_call_and_loses_nothing_given(
        manifest_path: Path, ledger: str, postgres: Any) -> None:
    tool = Tool()
    store = PostgresReceiptStore(ledger, reconnect_for=1.0)
    gate = Gate.open(manifest_path, receipts=store, git=GIT)
    given = tool.call(gate, 0)
    assert given.approved
    holder = _hold_the_table(ledger)
    results: list[Decision] = []
    writer = threading.Thread(target=lambda: results.append(tool.call(gate, 1)))
    writer.start()
    try:
        _wait_for_writer(ledger)
        postgres.stop("immediate")  # the server is gone with the INSERT in flight, outcome unknown to the gate
        writer.join(30)
        assert not writer.is_alive()
        _denied_for_the_receipt(results[0], "cannot be reached")
    finally:
        holder.close()
        if not postgres.running():
            postgres.start()
        postgres.wait_ready()
    time.sleep(1.1)  # past the moment new receipts are refused outright
    after = tool.call(gate, 2)
    assert after.approved, after.reason
    gate.close()
    assert tool.runs == 2
    ids = [r["receipt_id"] for r in ledger_receipts(ledger)]
    assert given.receipt_id in ids and after.receipt_id in ids
    assert cli("verify", ledger).exit_code == 0


def test_a_write_blocked_by_a_lock_is_denied_in_bounded_time_and_the_chain_goes_on(
        manifest_path: Path, ledger: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_store, "LOCK_TIMEOUT_MS", 300)
    tool = Tool()
    store = PostgresReceiptStore(ledger, reconnect_for=0.5)
    with Gate.open(manifest_path, receipts=store, git=GIT) as gate:
        assert tool.call(gate, 0).approved
        holder = _hold_the_table(ledger)  # an owner's LOCK TABLE, left open
        try:
            started = time.monotonic()
            _denied_for_the_receipt(tool.call(gate, 1), "locked by another session", "pg_locks")
            assert time.monotonic() - started < 10
        finally:
            holder.rollback()
            holder.close()
        time.sleep(1.1)  # past the moment new receipts are refused outright
        assert tool.call(gate, 2).approved
    assert tool.runs == 2
    assert [r["sequence_number"] for r in ledger_receipts(ledger)] == [1, 2, 3]  # the denied one, first in line
    assert cli("verify", ledger).exit_code == 0


def test_a_lock_timeout_the_role_sets_is_kept(manifest_path: Path, ledger: str) -> None:
    with _admin(ledger) as conn:
        conn.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET lock_timeout = ''42s''', "
                     "current_database()); END $$")
    store = PostgresReceiptStore(ledger)
    with Gate.open(manifest_path, receipts=store, git=GIT) as gate:
        assert gate.check(read_call(0)).approved
        conn = store.ledger._conn
        assert conn is not None
        assert conn.execute("SHOW lock_timeout").fetchone() == ("42s",)
        conn.rollback()
