"""Fixtures for the tamper-evidence, durability and crash tests: a sealed manifest, signed logs.

The key pairs (`keypair`, `other_keypair`) are suite-wide, in tests/conftest.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tamper_support import FUNCTIONS, GIT, Clock, read_call

from spinegate import Gate
from spinegate.manifest_file import seal_manifest


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": "1.0.0", "posture": "NORMAL", "functions": FUNCTIONS,
                                "manifest_hash": ""}), encoding="utf-8")
    seal_manifest(path)
    return path


@pytest.fixture
def signed_log(tmp_path: Path, manifest_path: Path, keypair: tuple[Path, Path]) -> Callable[..., Path]:
    """Write a signed log: `sessions` gates taking turns, `n` receipts each, then close (unless told not to)."""

    def build(n: int = 10, *, every: int = 3, sessions: int = 1, close: bool = True,
              name: str = "receipts.jsonl") -> Path:
        log = tmp_path / name
        gates = [Gate.open(manifest_path, receipts=log, signing_key=keypair[0], checkpoint_every=every,
                           clock=Clock(), git=GIT) for _ in range(sessions)]
        for i in range(n):
            for g in gates:
                assert g.check(read_call(i)).approved
        if close:
            for g in gates:
                g.close()
        return log

    return build
