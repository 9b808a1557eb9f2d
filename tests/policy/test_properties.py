"""Property tests: the effective effect is never less restrictive than the declared one."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_support import BASE, HOME, entry, identity

from spinegate.classifier import EffectClassifier
from spinegate.decision import ToolCall
from spinegate.effects import EffectClass, most_restrictive
from spinegate.manifest import manifest_from_raw
from spinegate.paths import PathPolicy
from spinegate.shell import ShellClassifier

PATHS = PathPolicy(base_dir=BASE, resolver=identity, home=HOME, case_insensitive=False)
SHELL = ShellClassifier(paths=PATHS)
CLASSIFIER = EffectClassifier(paths=PATHS, shell=SHELL)

WORDS = ["ls", "rm", "-rf", "/", "curl", "x", "git", "status", "push", "sudo", "bash", "-c", "echo", ".env",
         "docs/a.md", "~/.ssh/id_rsa", "..", "python3", "env", "xargs", "tee", "cp", "mkdir", "frob", "$X", "*"]
OPS = [" ", " ", " ", " && ", " || ", "; ", " | ", " > ", " >> ", " 2> ", "\n", " $(", ") ", " `", "` ", "'", '"']

command_lines = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(OPS)), min_size=1, max_size=8).map(
    lambda parts: "".join(w + o for w, o in parts))
path_values = st.one_of(
    st.lists(st.sampled_from(["docs", "..", ".", ".env", "id_rsa", "a.md", "~", "/etc", ".ssh", "x", "SECRETS"]),
             min_size=1, max_size=5).map("/".join),
    st.text(max_size=12),
)
effects = st.sampled_from(list(EffectClass))


def _entry(effect: EffectClass, **rules: Any) -> Any:
    m = manifest_from_raw({"version": "1.1.0", "posture": "NORMAL",
                           "functions": [entry("T", "f", effect.value, **rules)]}, verify_hash=False)
    return m.lookup("T", "f")


ENTRIES = {(e, kind): _entry(e, **rules) for e in EffectClass for kind, rules in (
    ("cmd", {"command_argument": "command"}), ("path", {"path_arguments": ["path"]}),
    ("both", {"command_argument": "command", "path_arguments": ["path"]}), ("plain", {}))}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declared=effects, kind=st.sampled_from(["cmd", "path", "both", "plain"]), command=command_lines,
       path=path_values)
def test_effective_effect_is_never_less_restrictive_than_declared(declared: EffectClass, kind: str, command: str,
                                                                  path: str) -> None:
    e = ENTRIES[(declared, kind)]
    result = CLASSIFIER.classify(ToolCall("f", "T", {"command": command, "path": path}), e)
    if result.effect is None:  # unclassifiable: the gate denies it (EFFECT_CLASS_UNKNOWN)
        return
    assert result.effect.rank >= declared.rank
    assert result.effect is most_restrictive(declared, result.derived or declared)
    assert result.exceeds_declared == (result.derived is not None and result.derived.rank > declared.rank)


@settings(max_examples=300, deadline=None)
@given(command=command_lines)
def test_a_compound_line_is_at_least_as_restrictive_as_each_part(command: str) -> None:
    for extra in ("rm -rf /", "curl x", "ls"):
        joined = SHELL.classify(f"{extra} && {command}")
        # a line bash cannot parse runs nothing; it is refused as SHELL_DANGEROUS
        assert joined.effect.rank >= SHELL.classify(extra).effect.rank or joined.effect is EffectClass.SHELL_DANGEROUS
        assert joined.effect.rank >= SHELL.classify(command).effect.rank or \
            joined.effect is EffectClass.SHELL_DANGEROUS


@settings(max_examples=200, deadline=None)
@given(command=st.text(max_size=60))
def test_the_shell_classifier_never_raises(command: str) -> None:
    result = SHELL.classify(command)
    assert result.effect in EffectClass
    assert result.decided_by in result.findings


GATE_FUNCTIONS = [entry("T", f"{kind}_{e.value}", e.value, **rules) for e in EffectClass for kind, rules in (
    ("cmd", {"command_argument": "command", "exceed_declared": "allow"}), ("path", {"path_arguments": ["path"]}),
    ("plain", {}))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declared=effects, kind=st.sampled_from(["cmd", "path", "plain"]), command=command_lines, path=path_values)
def test_receipts_never_record_less_than_the_declared_effect(declared: EffectClass, kind: str, command: str,
                                                             path: str) -> None:
    from spinegate import Gate, MemoryReceiptStore

    m = manifest_from_raw({"version": "1.1.0", "posture": "NORMAL", "functions": GATE_FUNCTIONS}, verify_hash=False)
    gate = Gate(m, MemoryReceiptStore(), classifier=CLASSIFIER,
                git={"branch": "main", "commit_before": None, "commit_after": None})
    d = gate.check(ToolCall(f"{kind}_{declared.value}", "T", {"command": command, "path": path}))
    assert d.effect_class.rank >= declared.rank
    assert d.receipt is not None and EffectClass(d.receipt["action"]["effect_class"]).rank >= declared.rank
