"""The report page in real headless Chromium (Debian's `chromium`, no network): what a reviewer sees.

Each test writes a real log with a real gate, renders the report, and reads
the DOM after the page's own script has verified the embedded log. Edits to
the written page stand for someone changing the file after the fact: the
page must then disagree with the verdict the command line recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

from report_support import (
    HOSTILE,
    LogFactory,
    count,
    embedded_lines,
    records,
    rehash,
    rendered,
    table_rows,
    verdict,
    with_embedded_lines,
    without_ed25519,
    write_records,
)

from spinegate.canonical import canonical_json
from spinegate.report import write_report


def page_for(log: Path, **options: object) -> Path:
    out = log.with_suffix(".html")
    write_report(log, out, **options)  # type: ignore[arg-type]
    return out


def edit_page(page: Path, change: object) -> Path:
    """A copy of the page whose embedded log lines went through `change(lines)`."""
    html = page.read_text(encoding="utf-8")
    lines = embedded_lines(html)
    change(lines)  # type: ignore[operator]
    edited = page.with_name("edited-" + page.name)
    edited.write_text(with_embedded_lines(html, lines), encoding="utf-8")
    return edited


def test_valid_log_verifies_in_the_browser(logs: LogFactory) -> None:
    log = logs.write(sessions=2, calls=4)
    dom = rendered(page_for(log))
    v = verdict(dom)
    assert v["data-verdict"] == "valid" and v["data-source"] == "browser" and v["data-disagrees"] == "false"
    assert "Valid" in v["title"]
    assert "24 receipt hashes recomputed" in v["text"]
    assert (count(dom, "receipts"), count(dom, "sessions"), count(dom, "approvals"), count(dom, "denials"),
            count(dom, "outcomes"), count(dom, "escalations")) == (24, 2, 8, 8, 8, 0)
    rows = table_rows(dom)
    assert len(rows) == 24 and all(r[-1] == "\u2713" for r in rows)
    assert rows[0][:2] == ["1", "2026-05-01 12:00:01"] and rows[0][4:7] == ["Files.Read", "SHELL_SAFE", "approve"]
    assert dom.find(id="problems")["data-count"] == "0"
    assert dom.find(id="checkpoints")["data-status"] == "unsigned"
    assert len(dom.find(id="receipts").find_all("svg")) == 0 and len(dom.select("svg.chart")) == 2


def test_table_filters_by_session_verdict_and_tool(logs: LogFactory) -> None:
    log = logs.write(sessions=3, calls=3)
    page = page_for(log)
    second = records(log)[9]["session_id"]
    denied = table_rows(rendered(page, fragment="verdict=deny"))
    assert len(denied) == 9 and {r[6] for r in denied} == {"deny"}
    assert {r[7] for r in denied} == {"DESTRUCTIVE_OPERATION_BLOCKED"}
    one = table_rows(rendered(page, fragment=f"session={second}"))
    assert len(one) == 9 and {r[2] for r in one} == {second}
    dom = rendered(page, fragment=f"session={second}&tool=Files.Read&verdict=outcome")
    rows = table_rows(dom)
    assert len(rows) == 3 and {(r[2], r[4], r[6]) for r in rows} == {(second, "Files.Read", "outcome")}
    assert dom.find(id="receipts")["data-matching"] == "3"


def test_one_embedded_receipt_edited_is_caught_by_the_page(logs: LogFactory) -> None:
    log = logs.write(sessions=2, calls=3)
    page = page_for(log)

    def edit(lines: list[str]) -> None:
        assert '"Files.Read"' in lines[6]
        lines[6] = lines[6].replace('"Files.Read"', '"Files.ReadAll"', 1)

    dom = rendered(edit_page(page, edit))
    v = verdict(dom)
    assert v["data-verdict"] == "invalid" and v["data-reason"] == "HASH_MISMATCH" and v["data-line"] == "7"
    assert v["data-disagrees"] == "true"
    assert "disagrees with the command line" in v["text"]
    failing = table_rows(rendered(edit_page(page, edit), fragment="failing=1"))
    assert len(failing) == 1 and failing[0][0] == "7" and "HASH_MISMATCH" in failing[0][-1]


def test_edited_and_rehashed_receipt_breaks_the_next_link(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=3)
    page = page_for(log)

    def edit(lines: list[str]) -> None:
        r = json.loads(lines[2])
        r["result"]["status"], r["result"]["blocked_by"] = "success", None
        lines[2] = canonical_json(rehash(r))

    v = verdict(rendered(edit_page(page, edit)))
    assert (v["data-verdict"], v["data-reason"], v["data-line"]) == ("invalid", "CHAIN_BROKEN", "4")


def test_torn_log_is_reported_where_it_breaks(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=2)
    data = log.read_bytes()
    log.write_bytes(data[: len(data) - 40])  # the last write cut off
    page = log.with_suffix(".html")
    write_report(log, page)
    dom = rendered(page)
    v = verdict(dom)
    assert (v["data-verdict"], v["data-reason"], v["data-line"], v["data-disagrees"]) == \
        ("invalid", "TORN_LINE", "6", "false")
    assert count(dom, "receipts") == 5


def test_signed_log_checkpoints_verify_in_the_browser(logs: LogFactory) -> None:
    log = logs.write(sessions=2, calls=3, signed=True)
    dom = rendered(page_for(log, public_key=logs.keys[1]))
    v = verdict(dom)
    assert (v["data-verdict"], v["data-source"], v["data-disagrees"]) == ("valid", "browser", "false")
    assert "matches its signed checkpoints" in v["title"]
    box = dom.find(id="checkpoints")
    assert box["data-status"] == "valid"
    assert "checked with Ed25519 in this browser" in box.get_text()


def test_log_cut_short_is_caught_by_the_signed_checkpoints(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=4, signed=True)
    write_records(log, records(log)[:-4])  # a clean cut: the chain alone still verifies
    dom = rendered(page_for(log, public_key=logs.keys[1]))
    v = verdict(dom)
    assert (v["data-verdict"], v["data-reason"], v["data-disagrees"]) == ("invalid", "TAIL_TRUNCATED", "false")
    assert dom.find(id="checkpoints")["data-status"] == "invalid"


def test_embedded_log_cut_short_after_writing_is_caught_by_the_page(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=4, signed=True)
    page = page_for(log, public_key=logs.keys[1])
    v = verdict(rendered(edit_page(page, lambda lines: lines.__delitem__(slice(-3, None)))))
    assert (v["data-verdict"], v["data-reason"], v["data-disagrees"]) == ("invalid", "TAIL_TRUNCATED", "true")


def test_without_ed25519_the_page_shows_the_command_lines_checkpoint_verdict(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=3, signed=True)
    page = page_for(log, public_key=logs.keys[1])
    older = page.with_name("older-browser.html")
    older.write_text(without_ed25519(page.read_text(encoding="utf-8")), encoding="utf-8")
    dom = rendered(older)
    v = verdict(dom)
    assert (v["data-verdict"], v["data-source"]) == ("valid", "browser+command-line")
    box = dom.find(id="checkpoints")
    assert box["data-status"] == "command-line-valid"
    assert "has no Ed25519" in box.get_text() and "The command line's verdict" in box.get_text()

    write_records(log, records(log)[:-2])
    write_report(log, page, public_key=logs.keys[1])
    older.write_text(without_ed25519(page.read_text(encoding="utf-8")), encoding="utf-8")
    v = verdict(rendered(older))
    assert (v["data-verdict"], v["data-reason"]) == ("invalid", "TAIL_TRUNCATED")


def test_wrong_public_key_fails_the_checkpoints(logs: LogFactory, tmp_path: Path) -> None:
    from spinegate import write_keypair

    log = logs.write(sessions=1, calls=2, signed=True)
    _, other, _ = write_keypair(tmp_path / "other.key")
    v = verdict(rendered(page_for(log, public_key=other)))
    assert (v["data-verdict"], v["data-reason"]) == ("invalid", "CHECKPOINT_KEY_MISMATCH")


def test_hostile_command_and_output_cannot_break_out_of_the_page(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=1, command=f"echo '{HOSTILE}'", output=HOSTILE)
    rows = records(log)
    shell = next(i for i, r in enumerate(rows) if r["action"]["tool"] == "Shell.ReadOnly")
    assert HOSTILE in rows[shell]["action"]["command"] and rows[shell + 1]["result"]["stdout_truncated"] == HOSTILE
    # A receipt whose tool name and session id are hostile too (hashed as written, so it verifies).
    forged = json.loads(json.dumps(rows[0]))
    forged["session_id"], forged["receipt_id"] = "<!--s</script>", "7d0f5c2e-3a41-4b8e-9c55-0e6f7a8b9c99"
    forged["action"]["tool"] = HOSTILE
    write_records(log, rows + [rehash(forged)])
    page = page_for(log)
    html = page.read_text(encoding="utf-8")
    assert html.count("</script>") == 4 and html.lower().count("<script") == 4 and html.count("<!--") == 0
    dom = rendered(page, fragment=f"line-{shell + 2}")
    v = verdict(dom)
    assert (v["data-verdict"], v["data-disagrees"]) == ("valid", "false")
    assert dom.body.get("data-pwned") is None and dom.title.get_text() == f"spinegate report: {log}"
    assert len(dom.find_all("script")) == 4 and dom.find("b") is None
    assert HOSTILE in dom.find(id="detail-json").get_text()
    table = table_rows(rendered(page, fragment="session=" + "%3C!--s%3C%2Fscript%3E"))
    assert len(table) == 1 and table[0][4] == HOSTILE and table[0][2] == "<!--s</script>"


def test_lines_that_are_not_json_are_embedded_and_reported(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=2)
    lines = log.read_bytes().splitlines(keepends=True)
    lines.insert(2, b"not json at all\n")
    lines.insert(4, b'{"half": "\xff\xfe"}\n')
    log.write_bytes(b"".join(lines))
    page = page_for(log)
    embedded = embedded_lines(page.read_text(encoding="utf-8"))
    assert embedded[2].startswith("!base64 ") and embedded[4].startswith("!base64 ")
    dom = rendered(page)
    v = verdict(dom)
    assert (v["data-verdict"], v["data-reason"], v["data-line"], v["data-disagrees"]) == \
        ("invalid", "INVALID_JSON", "3", "false")
    assert "2 lines are not JSON and embedded byte for byte" in v["text"]
    problems = dom.find(id="problem-list").get_text(" ")
    assert "line 3" in problems and "line 5" in problems and "not UTF-8" in problems


def test_per_session_directory_layout(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    vectors = json.loads((root / "fixtures" / "conformance" / "chains.json").read_text(encoding="utf-8"))["vectors"]
    for name, reason in (("sibling_valid_directory", None), ("edited_file", "HASH_MISMATCH"),
                         ("renamed_file", "FILENAME_MISMATCH")):
        vector = next(v for v in vectors if v["name"] == name)
        folder = tmp_path / name
        for rel, text in vector["files"].items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        out = tmp_path / f"{name}.html"
        write_report(folder, out)
        dom = rendered(out)
        v = verdict(dom)
        assert v["data-verdict"] == ("valid" if reason is None else "invalid"), name
        assert v.get("data-reason") == reason and v["data-disagrees"] == "false"
        if reason is not None:
            assert vector["first_failure"]["file"] in v["text"]
        assert len(table_rows(dom)) == len(vector["files"])


def test_large_log_is_summarised_with_the_command_lines_verdict(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=3)
    dom = rendered(page_for(log, max_embedded=5))
    v = verdict(dom)
    assert (v["data-verdict"], v["data-source"]) == ("valid", "command-line")
    assert "more than the 5 this page embeds" in v["text"]
    assert table_rows(dom) == [] and count(dom, "receipts") == 9


def test_a_fleet_log_signed_by_rotated_keys_verifies_with_both_keys(logs: LogFactory) -> None:
    log, rotated = logs.write_rotated()
    dom = rendered(page_for(log, public_key=[logs.keys[1], rotated]))
    v = verdict(dom)
    assert (v["data-verdict"], v["data-source"], v["data-disagrees"]) == ("valid", "browser", "false")
    box = dom.find(id="checkpoints")
    assert box["data-status"] == "valid" and "2 keys" in box.get_text()
    # With only one of the keys, the other key's session is not vouched for: as `spinegate verify` says.
    v = verdict(rendered(page_for(log, public_key=logs.keys[1])))
    assert (v["data-verdict"], v["data-reason"], v["data-disagrees"]) == ("invalid", "CHECKPOINT_KEY_MISMATCH", "false")


def test_a_session_continued_under_another_key_is_caught_by_the_page(logs: LogFactory) -> None:
    from spinegate.canonical import canonical_json as spell
    from spinegate.checkpoints import sign_checkpoint
    from spinegate.keys import key_id, load_private_key, load_public_key

    log, rotated = logs.write_rotated()
    cps = Path(str(log) + ".checkpoints.jsonl")
    lines = [json.loads(x) for x in cps.read_bytes().splitlines()]
    # The first session's last checkpoint, re-signed by the rotated key: authentic under a trusted key,
    # but a session is signed by one key from its first checkpoint to its last.
    k = max(i for i, c in enumerate(lines) if c["session_id"] == lines[0]["session_id"])
    unsigned = {n: v for n, v in lines[k].items() if n != "signature"}
    unsigned["key_id"] = key_id(load_public_key(rotated))
    lines[k] = sign_checkpoint(load_private_key(str(rotated)[: -len(".pub")]), unsigned)
    cps.write_text("".join(spell(c) + "\n" for c in lines), encoding="ascii")
    code = verify_code(log, logs.keys[1], rotated)
    v = verdict(rendered(page_for(log, public_key=[logs.keys[1], rotated])))
    assert code == 1 and (v["data-verdict"], v["data-reason"], v["data-disagrees"]) == \
        ("invalid", "CHECKPOINT_KEY_MISMATCH", "false")


def verify_code(log: Path, *keys: Path) -> int:
    from click.testing import CliRunner

    from spinegate.cli import main

    args = ["verify", str(log)] + [a for k in keys for a in ("--public-key", str(k))]
    return CliRunner().invoke(main, args).exit_code


def test_crlf_lines_and_a_byte_order_mark_are_warnings_as_in_verify(logs: LogFactory) -> None:
    log = logs.write(sessions=1, calls=2, signed=True)
    body = log.read_bytes().split(b"\n")
    body[1] += b"\r"
    body[3] += b"\r"
    log.write_bytes(b"\xef\xbb\xbf" + b"\n".join(body))
    dom = rendered(page_for(log, public_key=logs.keys[1]))
    v = verdict(dom)
    assert (v["data-verdict"], v["data-disagrees"]) == ("valid", "false")
    assert "3 warnings" in v["text"] and "not JSON" not in v["text"]
    assert dom.find(id="checkpoints")["data-status"] == "valid"
    problems = dom.find(id="problems")
    assert (problems["data-count"], problems["data-warnings"]) == ("0", "3")
    assert [li.find("code").get_text() for li in problems.find_all("li")] == \
        ["BYTE_ORDER_MARK", "LINE_ENDS_CRLF", "LINE_ENDS_CRLF"]
    rows = table_rows(dom)
    assert [r[0] for r in rows if "warning" in r[-1]] == ["1", "2", "4"]
    strict = log.with_name("strict.html")
    write_report(log, strict, public_key=logs.keys[1], strict=True)
    v = verdict(rendered(strict))
    assert (v["data-verdict"], v["data-reason"], v["data-line"], v["data-disagrees"]) == \
        ("invalid", "BYTE_ORDER_MARK", "1", "false")


def test_a_log_rolled_back_behind_its_witness_fails_with_witness(logs: LogFactory) -> None:
    log, witness = logs.write_rolled_back()
    v = verdict(rendered(page_for(log, public_key=logs.keys[1])))
    assert (v["data-verdict"], v["data-source"]) == ("valid", "browser")  # on its own, it verifies
    dom = rendered(page_for(log, public_key=logs.keys[1], witness=witness))
    v = verdict(dom)
    assert (v["data-verdict"], v["data-reason"], v["data-source"], v["data-disagrees"]) == \
        ("invalid", "WITNESS_SESSION_MISSING", "browser+command-line", "false")
    assert "does not re-check the witness" in v["text"]
    assert dom.find(id="witness")["data-status"] == "invalid"
    assert dom.find(id="checkpoints")["data-status"] == "valid"
