"""`spinegate report` on the command line: exit codes, what the file holds, and what it never touches."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path

from click.testing import CliRunner
from report_support import HOSTILE, LogFactory, embedded_lines, records, write_records

from spinegate.cli import main


def report(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.stdout, result.stderr


def test_exit_codes_follow_the_verdict(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=1, calls=2)
    out = tmp_path / "r.html"
    code, stdout, _ = report(str(log), "--html", str(out))
    assert code == 0 and out.is_file() and stdout.startswith(f"wrote {out}: {log}: valid: 6 receipts")
    rows = records(log)
    rows[1]["result"]["exit_code"] = 1
    write_records(log, rows)
    code, stdout, _ = report(str(log), "--html", str(out))
    assert code == 1 and "INVALID" in stdout and "HASH_MISMATCH" in stdout
    assert 'data-verdict="invalid"' in out.read_text(encoding="utf-8")


def test_nothing_is_written_for_an_unreadable_log_or_key(logs: LogFactory, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    log = logs.write(sessions=1, calls=1)
    cases = [
        ([str(tmp_path / "missing.jsonl")], "no such file or directory"),
        ([str(tmp_path)], "no receipt files"),
        ([str(log), "--public-key", str(tmp_path / "nokey.pub")], "no such file or directory"),
        ([str(log), "--public-key", str(log)], "public key"),
    ]
    os.mkfifo(tmp_path / "fifo")
    cases.append(([str(tmp_path / "fifo")], "not a regular file or directory"))
    for args, needle in cases:
        code, _, err = report(*args, "--html", str(out))
        assert code == 2 and needle in err and err.startswith("spinegate report: "), (args, err)
        assert not out.exists()


def test_the_log_and_its_checkpoints_are_never_overwritten(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=2, signed=True)
    cps = Path(str(log) + ".checkpoints.jsonl")
    before = log.read_bytes(), cps.read_bytes()
    for target in (log, cps, log.parent / "." / log.name):
        code, _, err = report(str(log), "--html", str(target))
        assert code == 2 and "never overwrites them" in err
    assert (log.read_bytes(), cps.read_bytes()) == before
    code, _, err = report(str(log), "--html", str(log.parent))
    assert code == 2 and "not a regular file" in err


def test_public_key_is_for_jsonl_logs(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=1, calls=1)
    folder = tmp_path / "dir" / "s1"
    folder.mkdir(parents=True)
    r = records(log)[0]
    (folder / f"0001_{r['receipt_id']}.json").write_text(json.dumps(r))
    code, _, err = report(str(tmp_path / "dir"), "--html", str(tmp_path / "r.html"), "--public-key", str(logs.keys[1]))
    assert code == 2 and "applies to a JSONL log" in err


def test_the_page_is_self_contained_and_runs_only_its_own_script(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=2, calls=2, signed=True)
    out = tmp_path / "r.html"
    assert report(str(log), "--html", str(out), "--public-key", str(logs.keys[1]))[0] == 0
    html = out.read_text(encoding="utf-8")
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert not re.search(r"\s(src|href)=\"(?!#)", html)  # nothing loaded; the only links are to places in the page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert csp.startswith("default-src 'none'; ")
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = lambda text: base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()  # noqa: E731
    assert f"script-src 'sha256-{digest(script)}';" in csp and f"style-src 'sha256-{digest(style)}';" in csp
    assert len(re.findall(r"<script\b", html)) == 4
    assert len(embedded_lines(html)) == len(records(log))


def test_embedded_lines_carry_the_same_values_with_markup_escaped(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=1, calls=1, command=f"echo '{HOSTILE}'", output=HOSTILE)
    raw = log.read_bytes().splitlines()
    raw.insert(1, b"\xff not json")
    raw[0] = raw[0] + b"\r"  # CRLF: the HTML parser would turn the CR into a line break, so it goes in base64
    log.write_bytes(b"\n".join(raw) + b"\n")
    out = tmp_path / "r.html"
    code, stdout, _ = report(str(log), "--html", str(out))
    assert code == 1 and "1 line(s) are not JSON and are embedded base64: 2" in stdout
    lines = embedded_lines(out.read_text(encoding="utf-8"))
    assert len(lines) == len(raw)
    assert base64.b64decode(lines[0].removeprefix("!base64 ")) == raw[0]
    assert base64.b64decode(lines[1].removeprefix("!base64 ")) == raw[1]
    for original, embedded in zip(raw[2:], lines[2:]):
        assert not set(embedded) & set("<>&\r")
        assert json.loads(embedded) == json.loads(original)


def test_a_large_log_gets_a_summary_page(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=1, calls=3)
    out = tmp_path / "r.html"
    code, stdout, _ = report(str(log), "--html", str(out), "--max-embedded", "4")
    assert code == 0 and "more than --max-embedded 4: the page is a summary" in stdout
    html = out.read_text(encoding="utf-8")
    assert embedded_lines(html) == [] and '"embedded":false' in html
    assert "more than the 4 this page embeds" in html


def test_an_existing_report_is_replaced_whole(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=1, calls=1)
    out = tmp_path / "r.html"
    out.write_text("an older report")
    assert report(str(log), "--html", str(out))[0] == 0
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_several_public_keys_as_verify_takes_them(logs: LogFactory, tmp_path: Path) -> None:
    log, rotated = logs.write_rotated()
    out = tmp_path / "r.html"
    code, stdout, _ = report(str(log), "--html", str(out), "--public-key", str(logs.keys[1]))
    assert code == 1 and "CHECKPOINT_KEY_MISMATCH" in stdout
    code, stdout, _ = report(str(log), "--html", str(out), "--public-key", str(logs.keys[1]),
                             "--public-key", str(rotated))
    assert code == 0 and "verify under 2 keys" in stdout
    doc = json.loads(re.search(r'id="spinegate-report">(.*?)</script>', out.read_text(encoding="utf-8")).group(1))
    assert [k["key_id"] for k in doc["public_keys"]] == doc["command_line"]["checkpoints"]["key_ids"]
    assert len(doc["public_keys"]) == 2 and doc["public_key"] == doc["public_keys"][0]
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    for pub in (logs.keys[1], rotated):
        (trusted / pub.name).write_bytes(pub.read_bytes())
    (trusted / "notes.txt").write_text("not a key")
    code, stdout, _ = report(str(log), "--html", str(out), "--public-key", str(trusted))
    assert code == 0 and "verify under 2 keys" in stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = report(str(log), "--html", str(tmp_path / "none.html"), "--public-key", str(empty))
    assert code == 2 and "holds no .pub file" in err and not (tmp_path / "none.html").exists()


def test_warnings_are_reported_and_fail_only_with_strict(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=1, calls=2)
    log.write_bytes(log.read_bytes().replace(b"\n", b"\r\n"))
    out = tmp_path / "r.html"
    code, stdout, _ = report(str(log), "--html", str(out))
    assert code == 0 and "6 warning(s), not failures: LINE_ENDS_CRLF at line(s) 1, 2, 3, 4, 5, 6" in stdout
    assert "not JSON" not in stdout and "6 warnings (lines ending in CR LF" in out.read_text(encoding="utf-8")
    code, stdout, _ = report(str(log), "--html", str(out), "--strict")
    assert code == 1 and "counted as failures (--strict)" in stdout
    assert 'data-verdict="invalid"' in out.read_text(encoding="utf-8")


def test_witness_as_verify_takes_it(logs: LogFactory, tmp_path: Path) -> None:
    log, witness = logs.write_rolled_back()
    out = tmp_path / "r.html"
    code, stdout, _ = report(str(log), "--html", str(out), "--public-key", str(logs.keys[1]))
    assert code == 0
    code, stdout, _ = report(str(log), "--html", str(out), "--public-key", str(logs.keys[1]), "--witness", str(witness))
    assert code == 1 and "WITNESS_SESSION_MISSING" in stdout and f"witness {witness}: INVALID" in stdout
    before = witness.read_bytes()
    code, _, err = report(str(log), "--html", str(witness), "--witness", str(witness))
    assert code == 2 and "never overwrites them" in err and witness.read_bytes() == before
    os.mkfifo(tmp_path / "fifo")
    code, _, err = report(str(log), "--html", str(tmp_path / "w.html"), "--witness", str(tmp_path / "fifo"))
    assert code == 2 and not (tmp_path / "w.html").exists(), err


def test_an_unwritable_output_is_named_as_given(logs: LogFactory, tmp_path: Path) -> None:
    log = logs.write(sessions=1, calls=1)
    target = tmp_path / "no-such-folder" / "r.html"
    code, _, err = report(str(log), "--html", str(target))
    assert code == 2 and err.startswith(f"spinegate report: {target}: cannot write the page there"), err
