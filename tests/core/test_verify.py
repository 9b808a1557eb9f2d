"""The verifier: JSONL and per-session directories, the sibling data, failure reports, exit codes (item 6)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from core_support import SIBLING_LOG

from spinegate import ToolCall
from spinegate.cli import main as cli
from spinegate.verify import verify_path


def sibling() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SIBLING_LOG.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, receipts: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in receipts),
                    encoding="ascii")
    return path


def write_directory(root: Path, receipts: list[dict[str, Any]]) -> Path:
    """The original emitter's layout: <session>/NNNN_<receipt_id>.json, pretty-printed."""
    for r in receipts:
        d = root / r["session_id"]
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{r['sequence_number']:04d}_{r['receipt_id']}.json").write_text(
            json.dumps(r, indent=2), encoding="utf-8")
    return root


def rehash(r: dict[str, Any]) -> None:
    body = {k: v for k, v in r.items() if k not in ("receipt_hash", "previous_receipt_hash")}
    r["receipt_hash"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# -- the sibling data ---------------------------------------------------------------------------------------------


def test_sibling_log_verifies(assert_schema_valid: Any) -> None:
    report = verify_path(SIBLING_LOG)
    assert report.ok, [str(f) for f in report.failures]
    assert (report.receipts, report.sessions, report.approvals, report.denials) == (5, 1, 2, 3)
    assert assert_schema_valid(SIBLING_LOG.read_text(encoding="utf-8").splitlines()) == 5


def test_sibling_copy_matches_the_shared_original() -> None:
    shared = Path("/work/shared/fixtures/interop")
    if not shared.is_dir():
        pytest.skip("the shared sibling fixtures are not mounted here")
    for name in ("m87_spine_lite_receipts.jsonl", "receipt.schema.json"):
        assert (SIBLING_LOG.parent / name).read_bytes() == (shared / name).read_bytes()


def test_sibling_data_in_directory_layout_verifies(tmp_path: Path) -> None:
    root = write_directory(tmp_path / "sessions", sibling())
    report = verify_path(root)
    assert report.ok and (report.receipts, report.sessions) == (5, 1)
    # a single session directory given directly works too
    only = verify_path(next(root.iterdir()))
    assert only.ok and only.receipts == 5


def test_sibling_data_with_our_receipts_in_one_log(make_gate: Any, tmp_path: Path) -> None:
    log = tmp_path / "receipts.jsonl"
    shutil.copyfile(SIBLING_LOG, log)
    gate = make_gate(log=log)
    gate.check(ToolCall(plugin="Files", function="Read"))
    report = verify_path(log)
    assert report.ok and (report.receipts, report.sessions) == (6, 2)


def test_our_log_verifies_in_directory_layout(make_gate: Any, tmp_path: Path) -> None:
    gate = make_gate()
    for fn in ("Read", "Delete", "Write"):
        gate.check(ToolCall(plugin="Files", function=fn, arguments={"p": "\u00e9"}))
    receipts = [json.loads(x) for x in Path(gate.store.location).read_text(encoding="ascii").splitlines()]
    report = verify_path(write_directory(tmp_path / "dir", receipts))
    assert report.ok and (report.receipts, report.approvals, report.denials) == (3, 2, 1)


# -- failures name file, line/receipt, sequence and reason ----------------------------------------------------------


def test_failure_report_names_everything(tmp_path: Path) -> None:
    rs = sibling()
    rs[2]["action"]["command"] = "rm -rf /home"
    log = write_jsonl(tmp_path / "bad.jsonl", rs)
    report = verify_path(log)
    assert not report.ok
    f = report.first_failure
    assert f is not None
    assert (f.reason, f.line, f.sequence_number, f.receipt_id) == ("HASH_MISMATCH", 3, 3, rs[2]["receipt_id"])
    text = str(f)
    for needle in (str(log), ":3", "sequence 3", rs[2]["receipt_id"], "HASH_MISMATCH"):
        assert needle in text


def test_failure_in_directory_names_the_file(tmp_path: Path) -> None:
    rs = sibling()
    root = write_directory(tmp_path / "dir", rs)
    victim = next((root / rs[0]["session_id"]).glob("0002_*.json"))
    data = json.loads(victim.read_text(encoding="utf-8"))
    data["result"]["blocked_by"] = None
    victim.write_text(json.dumps(data, indent=2), encoding="utf-8")
    report = verify_path(root)
    f = report.first_failure
    assert f is not None and f.reason == "HASH_MISMATCH" and f.file == str(victim) and f.sequence_number == 2


def test_duplicate_keys_cannot_hide_an_edit(tmp_path: Path) -> None:
    """A line whose text hashes to its stored hash but parses to other values must fail."""
    line = SIBLING_LOG.read_text(encoding="utf-8").splitlines()[0]
    data = json.loads(line)
    body = {k: v for k, v in data.items() if k not in ("receipt_hash", "previous_receipt_hash")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    forged_body = text.replace('"proposal_id":"demo-1"', '"proposal_id":"demo-1","proposal_id":"forged"')
    digest = hashlib.sha256(forged_body.encode()).hexdigest()
    forged = forged_body.replace('"proposal_id":"demo-1"', '"previous_receipt_hash":null,"proposal_id":"demo-1"')
    forged = forged.replace('"receipt_id"', f'"receipt_hash":"{digest}","receipt_id"', 1)
    assert json.loads(forged)["proposal_id"] == "forged"
    log = tmp_path / "forged.jsonl"
    log.write_text(forged + "\n", encoding="ascii")
    report = verify_path(log)
    assert not report.ok and report.first_failure is not None
    assert report.first_failure.reason in ("HASH_MISMATCH", "INVALID_JSON")


def test_non_canonical_number_spelling_hashed_as_written_fails(tmp_path: Path) -> None:
    """A line hashed over its own (non-canonical) bytes, e.g. 1.50 for 1.5, is not canonical."""
    rs = sibling()[:1]
    rs[0]["action"]["risk_delta"] = 1.5
    rehash(rs[0])
    line = json.dumps(rs[0], sort_keys=True, separators=(",", ":"))
    body = json.dumps({k: v for k, v in rs[0].items() if k not in ("receipt_hash", "previous_receipt_hash")},
                      sort_keys=True, separators=(",", ":")).replace('"risk_delta":1.5', '"risk_delta":1.50')
    line = line.replace('"risk_delta":1.5', '"risk_delta":1.50').replace(
        rs[0]["receipt_hash"], hashlib.sha256(body.encode()).hexdigest())
    log = tmp_path / "x.jsonl"
    log.write_text(line + "\n", encoding="ascii")
    report = verify_path(log)
    assert not report.ok and report.first_failure.reason == "HASH_MISMATCH"  # type: ignore[union-attr]


def test_blank_line_and_crlf(tmp_path: Path) -> None:
    rs = sibling()
    text = SIBLING_LOG.read_text(encoding="utf-8")
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    assert verify_path(crlf).ok  # line endings are formatting, not content
    blank = tmp_path / "blank.jsonl"
    lines = text.splitlines(keepends=True)
    blank.write_text(lines[0] + "\n" + "".join(lines[1:]), encoding="utf-8")
    report = verify_path(blank)
    assert not report.ok and report.first_failure.reason == "INVALID_JSON" and report.first_failure.line == 2  # type: ignore[union-attr]
    assert len(rs) == 5


def test_every_problem_is_counted(tmp_path: Path) -> None:
    rs = sibling()
    for r in rs[1:]:
        r["action"]["description"] += "!"
    report = verify_path(write_jsonl(tmp_path / "x.jsonl", rs))
    assert report.failure_count == 4 and [f.line for f in report.failures] == [2, 3, 4, 5]


def test_empty_log_is_valid_and_says_zero(tmp_path: Path) -> None:
    log = tmp_path / "empty.jsonl"
    log.write_bytes(b"")
    report = verify_path(log)
    assert report.ok and report.receipts == 0


# -- the CLI ----------------------------------------------------------------------------------------------------------


def test_cli_verify_valid_prints_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["verify", str(SIBLING_LOG)])
    assert result.exit_code == 0, result.output
    for needle in ("valid", "5 receipts", "1 session", "2 approvals", "3 denials"):
        assert needle in result.output


def test_cli_verify_invalid_prints_where_and_why(tmp_path: Path) -> None:
    rs = sibling()
    del rs[1]
    log = write_jsonl(tmp_path / "gap.jsonl", rs)
    result = CliRunner().invoke(cli, ["verify", str(log)])
    assert result.exit_code == 1
    for needle in (str(log), ":2", "sequence 3", rs[1]["receipt_id"], "SEQUENCE_GAP"):
        assert needle in result.output, needle


def test_cli_verify_json(tmp_path: Path) -> None:
    rs = sibling()
    rs[0]["previous_receipt_hash"] = "a" * 64
    result = CliRunner().invoke(cli, ["verify", "--json", str(write_jsonl(tmp_path / "g.jsonl", rs))])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["valid"] is False and doc["receipts"] == 5
    assert doc["failures"][0]["reason"] == "BAD_GENESIS" and doc["failures"][0]["line"] == 1


@pytest.mark.parametrize("args", [["verify", "/no/such/log.jsonl"], ["verify"], ["verify", "--bogus", "x"]],
                         ids=["missing", "no-path", "bad-option"])
def test_cli_verify_usage_and_unreadable_exit_2(args: list[str]) -> None:
    assert CliRunner().invoke(cli, args).exit_code == 2


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_cli_verify_unreadable_file_exit_2(tmp_path: Path) -> None:
    log = tmp_path / "locked.jsonl"
    shutil.copyfile(SIBLING_LOG, log)
    log.chmod(0)
    assert CliRunner().invoke(cli, ["verify", str(log)]).exit_code == 2


def test_cli_verify_subprocess(tmp_path: Path) -> None:
    """The installed entry point, in a real process: exit codes 0 and 1."""
    ok = subprocess.run([sys.executable, "-m", "spinegate.cli", "verify", str(SIBLING_LOG)],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "5 receipts" in ok.stdout
    rs = sibling()
    rs[4]["budget_snapshot"]["files_touched"] = 2
    bad = subprocess.run([sys.executable, "-m", "spinegate.cli", "verify", str(write_jsonl(tmp_path / "b.jsonl", rs))],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "HASH_MISMATCH" in bad.stdout


def test_directory_with_an_unparseable_file(tmp_path: Path) -> None:
    rs = sibling()
    root = write_directory(tmp_path / "dir", rs)
    victim = next((root / rs[0]["session_id"]).glob("0004_*.json"))
    victim.write_text('{"receipt_id": ', encoding="utf-8")
    report = verify_path(root)
    assert not report.ok
    f = report.first_failure
    assert f is not None and f.reason == "INVALID_JSON" and f.file == str(victim)
    result = CliRunner().invoke(cli, ["verify", str(root)])
    assert result.exit_code == 1 and victim.name in result.output


# -- hostile input: every line gets a reason, the CLI never shows a traceback -----------------------------------

HOSTILE_LINES: list[tuple[str, bytes, str]] = [
    ("deeply-nested", b"[" * 100_000, "nested too deeply"),
    ("deeply-nested-object", b'{"a":' * 100_000, "nested too deeply"),
    ("not-utf8", b'\xff\xfe{"receipt_id": "x"}', "not UTF-8"),
    ("binary", bytes(range(128, 256)) * 4, "not UTF-8"),
    ("nul-bytes", b"\x00" * 100, "not valid JSON"),
]


@pytest.mark.parametrize("raw, needle", [(r, n) for _, r, n in HOSTILE_LINES], ids=[h[0] for h in HOSTILE_LINES])
def test_hostile_line_is_reported_in_place(tmp_path: Path, raw: bytes, needle: str) -> None:
    rs = sibling()
    good = write_jsonl(tmp_path / "good.jsonl", rs).read_bytes().splitlines(keepends=True)
    log = tmp_path / "hostile.jsonl"
    log.write_bytes(b"".join(good[:2]) + raw + b"\n" + b"".join(good[2:]))
    report = verify_path(log)
    f = report.first_failure
    assert f is not None and f.reason == "INVALID_JSON" and f.line == 3 and needle in f.detail, f
    result = CliRunner().invoke(cli, ["verify", str(log)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"{log}:3: INVALID_JSON" in result.output and "Traceback" not in result.output


def test_hostile_file_in_directory_layout(tmp_path: Path) -> None:
    rs = sibling()
    root = write_directory(tmp_path / "dir", rs)
    victim = next((root / rs[0]["session_id"]).glob("0002_*.json"))
    victim.write_bytes(b"[" * 100_000)
    (root / "notes.txt").write_text("stray file, ignored")
    (root / rs[0]["session_id"] / "README").write_text("stray file, ignored")
    report = verify_path(root)
    f = report.first_failure
    assert f is not None and f.reason == "INVALID_JSON" and f.file == str(victim) and "nested too deeply" in f.detail
    result = CliRunner().invoke(cli, ["verify", str(root)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)


def test_hostile_lines_in_a_real_process(tmp_path: Path) -> None:
    log = tmp_path / "h.jsonl"
    log.write_bytes(b"[" * 100_000 + b"\n" + b"\xff\n" + b"x" * 3_000_000 + b"\n")
    run = subprocess.run([sys.executable, "-m", "spinegate.cli", "verify", str(log)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and run.stdout.count("INVALID_JSON") == 3


def test_cli_show_survives_any_line(tmp_path: Path) -> None:
    log = tmp_path / "odd.jsonl"
    lines = [b"[" * 100_000, b"[1]", b'"text"', b'{"result": 1}', b"\xff\xfe", b""]
    log.write_bytes(b"\n".join(lines) + b"\n" + write_jsonl(tmp_path / "g.jsonl", sibling()[:1]).read_bytes())
    result = CliRunner().invoke(cli, ["show", str(log)])
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()[2:-1]  # after the header, before the closing line
    assert [r.split()[1] for r in rows] == ["FAIL"] * len(lines) + ["ok"]
    assert all("<- INVALID_JSON" in r or "<- SCHEMA_VIOLATION" in r for r in rows[:-1])
    assert sibling()[0]["session_id"] in rows[-1]


def test_cli_verify_directory_without_receipts_is_a_usage_error(tmp_path: Path) -> None:
    """A directory with no receipt files is most likely the wrong path: never reported as a valid log."""
    write_jsonl(tmp_path / "receipts.jsonl", sibling())
    (tmp_path / "empty-session").mkdir()
    result = CliRunner().invoke(cli, ["verify", str(tmp_path)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "no receipt files" in result.output and "valid" not in result.output


def test_receipt_file_at_the_top_does_not_hide_the_session_directories(tmp_path: Path) -> None:
    rs = sibling()
    root = write_directory(tmp_path / "dir", rs)
    victim = next((root / rs[0]["session_id"]).glob("0003_*.json"))
    edited = json.loads(victim.read_text(encoding="utf-8"))
    edited["action"]["description"] += " (edited)"
    victim.write_text(json.dumps(edited, indent=2), encoding="utf-8")
    stray = next((root / rs[0]["session_id"]).glob("0001_*.json"))
    shutil.copy(stray, root / "0001_other.json")  # a receipt file at the top level
    report = verify_path(root)
    assert not report.ok and any(f.reason == "HASH_MISMATCH" and f.file == str(victim) for f in report.failures)
