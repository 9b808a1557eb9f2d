"""`spinegate show`: header, --json, failing receipts marked, --tail from the end, directory logs, --session."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_support import LogFactory, records, rehash, write_records

from spinegate.cli import main
from spinegate.logview import TAIL_BLOCK, tail_entries
from spinegate.show import show_lines


def show(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, ["show", *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr


def test_header_rows_and_closing_line(logs: LogFactory) -> None:
    log = logs.write(sessions=2, calls=2)
    code, out, err = show(str(log))
    assert code == 0 and err == ""
    assert out[0] == f"{log} (JSONL log): every receipt"
    assert out[1].split() == ["LINE", "CHECK", "SESSION", "SEQ", "TIME", "VERDICT", "EFFECT", "TOOL", "REASON"]
    rows = out[2:-1]
    assert len(rows) == 12 and all(r.split()[1] == "ok" for r in rows)
    first = rows[0].split()
    assert first[0] == "1" and first[3:9] == ["1", "2026-05-01", "12:00:01", "approve", "SHELL_SAFE", "Files.Read"]
    assert rows[2].split()[-1] == "DESTRUCTIVE_OPERATION_BLOCKED" and rows[1].endswith("success (exit 0)")
    assert out[-1] == "12 shown, from 2 sessions; all verify"


def test_json_is_one_object_per_receipt_with_its_verdict(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=2)
    rows = records(log)
    rows[3]["action"]["tool"] = "Files.Edited"  # hash no longer matches
    write_records(log, rows)
    code, out, _ = show(str(log), "--json")
    assert code == 0
    docs = [json.loads(line) for line in out]
    assert len(docs) == 6 and [d["line"] for d in docs] == [1, 2, 3, 4, 5, 6]
    assert [d["verified"] for d in docs] == [True, True, True, False, True, True]
    assert docs[3]["failures"][0]["reason"] == "HASH_MISMATCH"
    assert docs[2]["verdict"] == "deny" and docs[2]["reason"] == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert docs[1]["verdict"] == "outcome" and docs[0]["receipt"] == rows[0]
    assert set(docs[0]) >= {"session_id", "sequence_number", "timestamp", "tool", "effect_class", "receipt_id"}


def test_failing_receipts_are_marked_with_the_reason(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=3)
    rows = records(log)
    rows[4]["action"]["description"] = "rewritten"
    rehash(rows[4])  # the edit is hidden from the hash, so the next link breaks
    write_records(log, rows)
    with open(log, "ab") as fh:
        fh.write(b'{"receipt_id": "cut off')
    code, out, _ = show(str(log))
    assert code == 0
    rows_out = out[2:-1]
    failing = [r for r in rows_out if r.split()[1] == "FAIL"]
    assert len(failing) == 2
    assert failing[0].startswith("6 ") and "<- CHAIN_BROKEN" in failing[0]
    assert failing[1].startswith("10 ") and "<- TORN_LINE" in failing[1]
    assert out[-1] == "10 shown, from 1 session; 2 FAIL verification (reasons after <-)"


def test_tail_shows_the_last_receipts_read_from_the_end(logs: LogFactory) -> None:
    log = logs.write(sessions=2, calls=3)
    full = show(str(log))[1][2:-1]
    code, out, _ = show(str(log), "--tail", "4")
    assert code == 0 and out[0] == f"{log} (JSONL log): the last 4 receipts"
    assert out[1].split()[0] == "CHECK"  # no line numbers: they are not counted when reading from the end
    assert [r.split(None, 1)[1] for r in full[-4:]] == out[2:-1]
    assert "read from the end of the log" in out[-1]
    code, out, _ = show(str(log), "--tail", "100")
    assert len(out) == 2 + 18 + 1


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="reads /proc/self/io (Linux) to count bytes read")
def test_tail_reads_a_few_blocks_of_a_large_log_not_the_whole_file(logs: LogFactory, tmp_path: Path) -> None:
    small = logs.write(sessions=1, calls=3).read_bytes()
    filler = small.splitlines(keepends=True)[0]  # any receipt line, repeated: 64 MB the tail must not read
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as fh:
        fh.write(filler * (64_000_000 // len(filler)))
        fh.write(small)

    def bytes_read() -> int:
        io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
        return int(io["rchar"])

    before = bytes_read()
    lines = list(show_lines(big, tail=5))
    spent = bytes_read() - before
    assert len(lines) == 2 + 5 + 1 and all(r.split()[0] == "ok" for r in lines[2:-1])
    assert spent < 4 * TAIL_BLOCK, f"read {spent} bytes of a {big.stat().st_size}-byte log"


def test_tail_with_a_session_and_links_inside_the_window(logs: LogFactory) -> None:
    log = logs.write(sessions=3, calls=2)
    rows = records(log)
    sid = rows[6]["session_id"]  # the second session, in the middle of the log
    code, out, _ = show(str(log), "--session", sid, "--tail", "3")
    assert code == 0 and len(out) == 2 + 3 + 1
    assert {r.split()[1] for r in out[2:-1]} == {sid} and [r.split()[2] for r in out[2:-1]] == ["4", "5", "6"]
    # A bad link inside the window is caught; the window's first receipt is not blamed for the unread ones.
    rows[10]["previous_receipt_hash"] = "0" * 64
    write_records(log, rows)
    entries = tail_entries(log, 4, session=sid)
    assert [e.data["sequence_number"] for e in entries] == [3, 4, 5, 6]
    out = list(show_lines(log, session=sid, tail=4))[2:-1]
    assert [r.split()[0] for r in out] == ["ok", "ok", "FAIL", "ok"] and "CHAIN_BROKEN" in out[2]


def test_tail_of_a_torn_log_ends_with_the_torn_line(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=2)
    log.write_bytes(log.read_bytes()[:-25])
    out = show(str(log), "--tail", "2")[1][2:-1]
    assert out[0].split()[0] == "ok" and out[1].startswith("FAIL") and "TORN_LINE" in out[1]
    assert tail_entries(log, 2, session=records_of_first(log))[-1].complete  # a torn line belongs to no session


def records_of_first(log: Path) -> str:
    return str(json.loads(log.read_bytes().splitlines()[0])["session_id"])


def test_per_session_directory_layout(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=2, calls=1)
    root = tmp_path / "emitter"
    for r in records(log):
        folder = root / r["session_id"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{r['sequence_number']:04d}_{r['receipt_id']}.json").write_text(json.dumps(r, indent=2))
    code, out, _ = show(str(root))
    assert code == 0 and out[0] == f"{root} (per-session directory): every receipt"
    assert out[1].split()[0] == "CHECK" and len(out) == 2 + 6 + 1 and out[-1].endswith("all verify")
    victim = sorted((root / records(log)[0]["session_id"]).iterdir())[1]
    victim.rename(victim.with_name("0002_00000000-0000-4000-8000-000000000000.json"))
    out = show(str(root), "--tail", "6")[1][2:-1]
    failing = [r for r in out if r.startswith("FAIL")]
    assert len(out) == 6 and len(failing) == 1 and "FILENAME_MISMATCH" in failing[0]
    assert "0002_00000000-0000-4000-8000-000000000000.json" in failing[0]


def test_unknown_session_exits_1(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=1)
    for extra in ([], ["--tail", "3"], ["--json"]):
        code, out, err = show(str(log), "--session", "no-such-session", *extra)
        assert code == 1 and out == []
        assert err.startswith(f"spinegate show: {log}: no receipt of session 'no-such-session' in this log")


def test_text_from_the_log_cannot_drive_the_terminal(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=1)
    rows = records(log)
    rows[0]["action"]["tool"] = "Files.\x1b[2J\x1b]0;owned\x07Read\u202e"
    write_records(log, [rehash(rows[0]), *rows[1:]])
    code, out, _ = show(str(log))
    text = "\n".join(out)
    assert code == 0 and "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "Files.\\x1b[2J\\x1b]0;owned\\x07Read\\u202e" in out[2]


def test_show_stops_quietly_when_the_reader_goes_away(logs: LogFactory) -> None:
    import subprocess

    log = logs.write(sessions=2, calls=30)
    run = subprocess.run(f'"{sys.executable}" -m spinegate.cli show "{log}" | head -n 3', shell=True,
                         capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert run.returncode == 0 and len(run.stdout.splitlines()) == 3
    assert "Traceback" not in run.stderr and "cannot read" not in run.stderr


def test_a_byte_order_mark_at_the_start_is_read_past_as_verify_does(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=2)
    log.write_bytes(b"\xef\xbb\xbf" + log.read_bytes())
    for args in ([], ["--tail", "6"], ["--tail", "2"]):
        code, out, _ = show(str(log), *args)
        assert code == 0 and len(out) > 3 and not any(r.split()[:2].count("FAIL") for r in out[2:-1]), (args, out)
    code, out, _ = show(str(log), "--json")
    assert json.loads(out[0])["verified"] is True
