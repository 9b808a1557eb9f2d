"""Fixtures for the adversarial suite: a sealed manifest on disk and a gate factory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from adversarial_support import GIT, Clock, Tool, write_sealed

from spinegate import Gate


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    return write_sealed(tmp_path / "manifest.json")


@pytest.fixture
def tool() -> Tool:
    return Tool()


@pytest.fixture
def open_gate(manifest_path: Path, tmp_path: Path) -> Iterator[Callable[..., Gate]]:
    gates: list[Gate] = []

    def make(receipts: Any = None, manifest: Any = None, **options: Any) -> Gate:
        options.setdefault("clock", Clock())
        options.setdefault("git", GIT)
        gate = Gate.open(manifest if manifest is not None else manifest_path,
                         receipts=receipts if receipts is not None else tmp_path / "receipts.jsonl", **options)
        gates.append(gate)
        return gate

    yield make
    for g in gates:
        try:
            g.close()
        except Exception:  # noqa: BLE001 - a test may have broken the store on purpose
            pass
