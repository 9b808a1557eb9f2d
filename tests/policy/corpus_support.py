"""Reading the command-line corpus (tests/policy/corpus/*.tsv): hostile and benign lines as data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from spinegate.effects import EffectClass

CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class Case:
    """One corpus line: the root cause group, the expected class, the line and what it tries."""

    cause: str
    expected: EffectClass
    line: str
    why: str

    @property
    def id(self) -> str:
        return f"{self.cause}: {self.why or self.line}"[:120]


def load(name: str) -> list[Case]:
    """The cases of corpus/NAME.tsv, in file order."""
    cases: list[Case] = []
    cause = ""
    for number, raw in enumerate((CORPUS / name).read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("[") and raw.endswith("]"):
            cause = raw[1:-1]
            continue
        parts = raw.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{name}:{number}: expected EXPECTED<TAB>LINE<TAB>WHY, got {raw!r}")
        expected, line, why = parts
        if line.startswith("json:"):
            line = json.loads(line[5:])
        cases.append(Case(cause, EffectClass(expected), line, why))
    return cases
