"""Manifest loading, validation, hashing, and the gate's integrity re-check (issue item 2)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from core_support import DEFAULT_FUNCTIONS, entry, independent_manifest_hash

from spinegate import Gate, ManifestError, ManifestHashMismatch, MemoryReceiptStore, ToolCall, load_manifest
from spinegate.effects import EffectClass, Posture
from spinegate.manifest_file import compute_file_hash, seal_manifest


def test_sample_manifest_loads_and_verifies() -> None:
    path = Path(__file__).resolve().parents[2] / "samples" / "manifest.json"
    m = load_manifest(path)
    assert m.manifest_hash == independent_manifest_hash(json.loads(path.read_text(encoding="utf-8")))
    assert m.lookup("Files", "Read") is not None


def test_load_gives_frozen_typed_entries(write_manifest: Callable[..., Path]) -> None:
    m = load_manifest(write_manifest())
    e = m.lookup("Files", "Delete")
    assert e is not None and e.effect_class is EffectClass.SHELL_DANGEROUS and e.allowed is False
    assert e.reason == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert m.posture is Posture.NORMAL
    with pytest.raises(Exception):
        e.allowed = True  # type: ignore[misc]
    with pytest.raises(Exception):
        m.posture = Posture.LOCKDOWN  # type: ignore[misc]


def test_plugin_null_entries_are_looked_up_with_none(write_manifest: Callable[..., Path]) -> None:
    m = load_manifest(write_manifest())
    e = m.lookup(None, "search")
    assert e is not None and e.plugin is None
    assert m.lookup("", "search") is None
    assert m.lookup("Files", "search") is None
    assert m.lookup(None, "Read") is None  # a plugin-scoped tool is not found without its plugin


def test_same_function_name_under_plugin_and_null_are_distinct(write_manifest: Callable[..., Path]) -> None:
    m = load_manifest(write_manifest([entry(None, "Read", "SHELL_SAFE"), entry("Files", "Read", "SHELL_DANGEROUS")]))
    assert m.lookup(None, "Read").effect_class is EffectClass.SHELL_SAFE  # type: ignore[union-attr]
    assert m.lookup("Files", "Read").effect_class is EffectClass.SHELL_DANGEROUS  # type: ignore[union-attr]


def test_hash_mismatch_names_file_and_both_hashes(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    doc = json.loads(path.read_text(encoding="utf-8"))
    stored = doc["manifest_hash"]
    doc["functions"][0]["allowed"] = False  # changed after sign-off
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    computed = independent_manifest_hash(doc)
    with pytest.raises(ManifestHashMismatch) as info:
        load_manifest(path)
    text = str(info.value)
    assert str(path) in text and stored in text and computed in text
    assert info.value.stored == stored and info.value.computed == computed


def test_missing_hash_is_refused(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest(seal=False)
    with pytest.raises(ManifestHashMismatch) as info:
        load_manifest(path)
    assert info.value.stored is None and str(path) in str(info.value)


def test_seal_writes_the_independent_hash_and_keeps_content(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest(seal=False)
    digest = seal_manifest(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert digest == doc["manifest_hash"] == independent_manifest_hash(doc)
    assert doc["functions"] == DEFAULT_FUNCTIONS
    assert load_manifest(path).manifest_hash == digest


def test_seal_refuses_an_invalid_manifest_and_leaves_it_alone(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest([entry("A", "b", "SHELL_SAFE"), entry("A", "b", "SHELL_SAFE")], seal=False)
    before = path.read_bytes()
    with pytest.raises(ManifestError):
        seal_manifest(path)
    assert path.read_bytes() == before


def test_non_ascii_is_hashed_as_raw_utf8(write_manifest: Callable[..., Path]) -> None:
    fns = [entry("Dateien", "L\u00f6schen", "SHELL_DANGEROUS", False, "gesperrt \u2014 \u65e5\u672c")]
    path = write_manifest(fns)
    m = load_manifest(path)  # the independent hash (ensure_ascii=False) is accepted
    assert m.lookup("Dateien", "L\u00f6schen") is not None
    ascii_body = json.dumps({"functions": fns, "posture": "NORMAL", "version": "1.0.0"}, sort_keys=True,
                            separators=(",", ":"))
    import hashlib

    assert m.manifest_hash != hashlib.sha256(ascii_body.encode()).hexdigest()


def _write_raw(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_numbers_are_hashed_as_written(tmp_path: Path) -> None:
    template = ('{"version": "1.1.0", "posture": "NORMAL", "risk": {"elevated_at": %s}, "functions": '
                '[{"plugin": "A", "function": "b", "effect_class": "SHELL_SAFE", "allowed": true, '
                '"reason": null, "max_calls_per_session": %s}]}')
    a = compute_file_hash(_write_raw(tmp_path / "a.json", template % ("0.30", "5")))
    b = compute_file_hash(_write_raw(tmp_path / "b.json", template % ("0.3", "5")))
    c = compute_file_hash(_write_raw(tmp_path / "c.json", template % ("3e-1", "5")))
    assert len({a, b, c}) == 3
    import hashlib

    expected = ('{"functions":[{"allowed":true,"effect_class":"SHELL_SAFE","function":"b",'
                '"max_calls_per_session":5,"plugin":"A","reason":null}],"posture":"NORMAL",'
                '"risk":{"elevated_at":0.30},"version":"1.1.0"}')
    assert a == hashlib.sha256(expected.encode()).hexdigest()
    # sealing keeps the spelling, so the sealed file still says 0.30 and verifies
    seal_manifest(tmp_path / "a.json")
    assert "0.30" in (tmp_path / "a.json").read_text(encoding="utf-8")
    assert load_manifest(tmp_path / "a.json").manifest_hash == a


def test_v1_1_fields_are_ignored_by_validation_but_hashed(write_manifest: Callable[..., Path]) -> None:
    m1 = load_manifest(write_manifest(version="1.1.0", review={"owner": "ops", "ticket": 20}))
    m2 = load_manifest(write_manifest(version="1.1.0", review={"owner": "ops", "ticket": 21}))
    assert m1.manifest_hash != m2.manifest_hash


# -- bad input: every kind gets a ManifestError that names the entry ----------------------------------------------

BAD_ENTRIES: list[tuple[str, list[dict[str, Any]], list[str]]] = [
    ("duplicate", [entry("Files", "Read", "SHELL_SAFE"), entry("Files", "Read", "SHELL_MUTATING")],
     ["functions[1]", "Files.Read", "duplicate"]),
    ("duplicate_null_plugin", [entry(None, "search", "SHELL_SAFE"), entry(None, "search", "SHELL_SAFE")],
     ["functions[1]", "search", "duplicate"]),
    ("unknown_effect", [entry("Files", "Read", "SHELL_SAFE"), entry("Files", "Zap", "SHELL_SPICY")],
     ["functions[1]", "Files.Zap", "SHELL_SPICY", "effect_class"]),
    ("lowercase_effect", [entry("Files", "Read", "shell_safe")], ["functions[0]", "Files.Read", "shell_safe"]),
    ("allowed_as_string", [entry("Files", "Read", "SHELL_SAFE", allowed="yes")],  # type: ignore[arg-type]
     ["functions[0]", "Files.Read", "allowed"]),
    ("max_calls_as_string", [entry("Files", "Read", "SHELL_SAFE", max_calls="3")],  # type: ignore[arg-type]
     ["functions[0]", "Files.Read", "max_calls_per_session"]),
    ("max_calls_as_float", [entry("Files", "Read", "SHELL_SAFE", max_calls=2.5)],  # type: ignore[arg-type]
     ["functions[0]", "Files.Read", "max_calls_per_session"]),
    ("max_calls_as_bool", [entry("Files", "Read", "SHELL_SAFE", max_calls=True)],  # type: ignore[arg-type]
     ["functions[0]", "Files.Read", "max_calls_per_session"]),
    ("max_calls_negative", [entry("Files", "Read", "SHELL_SAFE", max_calls=-1)],
     ["functions[0]", "Files.Read", "max_calls_per_session"]),
    ("plugin_empty_string", [entry("", "search", "SHELL_SAFE")], ["functions[0]", "plugin"]),
    ("plugin_as_number", [entry(7, "Read", "SHELL_SAFE")], ["functions[0]", "plugin"]),  # type: ignore[arg-type]
    ("function_missing", [{"plugin": "Files", "effect_class": "SHELL_SAFE", "allowed": True}],
     ["functions[0]", "function"]),
    ("function_empty", [entry("Files", "", "SHELL_SAFE")], ["functions[0]", "function"]),
    ("effect_missing", [{"plugin": "Files", "function": "Read", "allowed": True}],
     ["functions[0]", "Files.Read", "effect_class"]),
    ("reason_as_number", [entry("Files", "Read", "SHELL_SAFE", False, 5)],  # type: ignore[arg-type]
     ["functions[0]", "Files.Read", "reason"]),
    ("entry_not_object", [entry("Files", "Read", "SHELL_SAFE"), "Files.Write"],  # type: ignore[list-item]
     ["functions[1]"]),
]


@pytest.mark.parametrize("functions, needles", [(f, n) for _, f, n in BAD_ENTRIES], ids=[c[0] for c in BAD_ENTRIES])
def test_bad_entries_are_refused_naming_the_entry(write_manifest: Callable[..., Path], functions: list[Any],
                                                  needles: list[str]) -> None:
    path = write_manifest(functions)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert not isinstance(info.value, ManifestHashMismatch)
    text = str(info.value)
    assert str(path) in text
    for needle in needles:
        assert needle in text, f"{needle!r} missing from: {text}"


BAD_DOCUMENTS: list[tuple[str, str, list[str]]] = [
    ("unknown_posture", '{"version": "1.0.0", "posture": "PANIC", "functions": []}', ["posture", "PANIC"]),
    ("posture_lowercase", '{"version": "1.0.0", "posture": "normal", "functions": []}', ["posture", "normal"]),
    ("functions_not_list", '{"version": "1.0.0", "posture": "NORMAL", "functions": {}}', ["functions"]),
    ("functions_missing", '{"version": "1.0.0", "posture": "NORMAL"}', ["functions"]),
    ("version_number", '{"version": 1, "posture": "NORMAL", "functions": []}', ["version"]),
    ("version_2", '{"version": "2.0.0", "posture": "NORMAL", "functions": []}', ["version", "2.0.0"]),
    ("not_an_object", '["version", "1.0.0"]', ["JSON object"]),
    ("invalid_json", '{"version": "1.0.0", "posture": ', ["not valid JSON", "line 1"]),
    ("duplicate_key", '{"version": "1.0.0", "version": "1.0.1", "posture": "NORMAL", "functions": []}',
     ["duplicate key", "version"]),
    ("nan", '{"version": "1.0.0", "posture": "NORMAL", "functions": [], "x": NaN}', ["NaN"]),
    ("empty", "", ["not valid JSON"]),
]


@pytest.mark.parametrize("text, needles", [(t, n) for _, t, n in BAD_DOCUMENTS], ids=[c[0] for c in BAD_DOCUMENTS])
def test_bad_documents_are_refused(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = _write_raw(tmp_path / "m.json", text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, f"{needle!r} missing from: {message}"


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "missing.json")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"version": "1.0.0", "posture": "NORMAL", "functions": [], "x": "\xe9"}')
    with pytest.raises(ManifestError, match="UTF-8"):
        load_manifest(bad)


def test_gate_open_refuses_a_tampered_manifest(write_manifest: Callable[..., Path], tmp_path: Path) -> None:
    path = write_manifest()
    text = path.read_text(encoding="utf-8").replace('"DESTRUCTIVE_OPERATION_BLOCKED"', '"OK"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestHashMismatch):
        Gate.open(path, receipts=tmp_path / "r.jsonl")
    assert not (tmp_path / "r.jsonl").exists() or (tmp_path / "r.jsonl").read_bytes() == b""


# -- integrity after load: MANIFEST_INTEGRITY_FAILURE ---------------------------------------------------------------


def _read(gate: Gate) -> Any:
    return gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"}))


def test_file_changed_on_disk_after_load_denies(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    gate = make_gate(path)
    assert _read(gate).approved
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["functions"][2]["allowed"] = True
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    d = _read(gate)
    assert not d.approved and d.reason == "MANIFEST_INTEGRITY_FAILURE"
    assert d.receipt is not None and d.receipt["result"]["blocked_by"] == "MANIFEST_INTEGRITY_FAILURE"
    # sticky: restoring the file does not silently re-enable the gate
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"


def test_file_resealed_after_load_denies(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    gate = make_gate(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["functions"][2]["allowed"] = True
    doc["manifest_hash"] = independent_manifest_hash(doc)  # a valid, re-sealed, different manifest
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"


def test_same_size_edit_with_restored_mtime_denies(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    """An edit that keeps the size and puts the old mtime back (touch -d) is still caught."""
    path = write_manifest([entry("Files", "Read", "SHELL_SAFE", max_calls=5)])
    gate = make_gate(path)
    assert _read(gate).approved
    st = os.stat(path)
    text = path.read_text(encoding="utf-8")
    edited = text.replace('"max_calls_per_session": 5', '"max_calls_per_session": 9')
    assert len(edited) == len(text) and edited != text
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"


def test_reformatting_the_file_without_changing_content_is_accepted(make_gate: Any,
                                                                    write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    gate = make_gate(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(doc, indent=4), encoding="utf-8")  # same content, same hash
    assert _read(gate).approved


def test_file_deleted_after_load_denies(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    gate = make_gate(path)
    path.unlink()
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"


@pytest.mark.parametrize("field, value", [("allowed", True), ("effect_class", EffectClass.SHELL_SAFE),
                                          ("reason", None), ("max_calls_per_session", 100)])
def test_in_memory_entry_mutation_denies(make_gate: Any, field: str, value: Any) -> None:
    gate = make_gate()
    target = gate.manifest.lookup("Files", "Delete")
    object.__setattr__(target, field, value)
    d = gate.check(ToolCall(plugin="Files", function="Delete", arguments={}))
    assert not d.approved and d.reason == "MANIFEST_INTEGRITY_FAILURE"
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"  # every later call too


def test_in_memory_manifest_mutation_denies(make_gate: Any) -> None:
    gate = make_gate()
    object.__setattr__(gate.manifest, "posture", Posture.LOCKDOWN)
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"


def test_in_memory_functions_replaced_denies(make_gate: Any) -> None:
    gate = make_gate()
    fns = gate.manifest.functions
    object.__setattr__(gate.manifest, "functions", fns[:1])
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"


def test_manifest_object_swapped_on_the_gate_denies(make_gate: Any, write_manifest: Callable[..., Path]) -> None:
    """Another manifest put in the gate's place (even a valid, sealed one) is a change after load."""
    gate = make_gate()
    other = load_manifest(write_manifest([entry("Files", "Read", "SHELL_SAFE"),
                                          entry("Files", "Delete", "SHELL_SAFE")]))
    gate.manifest = other
    d = gate.check(ToolCall(plugin="Files", function="Delete"))
    assert not d.approved and d.reason == "MANIFEST_INTEGRITY_FAILURE" and "replaced" in d.rule


def test_manifest_object_passed_to_gate_is_rechecked(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    m = load_manifest(path)
    gate = Gate.open(m, receipts=MemoryReceiptStore(), git={"branch": "", "commit_before": None,
                                                             "commit_after": None})
    assert _read(gate).approved
    path.write_text(path.read_text(encoding="utf-8").replace('"NORMAL"', '"LOCKDOWN"'), encoding="utf-8")
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"


def test_file_changed_between_load_and_gate_open_denies(write_manifest: Callable[..., Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate holds a Manifest loaded earlier; the file was edited before the gate opened, long enough
    ago that its fingerprint is settled (no racy window)."""
    from spinegate import manifest_file as manifest_module

    monkeypatch.setattr(manifest_module, "RACY_WINDOW_NS", 0)
    path = write_manifest()
    m = load_manifest(path)
    path.write_text(path.read_text(encoding="utf-8").replace('"NORMAL"', '"LOCKDOWN"'), encoding="utf-8")
    gate = Gate.open(m, receipts=MemoryReceiptStore(), git={"branch": "", "commit_before": None,
                                                             "commit_after": None})
    assert _read(gate).reason == "MANIFEST_INTEGRITY_FAILURE"
