"""The PostgreSQL ledger against a real server: what it stores, ordering and forks, roles, loss of the server.

Every test gets a fresh database on the session's throwaway server (the
`ledger` fixture); nothing here is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fleet_support import GIT, canonical, cli, ledger_receipts, read_call, rows

from spinegate import Gate, ReceiptWriteError
from spinegate.postgres_schema import SCHEMA_SQL, SCHEMA_VERSION
from spinegate.postgres_store import PostgresReceiptStore
from spinegate.reasons import RECEIPT_WRITE_FAILED

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _admin(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True)


# --------------------------------------------------------------------------
# What is stored, and when


def test_each_receipt_is_committed_before_check_returns_with_its_line_byte_for_byte(manifest_path: Path,
                                                                                   ledger: str) -> None:
    with Gate.open(manifest_path, receipts=ledger, git=GIT) as gate:
        for i in range(3):
            decision = gate.check(read_call(i))
            assert decision.approved and decision.receipt is not None
            # another connection sees it at once: committed, not merely sent
            with psycopg.connect(ledger) as other:
                row = other.execute(
                    "SELECT line, session_id, sequence_number, receipt_id, receipt_hash, previous_receipt_hash, "
                    "receipt_time, operation, tool, status FROM spinegate.receipts WHERE receipt_id = %s",
                    (decision.receipt_id,)).fetchone()
            assert row is not None
            r = decision.receipt
            assert row[0] == r.to_json()  # the canonical line, byte for byte
            assert row[1:6] == (r.session_id, r.sequence_number, r.receipt_id, r.receipt_hash,
                                r.previous_receipt_hash)
            assert row[6].isoformat(timespec="microseconds") == r["timestamp"]
            assert row[7:] == ("decision", "Files.Read", "success")


def test_the_schema_is_created_on_first_use_and_versioned(manifest_path: Path, ledger: str) -> None:
    with _admin(ledger) as conn:
        assert conn.execute("SELECT to_regclass('spinegate.receipts')").fetchone() == (None,)
    gate = Gate.open(manifest_path, receipts=ledger, git=GIT)  # opening connects to nothing yet
    with _admin(ledger) as conn:
        assert conn.execute("SELECT to_regclass('spinegate.receipts')").fetchone() == (None,)
    assert gate.check(read_call(1)).approved
    gate.close()
    with _admin(ledger) as conn:
        assert conn.execute("SELECT version FROM spinegate.schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_a_ledger_of_a_newer_layout_is_refused_and_the_call_denied(manifest_path: Path, ledger: str) -> None:
    with _admin(ledger) as conn:
        conn.execute(SCHEMA_SQL)
        conn.execute("INSERT INTO spinegate.schema_version (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with Gate.open(manifest_path, receipts=ledger, git=GIT) as gate:
        decision = gate.check(read_call(1))
    assert not decision.approved and decision.reason is not None
    assert decision.reason.startswith(RECEIPT_WRITE_FAILED) and "upgrade spinegate" in decision.reason
    assert rows(ledger) == []


def test_the_documented_schema_sql_is_the_one_the_ledger_runs() -> None:
    text = (ROOT / "docs" / "fleet.md").read_text(encoding="utf-8")
    assert SCHEMA_SQL.strip() in text


# --------------------------------------------------------------------------
# Ordering: many sessions at once, two writers of one session


def test_many_sessions_at_once_share_commits_and_each_chain_verifies(manifest_path: Path, ledger: str) -> None:
    gates = [Gate.open(manifest_path, receipts=ledger, git=GIT) for _ in range(12)]
    errors: list[BaseException] = []

    def run(gate: Gate) -> None:
        try:
            for i in range(25):
                assert gate.check(read_call(i)).approved
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(g,)) for g in gates]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger_store = gates[0].store
    assert isinstance(ledger_store, PostgresReceiptStore)
    commits = ledger_store.ledger.commits
    for g in gates:
        g.close()
    assert errors == []
    receipts = ledger_receipts(ledger)
    assert len(receipts) == 300
    for g in gates:  # each session in order, whatever the interleaving
        assert [r["sequence_number"] for r in receipts if r["session_id"] == g.session_id] == list(range(1, 26))
    assert commits < 300  # concurrent sessions shared commits
    result = cli("verify", ledger)
    assert result.exit_code == 0, result.output
    assert "300 receipts, 12 sessions" in result.output


def test_two_writers_of_one_session_cannot_fork_it(manifest_path: Path, ledger: str) -> None:
    """A second gate continuing the same session: the first to write each sequence wins, the other is denied."""
    first = Gate.open(manifest_path, receipts=ledger, git=GIT)
    assert first.check(read_call(1)).approved
    sid = first.session_id
    second = Gate.open(manifest_path, receipts=ledger, git=GIT, session_id=sid)  # resumes from sequence 1
    assert second.check(read_call(2)).approved  # sequence 2, linked to 1
    stale = first.check(read_call(3))  # the first gate still thinks sequence 2 is next
    assert not stale.approved and stale.reason is not None
    assert "already has a receipt with sequence 2" in stale.reason
    again = first.check(read_call(4))  # and it stays refused: its chain cannot continue here
    assert not again.approved
    assert second.check(read_call(5)).approved  # the winner goes on
    first.close()
    second.close()
    receipts = ledger_receipts(ledger)
    assert [r["sequence_number"] for r in receipts] == [1, 2, 3]
    assert cli("verify", ledger).exit_code == 0


def test_two_writers_racing_on_one_session_leave_one_chain(manifest_path: Path, ledger: str) -> None:
    """Two processes' worth of gates, the same session, writing as fast as they can: never a fork."""
    opener = Gate.open(manifest_path, receipts=ledger, git=GIT)
    assert opener.check(read_call(0)).approved
    sid = opener.session_id
    opener.close()
    gates = [Gate.open(manifest_path, receipts=PostgresReceiptStore(ledger), git=GIT, session_id=sid)
             for _ in range(2)]
    approved: list[str] = []

    def run(gate: Gate) -> None:
        for i in range(30):
            d = gate.check(read_call(i))
            if d.approved and d.receipt is not None:
                approved.append(d.receipt_id or "")

    threads = [threading.Thread(target=run, args=(g,)) for g in gates]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in gates:
        g.close()
    receipts = ledger_receipts(ledger)
    seqs = [r["sequence_number"] for r in receipts]
    assert seqs == list(range(1, len(seqs) + 1))  # one chain, no two receipts with one sequence
    assert {r["receipt_id"] for r in receipts} >= set(approved)
    assert cli("verify", ledger).exit_code == 0


def test_two_processes_racing_on_one_session_leave_one_chain(manifest_path: Path, ledger: str) -> None:
    """As two hosts would: separate processes, separate connections, the same session, as fast as they can."""
    with Gate.open(manifest_path, receipts=ledger, git=GIT) as opener:
        assert opener.check(read_call(0)).approved
        sid = opener.session_id
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    writer = str(HERE / "ledger_writer.py")
    procs = [subprocess.Popen([sys.executable, writer, str(manifest_path), ledger, "40", "--session", sid,
                               "--keep-going"], stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].splitlines() for p in procs]
    given = [line for out in outputs for line in out if not line.startswith("DENIED")]
    denied = [line for out in outputs for line in out if line.startswith("DENIED")]
    receipts = ledger_receipts(ledger)
    assert [r["sequence_number"] for r in receipts] == list(range(1, len(receipts) + 1))  # one chain
    assert set(given) <= {r["receipt_id"] for r in receipts}
    assert all("another writer continues this session" in d or "does not hold the receipt" in d for d in denied)
    assert cli("verify", ledger).exit_code == 0


# --------------------------------------------------------------------------
# The writer role: insert and read, never update or delete


def _role_sql() -> str:
    """The role SQL block of docs/fleet.md (between its markers)."""
    text = (ROOT / "docs" / "fleet.md").read_text(encoding="utf-8")
    start = text.index("<!-- writer-role-sql -->")
    block = text[start:text.index("<!-- /writer-role-sql -->")]
    return block.split("```sql", 1)[1].split("```", 1)[0]


def test_the_writer_role_inserts_and_reads_but_cannot_update_or_delete(manifest_path: Path, ledger: str) -> None:
    with _admin(ledger) as conn:
        conn.execute(SCHEMA_SQL)  # the owner creates the tables (docs/fleet.md)
        conn.execute(_role_sql().replace("CHANGE-ME", "writer-secret"))
    writer = ledger.replace("spinegate@", "spinegate_writer:writer-secret@")
    with Gate.open(manifest_path, receipts=writer, git=GIT) as gate:
        for i in range(3):
            assert gate.check(read_call(i)).approved
    with psycopg.connect(writer, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM spinegate.receipts").fetchone() == (3,)
        for statement in ("UPDATE spinegate.receipts SET line = 'rewritten'",
                          "DELETE FROM spinegate.receipts",
                          "UPDATE spinegate.checkpoints SET line = 'x'",
                          "DELETE FROM spinegate.witness",
                          "TRUNCATE spinegate.receipts",
                          "DROP TABLE spinegate.receipts"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    assert len(rows(ledger)) == 3 and cli("verify", ledger).exit_code == 0


def test_a_writer_role_on_an_empty_database_is_told_to_create_the_tables(manifest_path: Path, ledger: str) -> None:
    with _admin(ledger) as conn:
        conn.execute("CREATE ROLE nocreate LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    gate = Gate.open(manifest_path, receipts=ledger.replace("spinegate@", "nocreate@"), git=GIT)
    decision = gate.check(read_call(1))
    gate.close()
    assert not decision.approved and decision.reason is not None and "docs/fleet.md" in decision.reason


# --------------------------------------------------------------------------
# Losing the server


def _backends(dsn: str) -> list[int]:
    with _admin(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'spinegate' "
                                           "AND datname = current_database()").fetchall()]


def test_a_lost_connection_is_reopened_and_the_chain_continues(manifest_path: Path, ledger: str,
                                                               keypair: Any) -> None:
    with Gate.open(manifest_path, receipts=ledger, git=GIT, signing_key=keypair[0], checkpoint_every=2) as gate:
        assert gate.check(read_call(1)).approved
        victims = _backends(ledger)
        assert victims
        with _admin(ledger) as conn:
            for pid in victims:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for i in range(2, 6):
            assert gate.check(read_call(i)).approved  # a new connection, the same chain
    assert [r["sequence_number"] for r in ledger_receipts(ledger)] == [1, 2, 3, 4, 5]
    result = cli("verify", ledger, "--public-key", str(keypair[1]))
    assert result.exit_code == 0, result.output


def test_a_server_that_is_down_denies_the_call_and_the_chain_resumes_when_it_is_back(
        manifest_path: Path, ledger: str, postgres: Any) -> None:
    store = PostgresReceiptStore(ledger, reconnect_for=1.0)
    gate = Gate.open(manifest_path, receipts=store, git=GIT)
    given = [gate.check(read_call(1))]
    assert given[0].approved
    postgres.stop()
    try:
        started = time.monotonic()
        down = gate.check(read_call(2))
        assert time.monotonic() - started < 30  # bounded: never hangs on a dead server
        assert not down.approved and down.reason is not None and down.reason.startswith(RECEIPT_WRITE_FAILED)
        assert "cannot be reached" in down.reason
        also_down = gate.check(read_call(3))  # refused at once while the server is known down
        assert not also_down.approved
    finally:
        postgres.start()
    time.sleep(1.1)  # past the moment new receipts are refused outright
    back = gate.check(read_call(4))
    assert back.approved, back.reason
    gate.close()
    receipts = ledger_receipts(ledger)
    # the receipt whose commit failed stays in the chain (its call was denied); nothing given was lost
    assert given[0].receipt_id in {r["receipt_id"] for r in receipts}
    assert back.receipt_id in {r["receipt_id"] for r in receipts}
    assert [r["sequence_number"] for r in receipts] == list(range(1, len(receipts) + 1))
    assert cli("verify", ledger).exit_code == 0


def test_a_gate_opened_while_the_server_is_down_denies(manifest_path: Path, ledger: str, postgres: Any) -> None:
    postgres.stop()
    try:
        gate = Gate.open(manifest_path, receipts=PostgresReceiptStore(ledger, reconnect_for=0.5), git=GIT)
        decision = gate.check(read_call(1))
        assert not decision.approved and decision.reason is not None
        assert decision.reason.startswith(RECEIPT_WRITE_FAILED)
        gate.close()
    finally:
        postgres.start()


def test_resuming_a_session_while_the_server_is_down_is_refused_at_open(manifest_path: Path, ledger: str,
                                                                        postgres: Any) -> None:
    with Gate.open(manifest_path, receipts=ledger, git=GIT) as gate:
        gate.check(read_call(1))
        sid = gate.session_id
    postgres.stop()
    try:
        with pytest.raises(Exception, match="cannot read the ledger"):
            Gate.open(manifest_path, receipts=ledger, git=GIT, session_id=sid)
    finally:
        postgres.start()


# --------------------------------------------------------------------------
# Several processes, one killed


def test_several_processes_one_killed_every_receipt_given_is_in_the_ledger(manifest_path: Path, ledger: str,
                                                                         keypair: Any, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    writer = str(HERE / "ledger_writer.py")
    procs = [subprocess.Popen([sys.executable, writer, str(manifest_path), ledger, "150", "--key", str(keypair[0])],
                              stdout=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    victim = procs[0]
    given: list[str] = []
    assert victim.stdout is not None
    for _ in range(20):  # let it get going, then kill it mid-run
        line = victim.stdout.readline().strip()
        assert line and not line.startswith("DENIED"), line
        given.append(line)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    given += [x for x in victim.stdout.read().split() if x]  # whatever it announced before the kill
    for p in procs[1:]:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0, out
        given += out.split()
    stored = {r["receipt_id"]: r for r in ledger_receipts(ledger)}
    assert set(given) <= set(stored)  # every receipt an agent was given is there
    assert len(given) >= 20 + 3 * 150
    result = cli("verify", ledger, "--public-key", str(keypair[1]))
    assert result.exit_code == 0, result.output
    out = tmp_path / "export.jsonl"
    assert cli("export", ledger, "--to", str(out)).exit_code == 0
    lines = out.read_text(encoding="ascii").splitlines()
    assert lines == [canonical(json.loads(line)) for line in lines]  # json.dumps reproduces every line
    assert lines == rows(ledger)  # the gate's lines, as stored


def test_a_store_closed_refuses_to_write(ledger: str) -> None:
    store = PostgresReceiptStore(ledger)
    store.close()
    store.close()  # idempotent
    with pytest.raises(ReceiptWriteError):
        store.ledger  # noqa: B018


def test_an_unexpected_error_while_committing_denies_every_call_waiting_and_nothing_hangs(
        manifest_path: Path, ledger: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from spinegate.postgres_store import Ledger

    gates = [Gate.open(manifest_path, receipts=ledger, git=GIT) for _ in range(4)]
    assert all(g.check(read_call(0)).approved for g in gates)

    real_insert = Ledger._insert
    failed: list[int] = []

    def broken_once(self: Ledger, conn: Any, batch: Any) -> None:
        if failed:
            return real_insert(self, conn, batch)
        failed.append(len(batch))
        time.sleep(0.05)  # long enough for the other callers to queue behind it
        raise RuntimeError("a bug in the writer")

    monkeypatch.setattr(Ledger, "_insert", broken_once)
    everyone_queued = threading.Barrier(len(gates))
    real_sync = PostgresReceiptStore.sync

    def sync_together(self: PostgresReceiptStore, ticket: int) -> None:
        everyone_queued.wait(10)  # every row is queued before anyone leads: one batch holds them all
        real_sync(self, ticket)

    monkeypatch.setattr(PostgresReceiptStore, "sync", sync_together)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda g=g: results.append(g.check(read_call(1)))) for g in gates]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert len(results) == 4
    assert failed == [4]  # the four rows went to the writer in one batch, and it failed
    assert not any(d.approved for d in results)
    assert all(d.reason.startswith(RECEIPT_WRITE_FAILED) for d in results)
    monkeypatch.undo()
    for g in gates:
        g.close()
