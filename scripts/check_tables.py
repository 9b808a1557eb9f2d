#!/usr/bin/env python3
"""Compare the classifier's option tables with the `--help` of the programs installed here (a development tool).

For each table of a SHELL_SAFE program that is installed, reads `PROG --help`
and reports:
- options the help lists that the table lacks (harmless for soundness: an
  unknown option is SHELL_DANGEROUS; worth adding when they are harmless);
- options whose value the help shows (`--opt=VALUE`, `-o FILE`) but the
  table reads without one: a mismatch that could make the classifier read a
  value as an operand, so it is fixed in the table.

Only GNU `--help` texts are parsed; BSD/macOS variants are checked by hand
against their man pages. Runs only `--help`.

    python scripts/check_tables.py [PROGRAM ...]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from spinegate.effects import EffectClass  # noqa: E402
from spinegate.shell.tables import PROGRAMS  # noqa: E402

_LONG = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)(\[?=([A-Z][A-Z_-]*|[a-z]+)\]?)?")
_SHORT = re.compile(r"^\s{1,8}(-[A-Za-z0-9])(?:,|\s+([A-Z][A-Z_]+)\b)?", re.M)


def help_text(name: str) -> str | None:
    if shutil.which(name) is None:
        return None
    try:
        p = subprocess.run([name, "--help"], capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout + p.stderr


def main(names: list[str]) -> int:
    mismatches = 0
    for name in names or sorted(PROGRAMS):
        program = PROGRAMS[name]
        grammar = program.grammar
        if grammar is None or program.effect is not EffectClass.SHELL_SAFE or program.subcommands:
            continue
        text = help_text(name)
        if not text or "--" not in text:
            continue
        missing: list[str] = []
        for long_name, value_part, _ in _LONG.findall(text):
            found = grammar.long(long_name[2:])
            exact = [o for o in found if long_name in o.names]
            if not exact:
                missing.append(long_name)
            elif value_part and value_part.startswith("=") and exact[0].arity == "none":
                print(f"{name}: {long_name} takes a value ({long_name}{value_part}) but the table reads none")
                mismatches += 1
        for short, value in _SHORT.findall(text):
            opt = grammar.short(short[1:])
            if opt is None:
                missing.append(short)
            elif value and opt.arity == "none":
                print(f"{name}: {short} takes a value ({value}) but the table reads none")
                mismatches += 1
        if missing:
            print(f"{name}: not in the table (unknown, so SHELL_DANGEROUS): {' '.join(sorted(set(missing)))}")
    print(f"value mismatches: {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
