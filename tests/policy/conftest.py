"""Fixtures for the policy tests: sealed v1.1 manifests, gates on a JSONL log, receipt checks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from spinegate import Gate
from spinegate.manifest_file import seal_manifest
from spinegate.paths import PathPolicy
from spinegate.shell import ShellClassifier
from spinegate.verify import verify_path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policy_support import BASE, GIT, HOME, SCHEMA_PATH, identity


@pytest.fixture
def paths() -> PathPolicy:
    return PathPolicy(base_dir=BASE, resolver=identity, home=HOME, case_insensitive=False)


@pytest.fixture
def shell(paths: PathPolicy) -> ShellClassifier:
    return ShellClassifier(paths=paths)


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[..., Path]:
    """Write and seal a manifest (version 1.1.0 unless told otherwise); return its path."""
    counter = iter(range(1000))

    def write(functions: list[dict[str, Any]], *, version: str = "1.1.0", posture: str = "NORMAL",
              **sections: Any) -> Path:
        doc = {"version": version, "posture": posture, "functions": functions, **sections}
        path = tmp_path / f"manifest{next(counter)}.json"
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        seal_manifest(path)
        return path

    return write


@pytest.fixture(scope="session")
def schema_validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture
def receipts_ok(schema_validator: Any) -> Callable[[Path], list[dict[str, Any]]]:
    """Assert a log verifies and every receipt in it fits the schema; return the receipts."""

    def check(log: Path) -> list[dict[str, Any]]:
        report = verify_path(log)
        assert report.ok, report.summary()
        rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        for r in rows:
            errors = list(schema_validator.iter_errors(r))
            assert not errors, errors[0].message
        return rows

    return check


@pytest.fixture
def open_gate(tmp_path: Path) -> Iterator[Callable[..., Gate]]:
    """Open gates on a JSONL log in tmp_path (closed at teardown)."""
    gates: list[Gate] = []

    def open_(manifest: Path, *, log: str = "receipts.jsonl", **options: Any) -> Gate:
        options.setdefault("git", GIT)
        gate = Gate.open(manifest, receipts=tmp_path / log, **options)
        gates.append(gate)
        return gate

    yield open_
    for g in gates:
        g.close()
