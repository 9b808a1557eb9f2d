"""The report page's JavaScript: Node's own test runner over every conformance vector, and
generated inputs compared with Python (the canonical form, and whole-log verdicts through the
same embedding the page uses)."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_support import ROOT, node

from spinegate.canonical import canonical_json
from spinegate.receipt_hash import receipt_hash
from spinegate.report.embed import script_text
from spinegate.report.gather import gather
from spinegate.verify import verify_path

JS_TESTS = ROOT / "tests" / "report" / "js"
HARNESS = JS_TESTS / "harness.js"
VECTORS = ROOT / "fixtures" / "conformance"


def run_harness(request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([node(), str(HARNESS)], input=json.dumps(request), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_node_test_runner_passes_every_conformance_vector() -> None:
    done = subprocess.run([node(), "--test", str(JS_TESTS)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = dict(re.findall(r"^# (tests|pass|fail) (\d+)$", done.stdout, re.M))
    vectors = sum(len(json.loads((VECTORS / f).read_text(encoding="utf-8"))["vectors"])
                  for f in ("canonical.json", "receipts.json", "manifests.json", "chains.json"))
    assert int(counts["fail"]) == 0
    assert int(counts["pass"]) >= vectors, (counts, vectors)  # one test per vector, at least


# -- the canonical form, against json.dumps ----------------------------------------------------

_floats = st.floats(allow_nan=False) | st.sampled_from(
    [0.0, -0.0, 1e-05, 1e16, 1e22, 0.1, 5e-324, 1.7976931348623157e308, float("inf"), float("-inf")])
_scalars = st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40) | _floats | \
    st.text() | st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                           max_size=4), max_leaves=20)


def _spell(value: Any, rnd: random.Random) -> str:
    """The value as some JSON text: any key order, spacing, escaping."""
    return json.dumps(value, ensure_ascii=rnd.random() < 0.5, indent=rnd.choice([None, 1, 2]),
                      sort_keys=rnd.random() < 0.3, separators=rnd.choice([None, (",", ":"), (" , ", " : ")]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(values=st.lists(_json, min_size=40, max_size=40), seed=st.integers(0, 2**32))
def test_canonical_form_matches_json_dumps(values: list[Any], seed: int) -> None:
    rnd = random.Random(seed)
    texts = [_spell(v, rnd) for v in values]
    got = run_harness({"canonical": texts})["canonical"]
    for text, out in zip(texts, got):
        assert out == {"text": canonical_json(json.loads(text))}, text


_junk = st.text(alphabet='{}[]",:0123456789.eE+-tfnulrsaINy \\/\t\n\u00e9\U0001F600', max_size=24)


@settings(max_examples=20, deadline=None)
@given(texts=st.lists(_junk, min_size=60, max_size=60))
def test_parser_accepts_and_refuses_what_python_does(texts: list[str]) -> None:
    got = run_harness({"canonical": texts})["canonical"]
    for text, out in zip(texts, got):
        try:
            expected: Any = {"text": canonical_json(json.loads(text))}
        except ValueError:
            expected = None
        if expected is None:
            assert "error" in out, (text, out)
        else:
            assert out == expected, text


def test_float_spelling_matches_python_repr_on_random_doubles() -> None:
    rnd = random.Random(20260501)
    values = [rnd.choice([-1, 1]) * math.ldexp(rnd.random() + 0.5, rnd.randint(-1074, 1023)) for _ in range(4000)]
    values += [float(f"{rnd.randint(1, 999)}e{rnd.randint(-30, 30)}") for _ in range(1000)]
    texts = [json.dumps([v]) for v in values]
    got = run_harness({"canonical": texts})["canonical"]
    assert [g["text"] for g in got] == [json.dumps([v], separators=(",", ":")) for v in values]


# -- whole logs: the page's verdict against `spinegate verify` ---------------------------------


def _python_verdict(log: Path) -> dict[str, Any]:
    r = verify_path(log)
    f = r.first_failure
    return {"valid": r.ok, "receipts": r.receipts, "sessions": r.sessions, "approvals": r.approvals,
            "denials": r.denials, "outcomes": r.outcomes, "warnings": [[w.reason, w.line] for w in r.warnings],
            "first": None if f is None else {"reason": f.reason, "line": f.line,
                                             "sequence_number": None if f.sequence_number is None
                                             else str(f.sequence_number)}}


def _mutate(lines: list[bytes], rnd: random.Random) -> list[bytes]:
    """One to three of the changes someone with the file could make."""
    lines = list(lines)
    for _ in range(rnd.randint(1, 3)):
        if not lines:
            break
        i = rnd.randrange(len(lines))
        op = rnd.choice(["delete", "duplicate", "swap", "edit_text", "edit_number", "rehash", "junk", "torn",
                         "non_utf8", "crlf", "bom", "reorder_keys", "float_to_int", "hostile"])
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(rnd.randrange(len(lines) + 1), lines[i])
        elif op == "swap" and len(lines) > 1:
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "junk":
            lines.insert(i, rnd.choice([b"", b"not json", b"{", b"[1,2]", b"null", b'{"a":1}', b"  \t"]))
        elif op == "torn":
            lines[-1] = lines[-1][: rnd.randrange(len(lines[-1]) + 1)]
            return lines + [None]  # type: ignore[list-item]  # marks: no final newline
        elif op == "non_utf8":
            lines[i] = lines[i][:10] + b"\xff\xfe" + lines[i][10:]
        elif op == "crlf":
            lines[i] = lines[i] + b"\r"
        elif op == "bom":  # read past at the start of the log only
            at = 0 if rnd.random() < 0.7 else i
            lines[at] = b"\xef\xbb\xbf" + lines[at]
        else:
            try:
                r = json.loads(lines[i])
            except ValueError:
                continue
            if not isinstance(r, dict) or not isinstance(r.get("action"), dict):
                continue
            if op == "edit_text":
                r["action"]["tool"] = str(r["action"].get("tool")) + "x"
            elif op == "edit_number":
                r["sequence_number"] = r.get("sequence_number", 0) + rnd.choice([-1, 1, 2]) \
                    if isinstance(r.get("sequence_number"), int) else 1
            elif op == "float_to_int" and isinstance(r["action"].get("risk_delta"), float):
                r["action"]["risk_delta"] = int(r["action"]["risk_delta"])
            elif op == "hostile":
                r["action"]["description"] = "</script><!-- \u2028 \U0001F600 & < >"
                r["receipt_hash"] = receipt_hash(r)
            elif op == "rehash":
                r["action"]["description"] = "rewritten"
                r["receipt_hash"] = receipt_hash(r)
            if op == "reorder_keys":
                lines[i] = json.dumps(dict(reversed(list(r.items())))).encode()
            else:
                lines[i] = canonical_json(r).encode()
    return lines


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seeds=st.lists(st.integers(0, 2**32), min_size=12, max_size=12))
def test_page_verdict_matches_spinegate_verify_on_tampered_logs(tmp_path_factory: Any, seeds: list[int]) -> None:
    from report_support import LogFactory

    folder = tmp_path_factory.mktemp("crosscheck")
    base = LogFactory(folder).write(sessions=2, calls=3, command="ls -la", output="total 0")
    sibling = (ROOT / "fixtures" / "interop" / "m87_spine_lite_receipts.jsonl").read_bytes().splitlines()
    clean = base.read_bytes().splitlines() + sibling
    jobs, expected = [], []
    for k, seed in enumerate(seeds):
        mutated = _mutate(clean, random.Random(seed))
        torn = bool(mutated) and mutated[-1] is None
        body = [x for x in mutated if x is not None]
        log = folder / f"log{k}.jsonl"
        log.write_bytes(b"\n".join(body) + (b"" if torn else b"\n") if body else b"")
        expected.append(_python_verdict(log))
        data = gather(log)
        assert data.embedded is not None
        jobs.append({"embedded": script_text(data.embedded), "format": "jsonl"})
    got = run_harness({"verify": jobs})["verify"]
    for g, e in zip(got, expected):
        g.pop("failures")
        assert g == e


# -- signed checkpoints: the page's check against `spinegate verify --public-key` -----------------


def _tamperings(log: Path, cps: Path) -> dict[str, Any]:
    """Ways to change a signed log or its checkpoint file; each returns nothing and edits the files."""
    from report_support import records, rehash, write_records

    def rows() -> list[dict[str, Any]]:
        return records(log)

    def cp_lines() -> list[bytes]:
        return cps.read_bytes().splitlines(keepends=True)

    def rewrite_rechained() -> None:
        r = rows()
        r[1]["action"]["description"] = "nothing to see"
        heads: dict[str, str | None] = {}
        for x in r:
            x["previous_receipt_hash"] = heads.get(x["session_id"])
            heads[x["session_id"]] = rehash(x)["receipt_hash"]
        write_records(log, r)

    def append_after_final() -> None:
        r = rows()
        extra = json.loads(json.dumps(r[-1]))
        extra["sequence_number"] += 1
        extra["previous_receipt_hash"] = r[-1]["receipt_hash"]
        extra["receipt_id"] = "7d0f5c2e-3a41-4b8e-9c55-0e6f7a8b9c42"
        write_records(log, r + [rehash(extra)])

    def unsigned_session() -> None:
        r = rows()
        extra = json.loads(json.dumps(r[0]))
        extra["session_id"], extra["receipt_id"] = "feedfeedfeed", "7d0f5c2e-3a41-4b8e-9c55-0e6f7a8b9c43"
        write_records(log, r + [rehash(extra)])

    return {
        "untouched": lambda: None,
        "receipt_deleted": lambda: write_records(log, rows()[:2] + rows()[3:]),
        "tail_cut": lambda: write_records(log, rows()[:-5]),
        "rewritten_and_rechained": rewrite_rechained,
        "reformatted_line": lambda: log.write_text(
            "".join((json.dumps(x) if i == 2 else canonical_json(x)) + "\n" for i, x in enumerate(rows())),
            encoding="utf-8"),
        "checkpoint_deleted": lambda: cps.write_bytes(b"".join(cp_lines()[:1] + cp_lines()[2:])),
        "checkpoints_reordered": lambda: cps.write_bytes(b"".join([cp_lines()[1], cp_lines()[0], *cp_lines()[2:]])),
        "checkpoint_edited": lambda: cps.write_bytes(cp_lines()[0].replace(b'"every":2', b'"every":3')
                                                     + b"".join(cp_lines()[1:])),
        "checkpoint_torn": lambda: cps.write_bytes(b"".join(cp_lines())[:-30]),
        "checkpoint_not_json": lambda: cps.write_bytes(b"".join(cp_lines()) + b"garbage\n"),
        "checkpoints_gone": lambda: cps.unlink(),
        "appended_after_final": append_after_final,
        "session_added": unsigned_session,
        "crlf_lines": lambda: log.write_bytes(log.read_bytes().replace(b"\n", b"\r\n")),
        "byte_order_mark": lambda: log.write_bytes(b"\xef\xbb\xbf" + log.read_bytes()),
        "log_and_checkpoints_emptied": lambda: (log.write_bytes(b""), cps.write_bytes(b"")),
    }


def test_page_checkpoint_verdict_matches_spinegate_verify(tmp_path: Path) -> None:
    import base64
    import shutil

    from cryptography.hazmat.primitives import serialization
    from report_support import LogFactory

    from spinegate import verify_checkpoints

    factory = LogFactory(tmp_path)
    clean = factory.write(sessions=2, calls=3, signed=True)
    cps_clean = Path(str(clean) + ".checkpoints.jsonl")
    key = factory.keys[1]
    raw = serialization.load_pem_public_key(key.read_bytes()).public_bytes(serialization.Encoding.Raw,
                                                                           serialization.PublicFormat.Raw)
    names = list(_tamperings(clean, cps_clean))
    jobs, expected = [], []
    for name in names:
        log = tmp_path / f"{name}.jsonl"
        cps = Path(str(log) + ".checkpoints.jsonl")
        shutil.copy(clean, log)
        shutil.copy(cps_clean, cps)
        _tamperings(log, cps)[name]()
        py = verify_checkpoints(log, key)
        expected.append({"valid": py.ok, "reasons": [f.reason for f in py.failures],
                         "verified": py.verified_checkpoints, "covered": py.covered_receipts})
        data = gather(log, public_key=factory.keys[1])
        assert data.embedded is not None
        jobs.append({"embedded": script_text(data.embedded), "keys": [base64.b64encode(raw).decode()],
                     "checkpoints": None if data.checkpoint_lines is None else script_text(data.checkpoint_lines)})
    got = run_harness({"checkpoints": jobs})["checkpoints"]
    for name, g, e in zip(names, got, expected):
        assert g == e, name
    assert {n for n, e in zip(names, expected) if e["valid"]} == {"untouched", "crlf_lines", "byte_order_mark"}


def test_page_checks_a_fleet_log_with_several_keys_as_spinegate_verify_does(tmp_path: Path) -> None:
    """Sessions signed by rotated keys; each key alone, both, and a session re-signed by the other key."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from report_support import LogFactory

    from spinegate import verify_checkpoints
    from spinegate.canonical import canonical_json as spell
    from spinegate.checkpoints import sign_checkpoint
    from spinegate.keys import key_id, load_private_key, load_public_key

    factory = LogFactory(tmp_path)
    log, rotated = factory.write_rotated()
    cps = Path(str(log) + ".checkpoints.jsonl")
    forked = tmp_path / "forked.jsonl"
    forked.write_bytes(log.read_bytes())
    lines = [json.loads(x) for x in cps.read_bytes().splitlines()]
    k = max(i for i, c in enumerate(lines) if c["session_id"] == lines[0]["session_id"])
    unsigned = {n: v for n, v in lines[k].items() if n != "signature"}
    unsigned["key_id"] = key_id(load_public_key(rotated))
    lines[k] = sign_checkpoint(load_private_key(str(rotated)[: -len(".pub")]), unsigned)
    Path(str(forked) + ".checkpoints.jsonl").write_text("".join(spell(c) + "\n" for c in lines), encoding="ascii")

    def raw(pub: Path) -> str:
        key = serialization.load_pem_public_key(pub.read_bytes())
        return base64.b64encode(key.public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)).decode()

    cases = [(log, [factory.keys[1]]), (log, [rotated]), (log, [factory.keys[1], rotated]),
             (log, [rotated, factory.keys[1], rotated]), (forked, [factory.keys[1], rotated])]
    jobs, expected = [], []
    for path, keys in cases:
        py = verify_checkpoints(path, keys)
        expected.append({"valid": py.ok, "reasons": [f.reason for f in py.failures],
                         "verified": py.verified_checkpoints, "covered": py.covered_receipts})
        data = gather(path, public_key=keys)
        assert data.embedded is not None and data.checkpoint_lines is not None
        jobs.append({"embedded": script_text(data.embedded), "keys": [raw(k) for k in keys],
                     "checkpoints": script_text(data.checkpoint_lines)})
    got = run_harness({"checkpoints": jobs})["checkpoints"]
    assert got == expected
    assert [e["valid"] for e in expected] == [False, False, True, True, False]
    assert "CHECKPOINT_KEY_MISMATCH" in expected[-1]["reasons"]
