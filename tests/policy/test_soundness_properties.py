"""Soundness by construction, as properties.

1. Decoding: however a word is spelled (quotes, backslashes, ANSI-C or locale
   quoting, pieces glued together), the line is classified as if the literal
   word were written: never less restrictive.
2. Default-deny at the option level: an option that is not in a program's
   table, or is in it with a role that is not harmless, never yields SHELL_SAFE.
"""

from __future__ import annotations

import shlex
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_support import BASE, HOME, identity

from spinegate.effects import EffectClass
from spinegate.paths import PathPolicy
from spinegate.shell import ShellClassifier
from spinegate.shell.options import Option
from spinegate.shell.tables import PROGRAMS

SHELL = ShellClassifier(paths=PathPolicy(base_dir=BASE, resolver=identity, home=HOME, case_insensitive=False))
SAFE = EffectClass.SHELL_SAFE

WORDS = ["ls", "rm", "cat", "git", "status", "push", "--force", "-rf", "sort", "-o", ".env", "notes.md", "sed",
         "-i", "s/a/b/", "rg", "--pre=./x", "x", "curl", "-d", "@.env", "tee", "~/.ssh/id_rsa", "grep", "-f",
         "env", "sh", "-c", "id", "tar", "-xf", "a.tar", "find", ".", "-delete", "echo", "hello world", "a;b",
         "-", "--", "$x", "*"]


def _encodings(word: str) -> st.SearchStrategy[str]:
    """Ways to spell `word` so that bash passes exactly `word` (for words without expansions)."""
    def ansi_c(w: str) -> str:
        return "$'" + "".join(f"\\x{ord(c):02x}" if ord(c) < 128 else c for c in w) + "'"

    def backslashes(w: str) -> str:
        return "".join("\\" + c if c != "\n" else "'\n'" for c in w)

    def pieces(w: str) -> str:
        return "".join(f"'{c}'" if c != "'" else "\\'" for c in w)

    def double(w: str) -> str:
        return '"' + "".join("\\" + c if c in '$`"\\' else c for c in w) + '"'

    def locale(w: str) -> str:
        return "$" + double(w)

    return st.sampled_from([shlex.quote, ansi_c, backslashes, pieces, double, locale]).map(lambda f: f(word))


@st.composite
def _lines(draw: st.DrawFn) -> tuple[str, str]:
    words = draw(st.lists(st.sampled_from([w for w in WORDS if "$" not in w and "*" not in w]), min_size=1,
                          max_size=6))
    literal = " ".join(shlex.quote(w) for w in words)
    spelled = " ".join(draw(_encodings(w)) for w in words)
    return literal, spelled


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=_lines())
def test_a_spelled_word_is_never_less_restrictive_than_the_literal(pair: tuple[str, str]) -> None:
    literal, spelled = pair
    plain = SHELL.classify(literal)
    encoded = SHELL.classify(spelled)
    assert encoded.effect.rank >= plain.effect.rank, (spelled, encoded.explain(), plain.explain())
    # decoding is exact: the same words, so the same class (unless the parser could not be trusted with the
    # spelling, which is refused: tree-sitter-bash drops a `-` word before $"...", for one)
    if "cannot be parsed safely" not in encoded.rule:
        assert encoded.effect is plain.effect, (spelled, encoded.explain(), plain.explain())


_NOT_HARMLESS = {"danger", "exec", "config", "script-file", "net", "mut", "sh"}


def _programs_with_grammars() -> list[str]:
    return sorted(name for name, p in PROGRAMS.items() if p.grammar is not None and p.handler != "env")


def _option_cases() -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    for name in _programs_with_grammars():
        grammar = PROGRAMS[name].grammar
        assert grammar is not None
        for opt in grammar.options:
            if opt.role in _NOT_HARMLESS:
                cases.append((name, _spell(opt)))
            elif opt.role in ("write", "writedir"):
                cases.append((name, _spell(opt, ".git/hooks")))
    return cases


def _spell(opt: Option, value: str = "sh -c id") -> str:
    spelling = max(opt.names, key=len)
    if opt.arity == "none":
        return spelling
    if spelling.startswith("--"):
        return f"{spelling}={shlex.quote(value)}"
    return f"{spelling}{shlex.quote(value)}" if opt.arity == "optional" else f"{spelling} {shlex.quote(value)}"


@pytest.mark.parametrize("name,option", _option_cases())
def test_an_option_with_a_role_that_is_not_harmless_never_yields_safe(name: str, option: str) -> None:
    result = SHELL.classify(f"{name} {option} x")
    assert result.effect is not SAFE, result.explain()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(_programs_with_grammars()),
       spelling=st.text(alphabet=string.ascii_letters + "-_", min_size=1, max_size=12), long=st.booleans())
def test_an_option_the_table_does_not_know_never_yields_safe(name: str, spelling: str, long: bool) -> None:
    program = PROGRAMS[name]
    grammar = program.grammar
    assert grammar is not None
    if long:
        word = "--" + spelling.lstrip("-")
        if word == "--" or grammar.long(word[2:].split("=", 1)[0]):
            return  # a known option or a prefix of one
    else:
        char = spelling[0]
        if char == "-" or grammar.short(char) is not None or (grammar.single_dash_long and grammar.long(char)):
            return
        word = "-" + char
    if program.command_at is not None or program.subcommands:
        line = f"{name} {word} ls"
    else:
        line = f"{name} {word} x"
    result = SHELL.classify(line)
    assert result.effect is not SAFE, result.explain()
