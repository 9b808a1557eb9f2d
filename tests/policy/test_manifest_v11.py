"""Manifest v1.1: additive fields, safe defaults, clear errors, same hash for v1.0 documents."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from policy_support import ROOT, entry

from spinegate.canonical import manifest_hash
from spinegate.effects import EffectClass
from spinegate.errors import ManifestError
from spinegate.manifest import manifest_from_raw
from spinegate.manifest_file import load_manifest

SAMPLE = ROOT / "samples" / "manifest_v1_1.json"
V10_SAMPLE = ROOT / "samples" / "manifest.json"


def test_v1_0_manifest_loads_with_defaults_and_the_same_hash() -> None:
    raw = json.loads(V10_SAMPLE.read_text(encoding="utf-8"))
    m = load_manifest(V10_SAMPLE)
    assert m.manifest_hash == raw["manifest_hash"]
    assert (m.budgets, m.risk, m.shell, m.paths) == (None, None, None, None)
    for e in m.functions:
        assert e.command_argument is None and e.path_arguments == () and e.writable_roots is None
        assert e.exceed_declared == "deny" and not e.has_argument_rules


def test_the_v1_1_sample_uses_every_field_and_verifies() -> None:
    m = load_manifest(SAMPLE)
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert manifest_hash(raw) == m.manifest_hash
    entry_keys = set().union(*(f.keys() for f in raw["functions"]))
    assert entry_keys >= {"command_argument", "path_arguments", "read_path_arguments", "writable_roots",
                          "exceed_declared", "requires_confirmation", "record_arguments", "record_output",
                          "max_calls_per_session"}
    assert {"budgets", "risk", "shell", "paths", "readable_secrets"} <= raw.keys()
    assert set(raw["budgets"]) == {"max_steps", "max_commands", "max_writes"}
    assert set(raw["risk"]) == {"deltas", "elevated_at", "lockdown_at"}
    assert set(raw["shell"]) == {"rules", "allow", "deny"}
    assert m.shell is not None and m.shell.rules[0].argv == ("pytest", "**")
    assert m.readable_secrets == ("config/dev.env",)
    assert set(raw["paths"]) == {"restricted", "writable_roots", "base_dir"}
    assert m.risk is not None and m.risk.deltas[EffectClass.NETWORK_ATTEMPT] == 0.15


def test_a_v1_0_reader_ignores_the_v1_1_fields(tmp_path: Path) -> None:
    # what a v1.0.0 reader sees: the v1.0 keys only; the hash is over the whole document either way
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    v10_keys = {"plugin", "function", "effect_class", "allowed", "reason", "max_calls_per_session"}
    stripped = {"version": raw["version"], "posture": raw["posture"],
                "functions": [{k: v for k, v in f.items() if k in v10_keys} for f in raw["functions"]]}
    m = manifest_from_raw(stripped, verify_hash=False)
    assert len(m.functions) == len(raw["functions"])
    assert manifest_hash(raw) == raw["manifest_hash"]


BAD: list[tuple[str, dict[str, Any], list[str]]] = [
    ("command_argument_empty", {"functions": [entry("Shell", "Run", "SHELL_SAFE", command_argument="")]},
     ["functions[0]", "Shell.Run", "command_argument"]),
    ("command_argument_number", {"functions": [entry("Shell", "Run", "SHELL_SAFE", command_argument=3)]},
     ["functions[0]", "Shell.Run", "command_argument"]),
    ("path_arguments_string", {"functions": [entry("Files", "Write", "SCOPED_WRITE", path_arguments="path")]},
     ["functions[0]", "Files.Write", "path_arguments"]),
    ("writable_roots_numbers", {"functions": [entry("Files", "Write", "SCOPED_WRITE", writable_roots=[1])]},
     ["functions[0]", "Files.Write", "writable_roots"]),
    ("exceed_declared_unknown", {"functions": [entry("Shell", "Run", "SHELL_SAFE", exceed_declared="maybe")]},
     ["functions[0]", "Shell.Run", "exceed_declared"]),
    ("requires_confirmation_string", {"functions": [entry("W", "F", "SHELL_SAFE", requires_confirmation="yes")]},
     ["functions[0]", "W.F", "requires_confirmation"]),
    ("budget_typo", {"budgets": {"max_step": 3}}, ["budgets", "max_step"]),
    ("budget_negative", {"budgets": {"max_steps": -1}}, ["budgets", "max_steps"]),
    ("budget_float", {"budgets": {"max_writes": 2.5}}, ["budgets", "max_writes"]),
    ("risk_unknown_class", {"risk": {"deltas": {"SHELL_SPICY": 0.1}}}, ["risk", "SHELL_SPICY"]),
    ("risk_negative", {"risk": {"deltas": {"SHELL_SAFE": -0.1}}}, ["risk", "deltas"]),
    ("risk_thresholds_reversed", {"risk": {"elevated_at": 0.6, "lockdown_at": 0.5}}, ["risk", "lockdown_at"]),
    ("risk_threshold_zero", {"risk": {"elevated_at": 0}}, ["risk", "elevated_at"]),
    ("shell_allow_string", {"shell": {"allow": "make"}}, ["shell", "allow"]),
    ("shell_unknown_key", {"shell": {"permit": ["make"]}}, ["shell", "permit"]),
    ("paths_restricted_number", {"paths": {"restricted": [1]}}, ["paths", "restricted"]),
]


@pytest.mark.parametrize("name,change,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_v1_1_fields_get_clear_errors(name: str, change: dict[str, Any], expected: list[str]) -> None:
    raw: dict[str, Any] = {"version": "1.1.0", "posture": "NORMAL", "functions": [entry("Files", "Read", "SHELL_SAFE")]}
    raw.update(change)
    with pytest.raises(ManifestError) as info:
        manifest_from_raw(raw, verify_hash=False)
    text = str(info.value)
    for word in expected:
        assert word in text, text


def test_changing_a_v1_1_section_in_memory_is_caught() -> None:
    m = load_manifest(SAMPLE)
    assert m.unchanged()
    object.__setattr__(m.budgets, "max_steps", 10**9)
    assert not m.unchanged()


def test_edited_v1_1_field_on_disk_fails_the_hash(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    shutil.copy(SAMPLE, target)
    raw = json.loads(target.read_text(encoding="utf-8"))
    raw["shell"]["deny"] = []
    target.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ManifestError):
        load_manifest(target)
