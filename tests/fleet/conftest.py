"""Fixtures for the fleet tests: a sealed manifest (keys and the PostgreSQL server: tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet_support import sealed_manifest


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    return sealed_manifest(tmp_path / "manifest.json")
