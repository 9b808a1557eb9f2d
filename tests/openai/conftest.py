"""Fixtures for the OpenAI adapter tests: a sealed manifest, a gate, counting tools, log checks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from spinegate import Gate, seal_manifest, verify_path
from spinegate.cli import main as spinegate_cli
from spinegate.jsonl_store import flush_deferred

sys.path.insert(0, str(Path(__file__).resolve().parent))

from openai_support import GIT, MANIFEST, RECEIPT_SCHEMA, Tools, read_receipts


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    seal_manifest(path)
    return path


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "receipts.jsonl"


@pytest.fixture
def gate(manifest_path: Path, log_path: Path):
    with Gate.open(manifest_path, receipts=log_path, git=GIT) as g:
        yield g


@pytest.fixture
def tools() -> Tools:
    return Tools()


@pytest.fixture
def receipts(log_path: Path) -> Callable[[], list[dict[str, Any]]]:
    def read() -> list[dict[str, Any]]:
        flush_deferred(log_path)
        return read_receipts(log_path)

    return read


@pytest.fixture
def check_log(log_path: Path) -> Callable[[], list[dict[str, Any]]]:
    """Verify the log three ways: verify_path, the `spinegate verify` CLI, and the receipt JSON Schema."""
    schema = json.loads(RECEIPT_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)

    def check() -> list[dict[str, Any]]:
        flush_deferred(log_path)  # outcomes the gate has sealed but not yet appended
        report = verify_path(log_path)
        assert report.ok, report.failures
        result = CliRunner().invoke(spinegate_cli, ["verify", str(log_path)])
        assert result.exit_code == 0, result.output
        rows = read_receipts(log_path)
        for row in rows:
            validator.validate(row)
        assert report.receipts == len(rows)
        return rows

    return check


