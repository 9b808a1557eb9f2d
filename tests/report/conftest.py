"""Fixtures for the report and show tests: logs written by a real gate, signed and unsigned."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_support import LogFactory


@pytest.fixture
def logs(tmp_path: Path) -> LogFactory:
    return LogFactory(tmp_path)
