"""Render a results JSON from `bench/run.py --json` as the Markdown table used in docs/benchmarks.md.

    python bench/report.py results.json
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import TARGETS


def render(figures: dict[str, object]) -> str:
    lines = ["| figure | measured | target | met |", "|---|---|---|---|"]
    for key, label, target, ok in TARGETS:
        v = figures.get(key)
        if v is None:
            lines.append(f"| {label} | skipped | {target} | - |")
            continue
        met = "-" if target == "-" else ("yes" if ok(float(v)) else "no")  # type: ignore[arg-type]
        shown = f"{v:,}" if isinstance(v, (int, float)) else str(v)
        lines.append(f"| {label} (`{key}`) | {shown} | {target} | {met} |")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        print(render(json.load(fh)))
