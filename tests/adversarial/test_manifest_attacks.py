"""Attacks on what the gate decides from: the manifest, the tool name, the classifier.

Each test names the attack it models; in every case the call is refused,
with a receipt, and the tool never runs.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from adversarial_support import FUNCTIONS, Tool, entry, governed, write_sealed

from spinegate import Gate, ToolCall
from spinegate.classifier import EffectClassifier
from spinegate.errors import ManifestError, ManifestHashMismatch
from spinegate.verify import verify_path


def test_manifest_edited_on_disk_after_load_is_refused(open_gate: Callable[..., Gate], manifest_path: Path,
                                                       tool: Tool) -> None:
    """Attack: after the gate loaded the signed-off manifest, someone allows Files.Delete in the file."""
    gate = open_gate()
    assert governed(gate, ToolCall(plugin="Files", function="Read"), tool).approved
    doc = json.loads(manifest_path.read_text(encoding="utf-8"))
    doc["functions"][2]["allowed"] = True
    manifest_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    decision = governed(gate, ToolCall(plugin="Files", function="Delete"), tool)
    assert not decision.approved and decision.reason == "MANIFEST_INTEGRITY_FAILURE"
    # Sticky: even a call the old manifest allowed is refused until the gate is reopened after review.
    assert governed(gate, ToolCall(plugin="Files", function="Read"), tool).reason == "MANIFEST_INTEGRITY_FAILURE"
    assert tool.runs == 1


def test_manifest_edited_and_resealed_after_load_is_refused(open_gate: Callable[..., Gate], manifest_path: Path,
                                                            tool: Tool) -> None:
    """Attack: the edit is even re-sealed, so the file is self-consistent, but not what was loaded."""
    gate = open_gate()
    write_sealed(manifest_path, [dict(e, allowed=True, reason=None) for e in FUNCTIONS])
    decision = governed(gate, ToolCall(plugin="Files", function="Delete"), tool)
    assert not decision.approved and decision.reason == "MANIFEST_INTEGRITY_FAILURE"
    assert tool.runs == 0 and decision.receipt is not None


def test_manifest_object_mutated_in_memory_is_refused(open_gate: Callable[..., Gate], tool: Tool) -> None:
    """Attack: code in the same process flips the loaded entry instead of the file."""
    gate = open_gate()
    delete = gate.manifest.lookup("Files", "Delete")
    object.__setattr__(delete, "allowed", True)
    decision = governed(gate, ToolCall(plugin="Files", function="Delete"), tool)
    assert not decision.approved and decision.reason == "MANIFEST_INTEGRITY_FAILURE"
    assert tool.runs == 0


def test_manifest_with_forged_hash_is_refused_at_load(tmp_path: Path, manifest_path: Path) -> None:
    """Attack: a manifest edited by hand with a made-up (or copied) manifest_hash."""
    doc = json.loads(manifest_path.read_text(encoding="utf-8"))
    doc["functions"][2]["allowed"] = True  # keeps the old, now wrong, hash
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ManifestHashMismatch):
        Gate.open(forged, receipts=tmp_path / "r.jsonl")
    doc["manifest_hash"] = "f" * 64
    forged.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ManifestHashMismatch):
        Gate.open(forged, receipts=tmp_path / "r.jsonl")
    assert not (tmp_path / "r.jsonl").exists() or (tmp_path / "r.jsonl").stat().st_size == 0


def test_duplicate_entries_are_refused_at_load(tmp_path: Path) -> None:
    """Attack: a second, allowed entry for a denied function, hoping the later one wins."""
    functions = FUNCTIONS + [entry("Files", "Delete", "SHELL_SAFE")]
    path = tmp_path / "dup.json"
    path.write_text(json.dumps({"version": "1.0.0", "posture": "NORMAL", "functions": functions}), encoding="utf-8")
    with pytest.raises(ManifestError, match="duplicate entry"):
        write_sealed(path, functions)


def test_duplicate_json_keys_are_refused_at_load(tmp_path: Path, manifest_path: Path) -> None:
    """Attack: the same key twice in one object; parsers disagree on which one wins."""
    text = manifest_path.read_text(encoding="utf-8")
    text = text.replace('"allowed": false', '"allowed": false, "allowed": true', 1)
    path = tmp_path / "dupkey.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match="duplicate key"):
        Gate.open(path, receipts=tmp_path / "r.jsonl")


def test_undeclared_function_is_refused(open_gate: Callable[..., Gate], tool: Tool) -> None:
    """Attack: the model calls a tool nobody declared."""
    gate = open_gate()
    decision = governed(gate, ToolCall(plugin="Shell", function="Exec", arguments={"cmd": "rm -rf /"}), tool)
    assert not decision.approved and decision.reason == "TOOL_NOT_IN_MANIFEST"
    assert decision.receipt["action"]["effect_class"] == "SHELL_DANGEROUS"
    assert tool.runs == 0


class ExplodingClassifier(EffectClassifier):
    def classify(self, call: ToolCall, entry: Any) -> Any:  # type: ignore[override]
        raise RuntimeError("classifier blew up")


def test_classifier_exception_is_refused(open_gate: Callable[..., Gate], tool: Tool) -> None:
    """Attack: input crafted to crash classification, hoping a crash means no decision (and a run)."""
    gate = open_gate(classifier=ExplodingClassifier())
    decision = governed(gate, ToolCall(plugin="Files", function="Read"), tool)
    assert not decision.approved
    assert decision.reason.startswith("EVALUATION_EXCEPTION: RuntimeError: classifier blew up")
    assert decision.receipt is not None and tool.runs == 0


@pytest.mark.parametrize("plugin,function", [
    ("Files", "read"), ("files", "Read"), ("FILES", "READ"),
    ("Files", "Ｒｅａｄ"),                          # fullwidth letters (NFKC folds them to "Read")
    ("Files", "Reаd"),                             # Cyrillic a
    ("Files", unicodedata.normalize("NFD", "Café")),  # decomposed é: canonically equal to the declared name
    ("Files", "CAFÉ"), ("Files", "café"),
    ("Files", "Read\u200b"),                       # zero-width space
    ("ﬁles", "Read"),                              # ligature
    (None, "Files.Read"),                          # same display name, no plugin
    (None, "SEARCH"), ("search", "search"),
])
def test_tool_names_differing_by_unicode_normalisation_or_case_are_not_confused(
        open_gate: Callable[..., Gate], tool: Tool, plugin: str | None, function: str) -> None:
    """Attack: a name that looks like (or normalises to) a declared tool, to borrow its permissions."""
    gate = open_gate()
    decision = governed(gate, ToolCall(plugin=plugin, function=function), tool)
    assert not decision.approved and decision.reason == "TOOL_NOT_IN_MANIFEST"
    assert tool.runs == 0
    # The receipt records the name exactly as called, so an auditor sees the look-alike.
    expected = f"{plugin}.{function}" if plugin else function
    assert decision.receipt["action"]["tool"] == expected


def test_exact_declared_names_still_match(open_gate: Callable[..., Gate], tool: Tool,
                                          tmp_path: Path) -> None:
    gate = open_gate()
    assert governed(gate, ToolCall(plugin="Files", function=unicodedata.normalize("NFC", "Café")), tool).approved
    assert governed(gate, ToolCall(function="search"), tool).approved
    assert tool.runs == 2
    gate.close()
    assert verify_path(tmp_path / "receipts.jsonl").ok
