"""The benchmark's log generator writes logs that verify (else the verify figure would be meaningless)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from spinegate.verify import _verify_jsonl_serial, verify_jsonl

BENCH = Path(__file__).resolve().parents[2] / "bench" / "genlog.py"


def test_generated_log_is_valid_and_realistic(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("genlog", BENCH)
    assert spec is not None and spec.loader is not None
    genlog = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(genlog)
    log = tmp_path / "gen.jsonl"
    size = genlog.generate(str(log), 500, sessions=4)
    assert size == log.stat().st_size
    report = verify_jsonl(log, workers=1, chunk_bytes=20_000)
    assert report.ok and report.receipts == 500 and report.sessions == 4
    assert report.denials > 0 and report.outcomes > 0 and report.approvals > 0
    assert report == _verify_jsonl_serial(log)
    first = json.loads(log.read_text().splitlines()[0])
    assert first["sequence_number"] == 1 and first["previous_receipt_hash"] is None
