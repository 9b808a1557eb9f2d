"""Fixtures for the core tests: manifests on disk, a fixed clock, receipt schema checks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core_support import (
    DEFAULT_FUNCTIONS,
    GIT,
    SCHEMA_PATH,
    FakeMonotonic,
    FixedClock,
    independent_manifest_hash,
)


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[..., Path]:
    """Write a sealed manifest (hash computed independently of spinegate) and return its path."""
    counter = iter(range(1000))

    def write(functions: list[dict[str, Any]] | None = None, *, posture: str = "NORMAL", version: str = "1.0.0",
              name: str | None = None, seal: bool = True, **extra: Any) -> Path:
        doc: dict[str, Any] = {"version": version, "posture": posture,
                               "functions": DEFAULT_FUNCTIONS if functions is None else functions, **extra}
        if seal:
            doc["manifest_hash"] = independent_manifest_hash(doc)
        path = tmp_path / (name or f"manifest{next(counter)}.json")
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture(scope="session")
def schema_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="session")
def assert_schema_valid(schema_validator: Any) -> Callable[[Iterable[Any]], int]:
    """Validate receipts (dicts, Receipt mappings or JSONL lines) against the sibling JSON Schema."""

    def check(receipts: Iterable[Any]) -> int:
        n = 0
        for r in receipts:
            data = json.loads(r) if isinstance(r, (str, bytes)) else json.loads(json.dumps(dict(r)))
            errors = sorted(schema_validator.iter_errors(data), key=lambda e: list(e.path))
            assert not errors, f"receipt {data.get('receipt_id')} breaks the schema: {errors[0].message}"
            n += 1
        return n

    return check




class GateFactory:
    """Opens gates on sealed manifests with a fixed clock and git context, and remembers their logs.

    At teardown every receipt each log holds is validated against the sibling
    JSON Schema and every log must verify, unless a test broke it on purpose
    (`factory.expect_broken(path)`).
    """

    def __init__(self, tmp_path: Path, write_manifest: Callable[..., Path], clock: FixedClock,
                 monotonic: FakeMonotonic) -> None:
        self.tmp_path = tmp_path
        self.write_manifest = write_manifest
        self.clock = clock
        self.monotonic = monotonic
        self.logs: set[Path] = set()
        self.broken: set[Path] = set()
        self.gates: list[Any] = []

    def __call__(self, manifest: Path | Any | None = None, *, log: Path | str | None = None, **options: Any) -> Any:
        from spinegate import Gate

        if manifest is None:
            manifest = self.write_manifest()
        log_path = Path(log) if log is not None else self.tmp_path / "receipts.jsonl"
        options.setdefault("clock", self.clock)
        options.setdefault("monotonic", self.monotonic)
        options.setdefault("git", GIT)
        gate = Gate.open(manifest, receipts=log_path, **options)
        self.logs.add(log_path)
        self.gates.append(gate)
        return gate

    def expect_broken(self, path: Path) -> None:
        self.broken.add(Path(path))


@pytest.fixture
def make_gate(tmp_path: Path, write_manifest: Callable[..., Path], clock: FixedClock, monotonic: FakeMonotonic,
              assert_schema_valid: Callable[[Iterable[Any]], int]) -> Iterable[GateFactory]:
    from spinegate.verify import verify_path

    factory = GateFactory(tmp_path, write_manifest, clock, monotonic)
    yield factory
    for gate in factory.gates:
        gate.close()
    for log in factory.logs - factory.broken:
        if log.exists():
            assert_schema_valid(log.read_text(encoding="ascii").splitlines())
            report = verify_path(log)
            assert report.ok, [str(f) for f in report.failures]
