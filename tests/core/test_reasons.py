"""Reason codes: defined once, each with a meaning, and the docs list the same ones."""

from __future__ import annotations

import re
from pathlib import Path

import spinegate.reasons as reasons
from spinegate.reasons import CHAIN_FAILURES, CHECKPOINT_FAILURES, DECISION_REASONS, VERIFY_WARNINGS, meaning

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_has_a_meaning_and_is_its_own_name() -> None:
    codes = {name: value for name, value in vars(reasons).items() if name.isupper() and isinstance(value, str)}
    assert all(name == value for name, value in codes.items())
    families = [DECISION_REASONS, CHAIN_FAILURES, CHECKPOINT_FAILURES, VERIFY_WARNINGS]
    assert set(codes.values()) == set().union(*families)
    assert sum(map(len, families)) == len(codes)  # no code in two families
    assert all(m and m[0].islower() for family in families for m in family.values())


def test_meaning_reads_an_evaluation_exception_by_its_prefix() -> None:
    assert meaning("EVALUATION_EXCEPTION: KeyError: 'x'") == DECISION_REASONS["EVALUATION_EXCEPTION"]
    assert meaning("HASH_MISMATCH") == CHAIN_FAILURES["HASH_MISMATCH"]
    assert meaning("SOMETHING_ELSE") is None


def test_no_other_module_defines_a_reason_code() -> None:
    """A code spelt as a constant anywhere else would be a second definition of it."""
    sources = [*ROOT.glob("src/spinegate/**/*.py"), *ROOT.glob("adapters/*/src/*/*.py")]
    everything = set(DECISION_REASONS) | set(CHAIN_FAILURES) | set(CHECKPOINT_FAILURES) | set(VERIFY_WARNINGS)
    pattern = re.compile(r'^([A-Z_]+) = "([A-Z_]+)"', flags=re.MULTILINE)
    for path in sources:
        if path.name == "reasons.py":
            continue
        for name, value in pattern.findall(path.read_text(encoding="utf-8")):
            assert value not in everything, f"{path} defines {name} = {value!r}; import it from spinegate.reasons"


def test_docs_list_every_decision_reason_code_with_its_meaning() -> None:
    """docs/policy.md's table of reason codes is `reasons.DECISION_REASONS`, row for row."""
    text = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (.+) \|$", text, flags=re.MULTILINE))
    assert rows == DECISION_REASONS
