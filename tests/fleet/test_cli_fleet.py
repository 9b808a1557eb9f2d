"""`spinegate verify` of the ledger, `spinegate export` from any store, `spinegate ship` into the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fleet_support import GIT, canonical, cli, ledger_receipts, read_call, rows

from spinegate import Gate
from spinegate.jsonl_store import checkpoint_path_for


class Clock:
    """A UTC clock that starts where told and ticks one second per reading."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _sessions(manifest: Path, receipts: Any, *, count: int = 2, calls: int = 4, key: Path | None = None,
              starts: list[datetime] | None = None) -> list[str]:
    """`count` sessions of `calls` calls (each with an outcome), written one after the other; their ids."""
    ids = []
    for n in range(count):
        clock = Clock(starts[n]) if starts else None
        with Gate.open(manifest, receipts=receipts, git=GIT, signing_key=key, checkpoint_every=3,
                       clock=clock) as gate:
            for i in range(calls):
                gate.record_outcome(gate.check(read_call(i)), output=f"ok {i}")
            ids.append(gate.session_id)
    return ids


# --------------------------------------------------------------------------
# verify postgresql://...


def test_verify_the_ledger_with_its_signed_checkpoints(manifest_path: Path, ledger: str, keypair: Any) -> None:
    _sessions(manifest_path, ledger, key=keypair[0])
    result = cli("verify", ledger, "--public-key", str(keypair[1]))
    assert result.exit_code == 0, result.output
    assert "valid: 16 receipts, 2 sessions" in result.output and "checkpoints" in result.output
    assert "@" in result.output and "/tmp/" not in result.output  # named by its URL, not the temporary copy
    doc = json.loads(cli("verify", ledger, "--json", "--public-key", str(keypair[1])).output)
    assert doc["valid"] and doc["receipts"] == 16 and doc["checkpoints"]["verified"] >= 4


def test_verify_finds_a_row_rewritten_in_the_ledger(manifest_path: Path, ledger: str, keypair: Any) -> None:
    _sessions(manifest_path, ledger, key=keypair[0])
    with psycopg.connect(ledger, autocommit=True) as conn:  # the owner rewrites a row, hash and all
        line = conn.execute("SELECT line FROM spinegate.receipts WHERE position = 3").fetchone()[0]
        edited = line.replace('"status":"success"', '"status":"failed"')
        assert edited != line
        conn.execute("UPDATE spinegate.receipts SET line = %s WHERE position = 3", (edited,))
    plain = cli("verify", ledger)
    assert plain.exit_code == 1 and "HASH_MISMATCH" in plain.output
    assert f"{ledger.split('//')[1].split('@')[0]}@" in plain.output and ":3" in plain.output  # row 3 named
    signed = cli("verify", ledger, "--public-key", str(keypair[1]))
    assert signed.exit_code == 1 and "RECEIPT_REWRITTEN" in signed.output


def test_verify_finds_a_session_emptied_of_its_checkpoints(manifest_path: Path, ledger: str, keypair: Any) -> None:
    sid, _ = _sessions(manifest_path, ledger, key=keypair[0])
    with psycopg.connect(ledger, autocommit=True) as conn:
        conn.execute("DELETE FROM spinegate.checkpoints WHERE session_id = %s", (sid,))
    result = cli("verify", ledger, "--public-key", str(keypair[1]))
    assert result.exit_code == 1 and "SESSION_UNSIGNED" in result.output


def test_verify_an_unreachable_ledger_exits_2(postgres: Any) -> None:
    result = cli("verify", f"postgresql://nobody@127.0.0.1:{postgres.port}/no_such_database")
    assert result.exit_code == 2 and "cannot read the ledger" in result.output
    assert "password" not in result.output


def test_verify_an_empty_ledger_with_a_key_fails(ledger: str, keypair: Any) -> None:
    assert cli("verify", ledger).exit_code == 0  # nothing there, nothing wrong
    result = cli("verify", ledger, "--public-key", str(keypair[1]))
    assert result.exit_code == 1 and "NO_CHECKPOINTS" in result.output


# --------------------------------------------------------------------------
# export


def test_export_the_ledger_to_canonical_jsonl_that_verifies_on_its_own(manifest_path: Path, ledger: str,
                                                                        keypair: Any, tmp_path: Path) -> None:
    _sessions(manifest_path, ledger, key=keypair[0], count=3)
    out = tmp_path / "archive.jsonl"
    result = cli("export", ledger, "--to", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="ascii").splitlines()
    assert len(lines) == 24
    assert all(line == canonical(json.loads(line)) for line in lines)
    assert lines == rows(ledger)
    assert Path(checkpoint_path_for(out)).read_text(encoding="ascii").splitlines() == rows(ledger, "checkpoints")
    assert cli("verify", str(out), "--public-key", str(keypair[1])).exit_code == 0
    again = cli("export", ledger, "--to", str(out))  # never over an existing file
    assert again.exit_code == 2 and "already exists" in again.output
    assert out.read_text(encoding="ascii").splitlines() == lines


def test_export_since_until_takes_whole_sessions_by_when_they_began(manifest_path: Path, ledger: str,
                                                                    keypair: Any, tmp_path: Path) -> None:
    jan, feb = datetime(2026, 1, 31, 23, 59, 50, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC)
    early, late = _sessions(manifest_path, ledger, key=keypair[0], starts=[jan, feb])  # `early` runs into February
    for source in (ledger, None):
        if source is None:  # the same, from a JSONL log
            source = str(tmp_path / "local.jsonl")
            _sessions(manifest_path, source, key=keypair[0], starts=[jan, feb])
        january, february = tmp_path / f"jan-{len(source)}.jsonl", tmp_path / f"feb-{len(source)}.jsonl"
        assert cli("export", source, "--to", str(january), "--since", "2026-01-01", "--until",
                   "2026-02-01").exit_code == 0
        assert cli("export", source, "--to", str(february), "--since", "2026-02-01T00:00:00+00:00").exit_code == 0
        got_jan = [json.loads(x) for x in january.read_text(encoding="ascii").splitlines()]
        got_feb = [json.loads(x) for x in february.read_text(encoding="ascii").splitlines()]
        assert len(got_jan) == len(got_feb) == 8  # whole sessions, each in one archive
        assert len({r["session_id"] for r in got_jan}) == len({r["session_id"] for r in got_feb}) == 1
        assert any(r["timestamp"].startswith("2026-02") for r in got_jan)  # it began in January, ended later
        for archive in (january, february):
            assert cli("verify", str(archive), "--public-key", str(keypair[1])).exit_code == 0
    assert {r["session_id"] for r in ledger_receipts(ledger)} == {early, late}
    bad = cli("export", ledger, "--to", str(tmp_path / "x.jsonl"), "--since", "2026-02-01", "--until", "2026-01-01")
    assert bad.exit_code == 2
    assert cli("export", ledger, "--to", str(tmp_path / "y.jsonl"), "--since", "yesterday").exit_code == 2


def test_export_of_a_jsonl_log_respells_it_canonically(manifest_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "windows.jsonl"
    _sessions(manifest_path, log, count=1, calls=2)
    records = [json.loads(x) for x in log.read_text(encoding="ascii").splitlines()]
    log.write_bytes(b"\xef\xbb\xbf" + b"".join(json.dumps(r, indent=None).encode() + b"\r\n" for r in records))
    out = tmp_path / "out.jsonl"
    result = cli("export", str(log), "--to", str(out))
    assert result.exit_code == 0 and "written canonically" in result.output
    assert out.read_text(encoding="ascii").splitlines() == [canonical(r) for r in records]
    assert cli("verify", str(out), "--strict").exit_code == 0


def test_export_stops_at_a_line_that_is_not_a_receipt_object(manifest_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    _sessions(manifest_path, log, count=1, calls=1)
    log.write_text(log.read_text(encoding="ascii") + "[1, 2]\n", encoding="ascii")
    out = tmp_path / "out.jsonl"
    result = cli("export", str(log), "--to", str(out))
    assert result.exit_code == 1 and "line 3" in result.output
    assert not out.exists() and list(tmp_path.glob(".spinegate-export-*")) == []


# --------------------------------------------------------------------------
# ship


def test_ship_twice_gives_the_same_ledger(manifest_path: Path, ledger: str, keypair: Any, tmp_path: Path) -> None:
    log = tmp_path / "local.jsonl"
    _sessions(manifest_path, log, key=keypair[0], count=2)
    first = cli("ship", str(log), "--to", ledger)
    assert first.exit_code == 0, first.output
    assert "16 receipts sent, 0 already there" in first.output
    before = rows(ledger, columns="position, line"), rows(ledger, "checkpoints", "position, line")
    second = cli("ship", str(log), "--to", ledger)
    assert second.exit_code == 0 and "0 receipts sent, 16 already there" in second.output
    assert (rows(ledger, columns="position, line"), rows(ledger, "checkpoints", "position, line")) == before
    assert rows(ledger) == log.read_text(encoding="ascii").splitlines()  # byte for byte
    assert cli("verify", ledger, "--public-key", str(keypair[1])).exit_code == 0


def test_ship_resumes_where_it_stopped_and_holds_back_checkpoints_ahead_of_it(manifest_path: Path, ledger: str,
                                                                               keypair: Any, tmp_path: Path) -> None:
    log = tmp_path / "local.jsonl"
    _sessions(manifest_path, log, key=keypair[0], count=1, calls=6)
    whole = log.read_bytes()
    lines = whole.splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:5]) + lines[5][:40])  # part of the log, ending in a torn line
    first = cli("ship", str(log), "--to", ledger)
    assert first.exit_code == 0, first.output
    assert "5 receipts sent" in first.output and "held back" in first.output and "incomplete" in first.output
    assert cli("verify", ledger, "--public-key", str(keypair[1])).exit_code == 0  # nothing ahead of its receipts
    log.write_bytes(whole)
    second = cli("ship", str(log), "--to", ledger)
    assert second.exit_code == 0 and "7 receipts sent, 5 already there" in second.output
    assert rows(ledger) == whole.decode("ascii").splitlines()
    assert cli("verify", ledger, "--public-key", str(keypair[1])).exit_code == 0


def test_ship_stops_at_a_receipt_the_ledger_holds_differently(manifest_path: Path, ledger: str,
                                                              tmp_path: Path) -> None:
    log = tmp_path / "local.jsonl"
    _sessions(manifest_path, log, count=1, calls=3)
    assert cli("ship", str(log), "--to", ledger).exit_code == 0
    records = [json.loads(x) for x in log.read_text(encoding="ascii").splitlines()]
    from spinegate.receipt_hash import receipt_hash

    records[4]["action"]["description"] = "a different story"  # rewritten after it was shipped, rechained
    for previous, r in pairwise(records[4:]):
        previous["receipt_hash"] = receipt_hash(previous)
        r["previous_receipt_hash"] = previous["receipt_hash"]
    records[-1]["receipt_hash"] = receipt_hash(records[-1])
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(canonical(r) + "\n" for r in records), encoding="ascii")
    result = cli("ship", str(forged), "--to", ledger)
    assert result.exit_code == 1 and "line 5" in result.output and "holds another receipt" in result.output
    assert rows(ledger) == log.read_text(encoding="ascii").splitlines()  # unchanged


def test_ship_ships_what_comes_before_a_bad_line(manifest_path: Path, ledger: str, tmp_path: Path) -> None:
    log = tmp_path / "local.jsonl"
    _sessions(manifest_path, log, count=1, calls=2)
    text = log.read_text(encoding="ascii").splitlines()
    broken = json.loads(text[2])
    broken["result"]["status"] = "failed"  # the hash no longer matches
    log.write_text("\n".join(text[:2] + [canonical(broken)] + text[3:]) + "\n", encoding="ascii")
    result = cli("ship", str(log), "--to", ledger)
    assert result.exit_code == 1 and "line 3" in result.output and "hash" in result.output
    assert rows(ledger) == text[:2]


def test_ship_refuses_what_is_not_a_ledger(manifest_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "local.jsonl"
    _sessions(manifest_path, log, count=1, calls=1)
    assert cli("ship", str(log), "--to", str(tmp_path / "elsewhere.jsonl")).exit_code == 2


@pytest.mark.parametrize("dsn_suffix", ["no_such_database"])
def test_ship_to_an_unreachable_ledger_exits_2(manifest_path: Path, tmp_path: Path, postgres: Any,
                                               dsn_suffix: str) -> None:
    log = tmp_path / "local.jsonl"
    _sessions(manifest_path, log, count=1, calls=1)
    result = cli("ship", str(log), "--to", postgres.dsn(dsn_suffix))
    assert result.exit_code == 2 and "cannot connect" in result.output


def test_ship_stops_at_a_line_that_is_not_utf8(manifest_path: Path, ledger: str, tmp_path: Path) -> None:
    log = tmp_path / "local.jsonl"
    _sessions(manifest_path, log, count=1, calls=1)
    good = log.read_text(encoding="ascii").splitlines()
    log.write_bytes(log.read_bytes() + b'{"receipt_id": "\xff\xfe"}\n')
    result = cli("ship", str(log), "--to", ledger)
    assert result.exit_code == 1 and "line 3" in result.output and "UTF-8" in result.output
    assert rows(ledger) == good


def test_verify_of_the_ledger_refuses_a_checkpoint_file(ledger: str, tmp_path: Path) -> None:
    result = cli("verify", ledger, "--checkpoints", str(tmp_path / "x.jsonl"))
    assert result.exit_code == 2 and "own table" in result.output


SIBLING_LOG = Path(__file__).resolve().parents[2] / "fixtures" / "interop" / "m87_spine_lite_receipts.jsonl"


def test_a_sibling_log_ships_exports_and_verifies_unchanged(ledger: str, tmp_path: Path) -> None:
    """The original Python emitter's receipts, not written by this gate: stored, exported and verified as they are."""
    assert cli("ship", str(SIBLING_LOG), "--to", ledger).exit_code == 0
    assert rows(ledger) == SIBLING_LOG.read_text(encoding="utf-8").splitlines()
    assert cli("verify", ledger).exit_code == 0
    out = tmp_path / "sibling.jsonl"
    assert cli("export", ledger, "--to", str(out)).exit_code == 0
    assert [json.loads(x) for x in out.read_text(encoding="ascii").splitlines()] == \
        [json.loads(x) for x in SIBLING_LOG.read_text(encoding="utf-8").splitlines()]
    assert cli("verify", str(out)).exit_code == 0


def test_export_of_a_per_session_directory(manifest_path: Path, tmp_path: Path) -> None:
    """The original emitter's layout, one pretty-printed file per receipt, out as one canonical log."""
    log = tmp_path / "r.jsonl"
    _sessions(manifest_path, log, count=2, calls=2)
    records = [json.loads(x) for x in log.read_text(encoding="ascii").splitlines()]
    root = tmp_path / "sessions"
    for r in records:
        folder = root / r["session_id"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{r['sequence_number']:04d}_{r['receipt_id']}.json").write_text(json.dumps(r, indent=2),
                                                                                  encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = cli("export", str(root), "--to", str(out))
    assert result.exit_code == 0, result.output
    got = out.read_text(encoding="ascii").splitlines()
    assert sorted(got) == sorted(canonical(r) for r in records)
    assert cli("verify", str(out)).exit_code == 0
