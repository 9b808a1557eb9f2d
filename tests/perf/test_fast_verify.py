"""The fast JSONL verifier (byte ranges, worker processes, spilled ids) against the general one.

Every log here, valid or damaged, must give exactly the report
`_verify_jsonl_serial` gives: counts, failures in order, failure count,
session heads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinegate import Gate, ToolCall
from spinegate.errors import ReceiptFormatError
from spinegate.receipt_hash import receipt_hash
from spinegate.receipts import parse_receipt_line, validate_receipt
from spinegate.verify import MAX_REPORTED, _verify_jsonl_serial, verify_jsonl, verify_path, verify_stream


def _validate_json(raw: str | bytes) -> dict[str, Any]:
    """`parse_receipt_line`, raising where it declines (the general path takes the line then)."""
    data = parse_receipt_line(raw)
    if data is None:
        raise ValueError("declined by the one-step validator")
    return data

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "manifest.json"
GIT = {"branch": "main", "commit_before": None, "commit_after": None}


def as_tuple(report: Any) -> dict[str, Any]:
    return dataclasses.asdict(report)


def make_log(path: Path, rounds: int = 12) -> list[str]:
    """A real log: two interleaved sessions, approvals, denials, outcomes."""
    g1 = Gate.open(SAMPLE, receipts=path, git=GIT)
    g2 = Gate.open(SAMPLE, receipts=path, git=GIT)
    for i in range(rounds):
        d = g1.check(ToolCall(plugin="Files", function="Read", arguments={"path": f"f{i}.txt", "é": "\U0001F600"}))
        g1.record_outcome(d, output=f"line {i}\x00\u2028")
        g2.check(ToolCall(plugin="Files", function="Delete", arguments={"path": "x"}))
        g2.check(ToolCall(function="search", arguments={"q": i}))
    g1.close()
    g2.close()
    return path.read_text(encoding="ascii").splitlines(keepends=True)


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return make_log(tmp_path_factory.mktemp("log") / "receipts.jsonl")


def reseal(line: str, change: Callable[[dict[str, Any]], None]) -> str:
    data = json.loads(line)
    change(data)
    data["receipt_hash"] = receipt_hash(data)
    return json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"


def edit(line: str, change: Callable[[dict[str, Any]], None]) -> str:
    data = json.loads(line)
    change(data)
    return json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"


def damage(lines: list[str]) -> dict[str, list[str]]:
    L = list(lines)
    return {
        "valid": L,
        "edited_field": L[:5] + [edit(L[5], lambda d: d["action"].update(tool="Files.Write"))] + L[6:],
        "deleted_line": L[:7] + L[8:],
        "swapped": L[:4] + [L[5], L[4]] + L[6:],
        "duplicated_line": L[:10] + [L[9]] + L[10:],
        "garbage": L[:2] + ["{not json\n", "\n", "[1,2]\n", "null\n"] + L[2:],
        "schema": L[:4] + [edit(L[4], lambda d: d.pop("git_context")),
                           edit(L[5], lambda d: d.update(sequence_number=True)),
                           edit(L[6], lambda d: d["executor"].update(extra=1))] + L[7:],
        "torn": L + [L[0][:40]],
        "reformatted": [json.dumps(json.loads(x), indent=1).replace("\n", " ") + "\n" for x in L[:6]] + L[6:],
        "crlf": [x[:-1] + "\r\n" for x in L],
        "dup_id_resealed": L[:12] + [reseal(L[12], lambda d: d.update(receipt_id=json.loads(L[2])["receipt_id"]))]
        + L[13:],
        "bad_genesis": [reseal(L[0], lambda d: d.update(sequence_number=2))] + L[1:],
        "odd_json": L[:3] + [L[3][:-2] + ',"receipt_id":"dup-key"}\n',
                             L[4].replace('"risk_delta":0.0', '"risk_delta":NaN'),
                             L[5].replace('"branch":"main"', '"branch":"\\ud800"'),
                             L[6].replace('"steps_used":', '"steps_used":1E0,"steps_used":'),
                             "\ufeff" + L[7], L[11][:-1] + "\r\r\n", L[12].replace("}", "} ", 1),
                             "  " + L[8], L[9][:-1] + "  \n"] + L[10:11] + L[13:],
        "many_failures": L + [L[1]] * (MAX_REPORTED + 30),
        "empty": [],
    }


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes("".join(lines).encode("utf-8", "surrogatepass"))
    return path


@pytest.mark.parametrize("case", [
    "valid", "edited_field", "deleted_line", "swapped", "duplicated_line", "garbage", "schema", "torn",
    "reformatted", "crlf", "dup_id_resealed", "bad_genesis", "odd_json", "many_failures", "empty",
])
def test_fast_in_process_equals_general(lines: list[str], tmp_path: Path, case: str) -> None:
    log = write(tmp_path / "log.jsonl", damage(lines)[case])
    expected = as_tuple(_verify_jsonl_serial(log))
    if case != "valid":
        assert expected["failure_count"] > 0 or case in ("reformatted", "crlf", "empty")
    # one range, many small ranges (ids spilled to bucket files), and the public entry points
    assert as_tuple(verify_jsonl(log, workers=1)) == expected
    for chunk in (1, 700, 5000):
        assert as_tuple(verify_jsonl(log, workers=1, chunk_bytes=chunk)) == expected
    assert as_tuple(verify_path(log)) == expected
    # the same bytes streamed line by line (as the ledger's rows are): one range, and ranges with spilled ids
    streamed = [m.group() for m in re.finditer(rb"[^\n]*\n|[^\n]+$", log.read_bytes())]  # "\n" ends a line, not "\r"
    for chunk in (None, 1, 700):
        assert as_tuple(verify_stream(iter(streamed), str(log), chunk_bytes=chunk)) == expected


def test_worker_processes_equal_general(lines: list[str], tmp_path: Path) -> None:
    """The multiprocessing path, on several damaged logs at once (one pool start each)."""
    cases = damage(lines)
    for case in ("valid", "swapped", "many_failures", "odd_json"):
        log = write(tmp_path / f"{case}.jsonl", cases[case])
        assert as_tuple(verify_jsonl(log, workers=2, chunk_bytes=900)) == as_tuple(_verify_jsonl_serial(log)), case


ops = st.lists(st.tuples(st.sampled_from(["delete", "dup", "swap", "edit", "garbage", "reseal_id", "truncate"]),
                         st.integers(min_value=0, max_value=10_000)), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops, chunk=st.sampled_from([1, 300, 2000, 1 << 20]))
def test_random_damage(lines: list[str], tmp_path: Path, ops: list[tuple[str, int]], chunk: int) -> None:
    L = list(lines)
    for op, k in ops:
        if not L:
            break
        i = k % len(L)
        if op == "delete":
            del L[i]
        elif op == "dup":
            L.insert(k % (len(L) + 1), L[i])
        elif op == "swap":
            j = (i + 1) % len(L)
            L[i], L[j] = L[j], L[i]
        elif op == "edit" and L[i].startswith("{"):
            L[i] = L[i].replace('"steps_used":', '"steps_used":9,"x":', 1) if k % 2 else L[i].replace("Files", "Filez")
        elif op == "garbage":
            L.insert(i, "}{\n")
        elif op == "reseal_id" and L[i].startswith("{") and L[0].startswith("{"):
            try:
                L[i] = reseal(L[i], lambda d: d.update(receipt_id=json.loads(L[0])["receipt_id"]))
            except (ValueError, KeyError):
                pass
        elif op == "truncate":
            L[-1] = L[-1][: k % max(1, len(L[-1]))]
    log = write(tmp_path / "rand.jsonl", L)
    assert as_tuple(verify_jsonl(log, workers=1, chunk_bytes=chunk)) == as_tuple(_verify_jsonl_serial(log))


# Values a damaged receipt might carry in any field.
odd_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-3, max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=5), st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                   st.integers(), max_size=2),
    st.just("a" * 2001), st.just("0" * 64),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.integers(min_value=0, max_value=10_000), value=odd_values, drop=st.booleans(),
       row=st.integers(min_value=0, max_value=10_000))
def test_one_step_validator_accepts_only_what_the_schema_accepts(lines: list[str], where: int, value: Any,
                                                                 drop: bool, row: int) -> None:
    data = json.loads(lines[row % len(lines)])
    paths = [(k,) for k in data] + [(k, j) for k in data if isinstance(data[k], dict) for j in data[k]]
    path = paths[where % len(paths)]
    holder = data if len(path) == 1 else data[path[0]]
    if drop:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    try:
        fast = _validate_json(text)
    except Exception:  # noqa: BLE001 - rejection sends the line to the general path
        return
    parsed = json.loads(text)
    validate_receipt(parsed)  # must not raise
    assert fast == parsed


def test_schema_rejection_is_seen(lines: list[str]) -> None:
    """The property above can fail: a receipt the schema rejects is rejected by the fast validator too."""
    data = json.loads(lines[0])
    data["sequence_number"] = 0
    with pytest.raises(ReceiptFormatError):
        validate_receipt(data)
    with pytest.raises(Exception):
        _validate_json(json.dumps(data))


def test_large_log_uses_bounded_ranges(lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above PARALLEL_MIN_BYTES the default is one worker per CPU; the report is unchanged."""
    import spinegate.verify as v

    log = write(tmp_path / "big.jsonl", lines * 3)
    monkeypatch.setattr(v, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(v, "CHUNK_BYTES", 4096)
    assert as_tuple(v.verify_jsonl(log)) == as_tuple(_verify_jsonl_serial(log))
    assert os.path.getsize(log) > 3 * 4096


def test_invalid_utf8_and_raw_bytes(lines: list[str], tmp_path: Path) -> None:
    """Bytes that are not UTF-8, inside and outside strings, go the general way with the same result."""
    raw = [x.encode("ascii") for x in lines]
    raw[2] = raw[2].replace(b'"branch":"main"', b'"branch":"ma\xffin"')
    raw[3] = raw[3].replace(b'"branch":"main"', b'"branch":"m\xc3\xa9"')
    raw[4] = b"\xef\xbb\xbf" + raw[4]
    raw[5] = raw[5][:-1] + b"\xff\n"
    log = tmp_path / "bytes.jsonl"
    log.write_bytes(b"".join(raw))
    expected = as_tuple(_verify_jsonl_serial(log))
    assert expected["failure_count"] > 0
    for chunk in (1, 1 << 20):
        assert as_tuple(verify_jsonl(log, workers=1, chunk_bytes=chunk)) == expected


def test_progress_bar_does_not_change_the_report(lines: list[str], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    log = write(tmp_path / "p.jsonl", damage(lines)["deleted_line"])
    expected = as_tuple(_verify_jsonl_serial(log))
    assert as_tuple(verify_jsonl(log, workers=1, chunk_bytes=700, progress=True)) == expected
    assert "verifying p.jsonl" in capsys.readouterr().err
    assert as_tuple(verify_jsonl(log, workers=1, progress=True)) == expected


def test_spawned_workers_equal_general(lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes started fresh (the choice when the caller runs other threads)."""
    import spinegate.verify as v

    monkeypatch.setattr(v, "_start_method", lambda: "spawn")
    log = write(tmp_path / "spawn.jsonl", damage(lines)["duplicated_line"])
    assert as_tuple(v.verify_jsonl(log, workers=2, chunk_bytes=900)) == as_tuple(_verify_jsonl_serial(log))


def test_a_pipe_is_read_as_a_stream(lines: list[str], tmp_path: Path) -> None:
    """A log that is not a regular file (a pipe) still verifies, through the general reader."""
    import threading

    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    data = "".join(damage(lines)["deleted_line"]).encode("ascii")

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    report = verify_jsonl(fifo)
    writer.join()
    log = write(tmp_path / "same.jsonl", damage(lines)["deleted_line"])
    expected = as_tuple(_verify_jsonl_serial(log))
    got = as_tuple(report)
    assert {k: v for k, v in got.items() if k not in ("path", "failures")} == \
        {k: v for k, v in expected.items() if k not in ("path", "failures")}
    assert [f.reason for f in report.failures] == [f["reason"] for f in expected["failures"]]


# -- the pydantic-core serialiser shortcut in the verifier ---------------------------------------

import hashlib  # noqa: E402

from pydantic_core import to_json  # noqa: E402

from spinegate.receipt_hash import sorted_receipt_hash as _validated_hash  # noqa: E402

# No lone surrogates: the one-step validator rejects them, so they never reach this serialiser.
_chars = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",))
_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=6),  # mostly plain ASCII
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=6),
    st.text(alphabet=st.one_of(_chars, st.sampled_from(["\x7f", "\x00", "\x1f", '"', "\\", "/", "\u2028"])),
            max_size=6),
)
_numbers = st.one_of(
    st.integers(min_value=0, max_value=2**70), st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1e-05, 9.99e-05, 1e-4, 0.15, 1e15, 9999999999999998.0, 1e16, 1e17, 5e-324]),
)


@st.composite
def _receipts(draw: st.DrawFn) -> dict[str, Any]:
    t = lambda: draw(_text)  # noqa: E731
    opt = lambda: draw(st.one_of(st.none(), _text))  # noqa: E731
    lst = lambda: draw(st.lists(_text, max_size=2))  # noqa: E731
    n = lambda: draw(st.integers(min_value=0, max_value=2**70))  # noqa: E731
    return {
        "receipt_id": t(), "session_id": t(), "proposal_id": t(), "sequence_number": n() + 1, "timestamp": t(),
        "executor": {"type": t(), "model": t(), "instance_id": t()},
        "action": {"tool": t(), "operation": t(), "effect_class": t(), "risk_delta": draw(_numbers),
                   "description": t(), "command": opt(), "target_paths": lst(), "reversibility": t()},
        "result": {"status": draw(st.sampled_from(["success", "blocked", "failed"])),
                   "exit_code": draw(st.one_of(st.none(), st.integers())), "blocked_by": opt(), "diff_hash": opt(),
                   "files_created": lst(), "files_modified": lst(), "files_deleted": lst(), "stdout_truncated": opt()},
        "budget_snapshot": {"steps_used": n(), "steps_remaining": n(), "commands_used": n(), "writes_used": n(),
                            "files_touched": n(), "runtime_elapsed_seconds": draw(_numbers),
                            "session_risk_score": draw(_numbers), "current_posture": t()},
        "git_context": {"branch": t(), "commit_before": opt(), "commit_after": opt()},
        "previous_receipt_hash": opt(),
    }


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    return value


@settings(max_examples=400, deadline=None)
@given(receipt=_receipts(), forged=st.booleans())
def test_validated_hash_is_the_canonical_hash(receipt: dict[str, Any], forged: bool) -> None:
    """Honest hashes verify; a hash over pydantic-core's spelling (where it differs) never does."""
    canonical = receipt_hash(receipt)
    body = _sorted({k: v for k, v in receipt.items() if k != "previous_receipt_hash"})
    receipt["receipt_hash"] = hashlib.sha256(to_json(body)).hexdigest() if forged else canonical
    data = _validate_json(json.dumps(receipt))
    assert _validated_hash(data) == canonical


@pytest.mark.parametrize("number", [1e-05, 9.99e-05, 3e-07, 1e-09, 1e16, 1e17, 1e300, 5e-324, float("nan")])
def test_forged_spelling_of_a_float_is_caught(lines: list[str], number: float) -> None:
    receipt = json.loads(lines[0])
    receipt["action"]["risk_delta"] = number
    del receipt["receipt_hash"]
    canonical = receipt_hash(receipt)
    body = _sorted({k: v for k, v in receipt.items() if k != "previous_receipt_hash"})
    receipt["receipt_hash"] = hashlib.sha256(to_json(body)).hexdigest()
    data = _validate_json(json.dumps(receipt))
    assert _validated_hash(data) == canonical
