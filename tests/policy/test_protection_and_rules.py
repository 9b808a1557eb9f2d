"""The gate refuses writes to its own files; read_path_arguments, readable_secrets and shell.rules work for any tool."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from policy_support import BASE, HOME, entry, identity

from spinegate import Gate
from spinegate.classifier import EffectClassifier
from spinegate.decision import ToolCall
from spinegate.effects import EffectClass
from spinegate.errors import ManifestError
from spinegate.manifest import manifest_from_raw
from spinegate.paths import PathContext, PathPolicy
from spinegate.protected import PROTECTED_PATTERNS
from spinegate.shell import ShellClassifier, ShellRule
from spinegate.workspace import path_context

SAFE, MUT, DANG, RW = (EffectClass.SHELL_SAFE, EffectClass.SHELL_MUTATING, EffectClass.SHELL_DANGEROUS,
                       EffectClass.RESTRICTED_WRITE)


def _functions() -> list[dict[str, Any]]:
    return [
        entry("Shell", "Run", "SHELL_SAFE", command_argument="command", exceed_declared="allow"),
        entry("Files", "Write", "SCOPED_WRITE", path_arguments=["path"]),
        entry("Files", "Read", "SHELL_SAFE", read_path_arguments=["path"]),
        entry("Files", "Grep", "SHELL_SAFE", read_path_arguments=["path", "glob"]),
    ]


@pytest.fixture
def manifest(write_manifest: Callable[..., Path]) -> Path:
    return write_manifest(_functions())


@pytest.fixture
def gate(manifest: Path, open_gate: Callable[..., Gate], tmp_path: Path) -> Gate:
    return open_gate(manifest, signing_key=str(_key(tmp_path)))


def _key(tmp_path: Path) -> Path:
    from spinegate.keys import write_keypair

    private = tmp_path / "gate.key"
    write_keypair(private)
    return private


def test_the_gate_refuses_writes_to_its_own_files(gate: Gate, manifest: Path, tmp_path: Path) -> None:
    log = tmp_path / "receipts.jsonl"
    own = [str(log), str(tmp_path / "receipts.jsonl.checkpoints.jsonl"), str(tmp_path / "gate.key"), str(manifest)]
    for path in own:
        for command in (f"echo x > {path}", f"rm -f {path}", f"mv {path} /tmp/elsewhere", f"truncate -s0 {path}",
                        f"ln -sf /dev/null {path}", f"sed -i d {path}"):
            d = gate.check(ToolCall("Run", "Shell", {"command": command}))
            assert not d.approved and d.effect_class is RW, (command, d.reason)
        d = gate.check(ToolCall("Write", "Files", {"path": path}))
        assert not d.approved and d.effect_class is RW and d.reason == "RESTRICTED_WRITE_FORBIDDEN"
    # deleting the directory that holds them is refused too
    d = gate.check(ToolCall("Run", "Shell", {"command": f"rm -rf {tmp_path}"}))
    assert not d.approved and d.effect_class is RW


def test_agent_host_settings_are_protected_wherever_the_roots_are(gate: Gate) -> None:
    for path in (".claude/settings.json", ".claude/settings.local.json", ".mcp.json", ".git/hooks/pre-commit",
                 ".git/config", ".spinegate/state.json", ".cursor/mcp.json"):
        d = gate.check(ToolCall("Write", "Files", {"path": path}))
        assert d.effect_class is RW and not d.approved, path
    d = gate.check(ToolCall("Run", "Shell", {"command": "git clean -fdx"}))
    assert d.effect_class is RW and not d.approved
    for directory in (".", "..", "~", "/"):  # a file tool writing over a directory that holds them
        d = gate.check(ToolCall("Write", "Files", {"path": directory}))
        assert d.effect_class is RW and not d.approved, directory


def test_protected_patterns_name_their_owner_and_reason() -> None:
    assert {p.owner for p in PROTECTED_PATTERNS} >= {"gate", "git", "hook", "mcp"}
    assert all(p.why for p in PROTECTED_PATTERNS)


def test_the_path_context_is_a_value_built_at_the_edge(tmp_path: Path) -> None:
    context = path_context(protected_files=[tmp_path / "m.json", None, "<memory>"], cwd=str(tmp_path),
                           home="/home/x", case_insensitive=False)
    assert context == PathContext(str(tmp_path.resolve()), "/home/x", False, (str((tmp_path / "m.json").resolve()),),
                                  os.path.realpath)
    policy = PathPolicy(context=context, resolver=identity)
    assert policy.check(str(tmp_path / "m.json")).protected
    assert policy.base_dir == str(tmp_path.resolve())


# -- read_path_arguments and readable_secrets ---------------------------------------------------


def _classifier(**top: Any) -> tuple[EffectClassifier, Any]:
    raw = {"version": "1.1.0", "posture": "NORMAL", "functions": _functions(), **top}
    m = manifest_from_raw(raw, verify_hash=False)
    return EffectClassifier.for_manifest(m, base_dir=BASE, resolver=identity, home=HOME, case_insensitive=False), m


@pytest.mark.parametrize("path,expected", [
    ("src/app.py", SAFE), (".env", DANG), ("~/.ssh/id_rsa", DANG), ("~/.aws/credentials", DANG),
    (".env.example", SAFE), ("~", DANG), ("/", DANG), (["README.md", "config/.env.local"], DANG),
])
def test_reading_a_secret_through_a_file_tool_is_dangerous(path: object, expected: EffectClass) -> None:
    c, m = _classifier()
    result = c.classify(ToolCall("Read", "Files", {"path": path}), m.lookup("Files", "Read"))
    assert result.effect is expected, result.rule


@pytest.mark.parametrize("glob,expected", [("**/*.py", SAFE), ("*.pem", DANG), ("**/.env*", DANG), ("src/*", DANG)])
def test_glob_arguments_are_matched_by_overlap(glob: str, expected: EffectClass) -> None:
    c, m = _classifier()
    result = c.classify(ToolCall("Grep", "Files", {"path": "src", "glob": glob}), m.lookup("Files", "Grep"))
    assert result.effect is expected, result.rule


def test_readable_secrets_allow_specific_paths() -> None:
    c, m = _classifier(readable_secrets=["config/dev.env", "~/.aws/config"])
    read = m.lookup("Files", "Read")
    assert c.classify(ToolCall("Read", "Files", {"path": "config/dev.env"}), read).effect is SAFE
    assert c.classify(ToolCall("Read", "Files", {"path": "config/prod.env"}), read).effect is DANG
    shell = m.lookup("Shell", "Run")
    assert c.classify(ToolCall("Run", "Shell", {"command": "cat config/dev.env"}), shell).effect is SAFE
    assert c.classify(ToolCall("Run", "Shell", {"command": "cat ~/.aws/credentials"}), shell).effect is DANG


@pytest.mark.parametrize("bad", [3, {"p": 1}, [], ["ok", None], "", "a\x00b"])
def test_bad_read_path_arguments_are_unclassifiable(bad: object) -> None:
    c, m = _classifier()
    result = c.classify(ToolCall("Read", "Files", {"path": bad}), m.lookup("Files", "Read"))
    assert result.effect is None and "read path argument" in result.rule


# -- shell.rules ------------------------------------------------------------------------------


def _rules_classifier(rules: list[dict[str, Any]], **shell: Any) -> ShellClassifier:
    c, _ = _classifier(shell={"rules": rules, **shell})
    return c.shell


def test_a_rule_matches_one_simple_command_never_a_whole_line() -> None:
    sc = _rules_classifier([{"argv": ["pytest", "**"], "effect_class": "SHELL_MUTATING"}])
    assert sc.classify("pytest").effect is MUT
    assert sc.classify("pytest -x tests/unit").effect is MUT
    assert sc.classify("'py'test -q").effect is MUT  # words are compared after decoding
    assert sc.classify("timeout 60 pytest -q").effect is MUT  # wrappers are looked through
    assert sc.classify("pytest; rm -rf ~").effect is RW  # the rest of the line is classified on its own
    assert sc.classify("pytest > .env").effect is RW  # and so are its redirections
    assert sc.classify("PATH=/tmp pytest").effect is DANG  # and its assignments
    assert sc.classify("./pytest").effect is DANG  # a local file is not the program the rule names


def test_rule_elements_are_literal_words_one_word_or_the_rest() -> None:
    sc = _rules_classifier([{"argv": ["npm", "run", "test:*"], "effect_class": "SHELL_MUTATING"},
                            {"argv": ["make", "*"], "effect_class": "SHELL_MUTATING"},
                            {"argv": ["cargo", "test", "**"], "effect_class": "SHELL_MUTATING"}])
    assert sc.classify("npm run 'test:*'").effect is MUT
    assert sc.classify("npm run test:unit").effect is DANG  # `test:*` is a literal word, not a pattern
    assert sc.classify("npm run test:*").effect is DANG  # unquoted, it is a glob: the files decide the word
    assert sc.classify("make lint").effect is MUT
    assert sc.classify("make lint docs").effect is DANG  # `*` is exactly one word
    assert sc.classify("make $TARGET").effect is DANG  # a word known only at run time matches only "**"
    assert sc.classify("cargo test").effect is MUT and sc.classify("cargo test -- --nocapture").effect is MUT


def test_the_allow_list_is_shorthand_for_a_safe_rule_and_deny_wins() -> None:
    sc = _rules_classifier([], allow=["make"], deny=["curl"])
    assert sc.classify("make -j4 all").effect is SAFE
    assert sc.classify("make > .env").effect is RW
    sc = _rules_classifier([{"argv": ["curl", "**"], "effect_class": "SHELL_SAFE"}], deny=["curl"])
    assert sc.classify("curl x").effect is DANG and sc.classify("curl x").denied_programs == ("curl",)


@pytest.mark.parametrize("rules,message", [
    ([{"argv": [], "effect_class": "SHELL_SAFE"}], "argv"),
    ([{"argv": ["**"], "effect_class": "SHELL_SAFE"}], "program name"),
    ([{"argv": ["make", "**", "x"], "effect_class": "SHELL_SAFE"}], "last element"),
    ([{"argv": ["make"], "effect_class": "SHELL_SOMETIMES"}], "effect_class"),
    ([{"argv": ["make"], "effect_class": "SHELL_SAFE", "extra": 1}], "extra"),
    ([{"argv": "make", "effect_class": "SHELL_SAFE"}], "argv"),
])
def test_bad_rules_are_refused_with_a_clear_error(rules: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ManifestError) as info:
        manifest_from_raw({"version": "1.1.0", "posture": "NORMAL", "functions": [], "shell": {"rules": rules}},
                          verify_hash=False)
    assert "shell" in str(info.value) and message in str(info.value)


def test_shell_rule_objects_check_their_shape() -> None:
    with pytest.raises(ValueError):
        ShellRule(("**",), SAFE)
    with pytest.raises(ValueError):
        ShellRule(("make", "**", "x"), SAFE)
