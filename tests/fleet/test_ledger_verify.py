"""`spinegate verify postgresql://...` against a real server: the report a JSONL log of the same rows gets,
streamed in bounded memory, and a clear error (exit 2) when the server goes away mid-read."""

from __future__ import annotations

import json
import tempfile
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fleet_support import GIT, cli, read_call, rows

from spinegate import Gate, postgres_read, verify
from spinegate.jsonl_store import checkpoint_path_for
from spinegate.postgres_schema import display_dsn
from spinegate.receipt_hash import receipt_hash


def _write_sessions(manifest: Path, ledger: str, key: Path, *, count: int = 3, calls: int = 5) -> None:
    for _ in range(count):
        with Gate.open(manifest, receipts=ledger, git=GIT, signing_key=key, checkpoint_every=2) as gate:
            for i in range(calls):
                gate.record_outcome(gate.check(read_call(i)), output=f"ok {i}")


def _as_file(ledger: str, log: Path) -> Path:
    """The ledger's rows, as they are, in a JSONL log and its checkpoint file (position order)."""
    log.write_text("".join(line + "\n" for line in rows(ledger)), encoding="utf-8")
    Path(checkpoint_path_for(log)).write_text("".join(line + "\n" for line in rows(ledger, "checkpoints")),
                                              encoding="utf-8")
    return log


def _report(source: str, key: Path, name: str, checkpoints_name: str) -> dict[str, Any]:
    result = cli("verify", source, "--json", "--max-failures", "1000", "--public-key", str(key))
    assert result.exit_code in (0, 1), result.output
    text = result.output.replace(json.dumps(checkpoints_name)[1:-1], "CHECKPOINTS")
    return json.loads(text.replace(json.dumps(name)[1:-1], "LOG"))  # type: ignore[no-any-return]


def _first_line(ledger: str, where: str = "TRUE") -> tuple[int, dict[str, Any]]:
    with psycopg.connect(ledger) as conn:
        row = conn.execute(f"SELECT position, line FROM spinegate.receipts WHERE {where} ORDER BY position "
                           "LIMIT 1").fetchone()
    assert row is not None
    return row[0], json.loads(row[1])


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _rewrite_field(ledger: str) -> None:
    position, data = _first_line(ledger, "sequence_number = 3")
    data["action"]["tool"] = "Files.Write"  # hash left as it was
    _sql(ledger, "UPDATE spinegate.receipts SET line = %s WHERE position = %s", _canonical(data), position)


def _reseal(ledger: str) -> None:
    position, data = _first_line(ledger, "sequence_number = 2")
    data["action"]["tool"] = "Files.Write"
    data["receipt_hash"] = receipt_hash(data)  # the chain breaks at the next one; the checkpoints catch it too
    _sql(ledger, "UPDATE spinegate.receipts SET line = %s WHERE position = %s", _canonical(data), position)


def _delete_row(ledger: str) -> None:
    _sql(ledger, "DELETE FROM spinegate.receipts WHERE position = (SELECT position FROM spinegate.receipts "
                 "WHERE sequence_number = 4 ORDER BY position LIMIT 1)")


def _cut_tail(ledger: str) -> None:
    _sql(ledger, "DELETE FROM spinegate.receipts WHERE position > (SELECT max(position) - 3 FROM spinegate.receipts)")


def _not_json(ledger: str) -> None:
    position, _ = _first_line(ledger, "sequence_number = 5")
    _sql(ledger, "UPDATE spinegate.receipts SET line = %s WHERE position = %s", "{not json", position)


def _byte_order_mark(ledger: str) -> None:
    position, data = _first_line(ledger)
    _sql(ledger, "UPDATE spinegate.receipts SET line = %s WHERE position = %s", "\ufeff" + _canonical(data), position)


def _edit_checkpoint(ledger: str) -> None:
    with psycopg.connect(ledger) as conn:
        position, line = conn.execute("SELECT position, line FROM spinegate.checkpoints ORDER BY position "
                                      "OFFSET 2 LIMIT 1").fetchone()  # type: ignore[misc]
    data = json.loads(line)
    data["count"] += 1
    _sql(ledger, "UPDATE spinegate.checkpoints SET line = %s WHERE position = %s", _canonical(data), position)


def _drop_session_checkpoints(ledger: str) -> None:
    _sql(ledger, "DELETE FROM spinegate.checkpoints WHERE session_id = (SELECT session_id FROM spinegate.receipts "
                 "ORDER BY position DESC LIMIT 1)")


def _duplicate_receipt(ledger: str) -> None:
    _sql(ledger, "INSERT INTO spinegate.receipts (session_id, sequence_number, receipt_id, receipt_hash, "
                 "previous_receipt_hash, receipt_time, operation, tool, status, line) SELECT session_id || '-copy', "
                 "sequence_number, receipt_id, receipt_hash, previous_receipt_hash, receipt_time, operation, tool, "
                 "status, line FROM spinegate.receipts ORDER BY position LIMIT 2")


def _sql(ledger: str, query: str, *args: Any) -> None:
    with psycopg.connect(ledger, autocommit=True) as conn:  # the owner, as an attacker with its password would
        conn.execute(query, args)


DAMAGE: dict[str, Callable[[str], None]] = {
    "intact": lambda ledger: None,
    "field_rewritten": _rewrite_field,
    "row_resealed": _reseal,
    "row_deleted": _delete_row,
    "tail_cut": _cut_tail,
    "not_json": _not_json,
    "byte_order_mark": _byte_order_mark,
    "checkpoint_edited": _edit_checkpoint,
    "checkpoints_of_a_session_deleted": _drop_session_checkpoints,
    "duplicate_receipt_ids": _duplicate_receipt,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_verify_of_the_ledger_reports_what_verify_of_a_jsonl_log_of_its_rows_reports(
        manifest_path: Path, ledger: str, keypair: Any, tmp_path: Path, damage: str) -> None:
    _write_sessions(manifest_path, ledger, keypair[0])
    DAMAGE[damage](ledger)
    log = _as_file(ledger, tmp_path / "ledger.jsonl")
    name = display_dsn(ledger)
    from_ledger = _report(ledger, keypair[1], name, f"{name} (checkpoints)")
    from_file = _report(str(log), keypair[1], str(log), checkpoint_path_for(log))
    assert from_ledger == from_file
    assert from_ledger["valid"] is (damage in ("intact", "byte_order_mark"))
    if damage == "byte_order_mark":
        assert from_ledger["warning_count"] == 1 and from_ledger["failure_count"] == 0
        assert cli("verify", ledger, "--strict").exit_code == 1


def test_a_row_holding_a_newline_is_one_invalid_line_not_two(manifest_path: Path, ledger: str,
                                                             keypair: Any) -> None:
    _write_sessions(manifest_path, ledger, keypair[0], count=1, calls=2)
    position, data = _first_line(ledger, "sequence_number = 2")
    text = json.dumps(data, sort_keys=True, indent=1)  # the same values, over several lines
    _sql(ledger, "UPDATE spinegate.receipts SET line = %s WHERE position = %s", text, position)
    doc = json.loads(cli("verify", ledger, "--json").output)
    assert doc["receipts"] == 3 and not doc["valid"]  # as in a file: a line that is not JSON is no receipt
    assert [(f["reason"], f["line"]) for f in doc["failures"]][:2] == [("INVALID_JSON", 2), ("SEQUENCE_GAP", 3)]


def test_the_ledger_is_streamed_in_bounded_memory(manifest_path: Path, ledger: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "local.jsonl"
    with Gate.open(manifest_path, receipts=log, git=GIT) as gate:
        for i in range(6000):
            gate.check(read_call(i))
    assert cli("ship", str(log), "--to", ledger).exit_code == 0
    size = log.stat().st_size
    monkeypatch.setattr(postgres_read, "FETCH_ROWS", 200)
    monkeypatch.setattr(verify, "CHUNK_BYTES", 256 << 10)
    monkeypatch.setattr(verify, "BLOCK_BYTES", 64 << 10)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    on_disk: list[int] = []  # what the temporary directory holds, each time receipt ids are spilled
    real_spill = verify._spill

    def spill(parts: Any, directory: str, index: int) -> None:
        real_spill(parts, directory, index)
        on_disk.append(sum(f.stat().st_size for f in scratch.rglob("*") if f.is_file()))

    monkeypatch.setattr(verify, "_spill", spill)
    tracemalloc.start()
    try:
        result = cli("verify", ledger)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    assert "valid: 6000 receipts, 1 sessions" in result.output
    print(f"ledger of {size} bytes verified with a peak of {peak} bytes traced")
    assert size > 4 << 20 and peak < size / 3, (size, peak)  # nowhere near a copy of the ledger in memory
    # past one range, receipt ids went to bucket files, as for a large file; the receipts never did
    assert on_disk and max(on_disk) < size / 5, (size, on_disk)


def test_a_server_lost_in_the_middle_of_verify_is_an_error_naming_the_ledger(
        manifest_path: Path, ledger: str, keypair: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_sessions(manifest_path, ledger, keypair[0], count=4, calls=10)
    monkeypatch.setattr(postgres_read, "FETCH_ROWS", 5)
    real = postgres_read.receipt_line_bytes
    seen = {"rows": 0}

    def cut_after_ten(text: str) -> bytes:
        seen["rows"] += 1
        if seen["rows"] == 10:
            with psycopg.connect(ledger, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                             "application_name = 'spinegate' AND datname = current_database()")
        return real(text)

    monkeypatch.setattr(postgres_read, "receipt_line_bytes", cut_after_ten)
    result = cli("verify", ledger, "--public-key", str(keypair[1]))
    assert result.exit_code == 2, result.output
    assert "cannot read the ledger" in result.output and display_dsn(ledger) in result.output
    assert "valid" not in result.output and "Traceback" not in result.output


def test_the_ledger_passes_are_read_from_one_snapshot(manifest_path: Path, ledger: str, keypair: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Receipts written while verify runs are in none of its passes, so they cannot look unsigned or torn."""
    _write_sessions(manifest_path, ledger, keypair[0], count=2, calls=3)
    real: Callable[..., Iterator[Any]] = postgres_read.checkpoint_rows
    writer = threading.Thread(target=_write_sessions, args=(manifest_path, ledger, keypair[0]),
                              kwargs={"count": 1, "calls": 3})

    def write_meanwhile(*args: Any, **kwargs: Any) -> Iterator[Any]:
        if not writer.is_alive() and writer.ident is None:
            writer.start()
            writer.join()  # a whole new signed session committed between the chain pass and this one
        return real(*args, **kwargs)

    monkeypatch.setattr(postgres_read, "checkpoint_rows", write_meanwhile)
    doc = json.loads(cli("verify", ledger, "--json", "--public-key", str(keypair[1])).output)
    assert writer.ident is not None
    assert doc["valid"] and doc["receipts"] == 12 and doc["sessions"] == 2
    assert doc["checkpoints"]["keys"][next(iter(doc["checkpoints"]["keys"]))]["sessions"] == 2
