"""Runs every published conformance vector (fixtures/conformance/*.json) through spinegate (issue item 7)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from core_support import CONFORMANCE

from spinegate import ManifestHashMismatch, load_manifest
from spinegate.canonical import canonical_json
from spinegate.cli import main as cli
from spinegate.manifest_file import compute_file_hash
from spinegate.receipt_hash import receipt_hash
from spinegate.receipts import Receipt, validate_receipt
from spinegate.verify import verify_jsonl, verify_path

FILES = ("canonical.json", "receipts.json", "manifests.json", "chains.json")


def load(name: str) -> list[dict[str, Any]]:
    doc = json.loads((CONFORMANCE / name).read_text(encoding="utf-8"))
    assert doc["format"] == "spinegate-conformance/1"
    return doc["vectors"]


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


CANONICAL, RECEIPTS, MANIFESTS, CHAINS = (load(f) for f in FILES)


def test_vectors_are_reproducible(tmp_path: Path) -> None:
    """The committed vectors are exactly what generate.py writes (no hand edits, no drift)."""
    subprocess.run([sys.executable, str(CONFORMANCE / "generate.py"), "--out", str(tmp_path)], check=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (CONFORMANCE / name).read_bytes(), name


def test_vector_names_are_unique() -> None:
    for vectors in (CANONICAL, RECEIPTS, MANIFESTS, CHAINS):
        assert len(set(ids(vectors))) == len(vectors)


@pytest.mark.parametrize("vector", CANONICAL, ids=ids(CANONICAL))
def test_canonical(vector: dict[str, Any]) -> None:
    text = canonical_json(json.loads(vector["input"]))
    assert text == vector["canonical"]
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == vector["sha256"]
    assert text.isascii()


def test_int_and_float_zero_differ() -> None:
    by_name = {v["name"]: v for v in CANONICAL}
    assert by_name["int_zero"]["sha256"] != by_name["float_zero"]["sha256"]
    receipts = {v["name"]: v for v in RECEIPTS}
    assert receipts["int_zero"]["receipt_hash"] != receipts["float_zero"]["receipt_hash"]


@pytest.mark.parametrize("vector", RECEIPTS, ids=ids(RECEIPTS))
def test_receipt(vector: dict[str, Any], tmp_path: Path, assert_schema_valid: Any) -> None:
    data = json.loads(vector["line"])
    body = {k: v for k, v in data.items() if k not in ("receipt_hash", "previous_receipt_hash")}
    assert canonical_json(body) == vector["hash_input"]
    assert receipt_hash(data) == vector["receipt_hash"] == data["receipt_hash"]
    assert Receipt(data).to_json() == vector["line"]
    validate_receipt(data)
    assert_schema_valid([data])
    for variant in vector["variants"].values():
        assert receipt_hash(json.loads(variant)) == vector["receipt_hash"]
    log = tmp_path / "one.jsonl"
    log.write_bytes(vector["line"].encode("ascii") + b"\n")
    assert verify_path(log).ok
    session = tmp_path / "dir" / data["session_id"]
    session.mkdir(parents=True)
    (session / f"0001_{data['receipt_id']}.json").write_text(vector["variants"]["pretty"], encoding="utf-8")
    assert verify_path(tmp_path / "dir").ok


@pytest.mark.parametrize("vector", MANIFESTS, ids=ids(MANIFESTS))
def test_manifest(vector: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(vector["file"], encoding="utf-8")
    assert hashlib.sha256(vector["hash_input"].encode("utf-8")).hexdigest() == vector["manifest_hash"]
    assert compute_file_hash(path) == vector["manifest_hash"]
    if vector["stored_hash_matches"]:
        assert load_manifest(path).manifest_hash == vector["manifest_hash"]
        assert CliRunner().invoke(cli, ["manifest", "check", str(path)]).exit_code == 0
    else:
        with pytest.raises(ManifestHashMismatch) as info:
            load_manifest(path)
        assert info.value.computed == vector["manifest_hash"]
        assert CliRunner().invoke(cli, ["manifest", "check", str(path)]).exit_code == 1


def test_manifest_number_spelling_changes_the_hash() -> None:
    by_name = {v["name"]: v for v in MANIFESTS}
    assert by_name["v1_1_number_0.30"]["manifest_hash"] != by_name["v1_1_number_0.3"]["manifest_hash"]


def materialise(vector: dict[str, Any], root: Path) -> Path:
    if vector["format"] == "jsonl":
        path = root / "log.jsonl"
        path.write_bytes(vector["log"].encode("utf-8"))
        return path
    base = root / "receipts"
    for rel, text in vector["files"].items():
        f = base / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return base


@pytest.mark.parametrize("vector", CHAINS, ids=ids(CHAINS))
def test_chain(vector: dict[str, Any], tmp_path: Path) -> None:
    path = materialise(vector, tmp_path)
    report = verify_path(path)
    assert report.ok is vector["valid"], [str(f) for f in report.failures]
    if vector["valid"]:
        s = vector["summary"]
        assert (report.receipts, report.sessions, report.approvals, report.denials) == \
            (s["receipts"], s["sessions"], s["approvals"], s["denials"])
    else:
        expected = vector["first_failure"]
        first = report.failures[0]
        assert first.reason == expected["reason"], str(first)
        assert first.sequence_number == expected["sequence_number"], str(first)
        if "line" in expected:
            assert first.line == expected["line"], str(first)
        if "file" in expected:
            assert Path(first.file) == path / expected["file"]
    result = CliRunner().invoke(cli, ["verify", str(path)])
    assert result.exit_code == (0 if vector["valid"] else 1), result.output
    if not vector["valid"]:
        assert vector["first_failure"]["reason"] in result.output


def _outcome(report: Any) -> tuple[Any, ...]:
    f = report.first_failure
    return (report.ok, report.receipts, report.sessions, report.approvals, report.denials,
            None if f is None else (f.reason, f.line, f.sequence_number, f.receipt_id))


JSONL_CHAINS = [v for v in CHAINS if v["format"] == "jsonl"]


@pytest.mark.parametrize("vector", JSONL_CHAINS, ids=ids(JSONL_CHAINS))
def test_chain_in_small_chunks(vector: dict[str, Any], tmp_path: Path) -> None:
    """The chunked verifier (ranges split mid-log) reports what the whole-file pass reports."""
    path = materialise(vector, tmp_path)
    whole = verify_jsonl(path)
    chunked = verify_jsonl(path, workers=1, chunk_bytes=700)
    assert _outcome(chunked) == _outcome(whole)


def test_chains_with_worker_processes(tmp_path: Path) -> None:
    for name in ("reordered",):  # one vector: each worker pool costs about a second to start
        vector = next(v for v in JSONL_CHAINS if v["name"] == name)
        d = tmp_path / name
        d.mkdir()
        path = materialise(vector, d)
        assert _outcome(verify_jsonl(path, workers=2, chunk_bytes=900)) == _outcome(verify_jsonl(path)), name
