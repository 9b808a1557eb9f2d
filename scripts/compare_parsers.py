#!/usr/bin/env python3
"""Compare bashlex and tree-sitter-bash on the command-line corpus (a development tool, kept for the record).

Counts, for the hostile and benign corpus lines, how many each parser accepts,
and for tree-sitter how many accepted parses the classifier still refuses
(a skipped byte: the coverage check). Needs `pip install bashlex`.

    python scripts/compare_parsers.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "policy"))

from corpus_support import load  # noqa: E402

from spinegate.shell.syntax import SyntaxProblem, parse  # noqa: E402


def main() -> int:
    try:
        import bashlex  # type: ignore[import-untyped]
    except ImportError:
        print("compare_parsers: pip install bashlex first", file=sys.stderr)
        return 2
    for name in ("hostile.tsv", "benign.tsv"):
        lines = [c.line for c in load(name)]
        bashlex_ok = 0
        for line in lines:
            try:
                bashlex.parse(line)
                bashlex_ok += 1
            except Exception:  # noqa: BLE001 - bashlex raises several kinds; all mean "cannot parse"
                pass
        ts_ok = 0
        for line in lines:
            try:
                parse(line)
                ts_ok += 1
            except SyntaxProblem:
                pass
        print(f"{name}: {len(lines)} lines; bashlex parses {bashlex_ok}; tree-sitter-bash parses (and the "
              f"coverage check trusts) {ts_ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
