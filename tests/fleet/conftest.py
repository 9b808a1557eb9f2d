"""Fixtures for the fleet tests: a sealed manifest, keys, and the session's PostgreSQL server (tests/conftest.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet_support import FUNCTIONS

from spinegate.keys import write_keypair
from spinegate.manifest_file import seal_manifest


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": "1.0.0", "posture": "NORMAL", "functions": FUNCTIONS,
                                "manifest_hash": ""}), encoding="utf-8")
    seal_manifest(path)
    return path


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[Path, Path]:
    priv, pub, _ = write_keypair(tmp_path / "signing.key")
    return Path(priv), Path(pub)
