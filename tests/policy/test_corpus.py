"""The command-line corpus: hostile lines come out at least as restrictive as expected, benign lines exactly.

The corpus is data (corpus/hostile.tsv, corpus/benign.tsv), grouped by the root
cause each line exercises. The lines are classified, never run.
"""

from __future__ import annotations

from collections import Counter

import pytest
from corpus_support import Case, load

from spinegate.effects import EffectClass
from spinegate.shell import ShellClassifier

HOSTILE = load("hostile.tsv")
BENIGN = load("benign.tsv")

#: The root causes the issue names; each needs a group of its own in the corpus.
CAUSES = ("abbreviation", "clustering", "attached values", "quoting and expansion", "builtins", "environment",
          "package managers", "writes through options", "secrets", "self-protection")


def test_the_corpus_is_big_enough_and_grouped_by_cause() -> None:
    counts = Counter(c.cause for c in HOSTILE)
    assert len(HOSTILE) >= 300 and len(BENIGN) >= 100
    for cause in CAUSES:
        assert counts[cause] >= 10, (cause, counts[cause])
    lines = [c.line for c in HOSTILE + BENIGN]
    assert len(set(lines)) == len(lines), [line for line, n in Counter(lines).items() if n > 1]


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_hostile_line_is_at_least_as_restrictive_as_expected(shell: ShellClassifier, case: Case) -> None:
    result = shell.classify(case.line)
    assert result.effect.rank >= case.expected.rank, result.explain()
    assert result.effect is not EffectClass.SHELL_SAFE


@pytest.mark.parametrize("case", BENIGN, ids=[c.id for c in BENIGN])
def test_benign_line_keeps_its_class(shell: ShellClassifier, case: Case) -> None:
    result = shell.classify(case.line)
    assert result.effect is case.expected, result.explain()
