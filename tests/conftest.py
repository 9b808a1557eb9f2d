"""Suite-wide set-up: the tests folder on sys.path for the shared helpers (`outside_tools`, ...)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
