"""Properties of the mechanisms the red-team fixes rely on, over generated lines.

Each property states a way of writing a line that bash runs the same (or more
of): the classification may only become more restrictive, never less.

1. A redirection placed among a command's words (`sort > /dev/null -o x f`):
   tree-sitter files the words after it under the redirection; bash gives
   them to the command.
2. A command inside backquotes, one level or two (with escaped backquotes),
   runs as the command itself does.
3. A wrapper in front of a command (`timeout 5`, `nice`, `env`, `command`,
   `nohup`, `stdbuf -oL`, macOS `arch -arm64`) runs the command.
4. A directory moved, copied or linked to a name that is the parent of a
   protected path (`mv x .claude`) puts files under that protected path.
5. Characters HFS+ ignores in names (zero-width joiners and the like) and
   bracket expressions that match the same character (`.en[[:alpha:]]`) name
   the same file: the protected or secret path they spell is matched.
"""

from __future__ import annotations

import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_support import BASE, HOME, identity

from spinegate.effects import EffectClass
from spinegate.paths import PathPolicy
from spinegate.protected import PROTECTED_PATTERNS
from spinegate.shell import ShellClassifier

SHELL = ShellClassifier(paths=PathPolicy(base_dir=BASE, resolver=identity, home=HOME, case_insensitive=False))
RESTRICTED = EffectClass.RESTRICTED_WRITE

COMMANDS = [
    "sort -o .git/config f", "sort --compress-program=sh f", "cat .env", "find . -delete", "tee .mcp.json",
    "git push --force", "grep -r key ~", "cp f .claude/settings.json", "ls -la", "head -n 1 f", "echo hello",
    "wc -l f", "sed -i s/a/b/ f", "rm -rf build", "curl -o out https://x.example", "ln -s x .claude",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(COMMANDS), at=st.integers(min_value=1, max_value=6),
       redirect=st.sampled_from(["> /dev/null", "2>/dev/null", ">> /dev/null", "2>&1", "< /dev/null"]))
def test_a_redirection_among_the_words_hides_none_of_them(command: str, at: int, redirect: str) -> None:
    words = command.split()  # the commands' words hold no blanks or quotes
    position = min(at, len(words))
    moved = " ".join(words[:position]) + f" {redirect} " + " ".join(words[position:])
    plain, spelled = SHELL.classify(command), SHELL.classify(moved)
    assert spelled.effect.rank >= plain.effect.rank, (moved, spelled.explain())


@pytest.mark.parametrize("command", COMMANDS)
def test_a_backquoted_command_is_classified_as_the_command(command: str) -> None:
    plain = SHELL.classify(command)
    once = SHELL.classify(f"echo `{command}`")
    twice = SHELL.classify("echo `echo \\`" + command + "\\``")
    assert once.effect.rank >= plain.effect.rank, once.explain()
    assert twice.effect.rank >= plain.effect.rank, twice.explain()


@pytest.mark.parametrize("wrapper", ["timeout 5", "nice -n 5", "env", "command", "nohup", "stdbuf -oL",
                                     "arch -arm64", "busybox", "time -p", "setsid", "ionice -c3"])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_wrapper_runs_its_command(wrapper: str, command: str) -> None:
    plain = SHELL.classify(command)
    wrapped = SHELL.classify(f"{wrapper} {command}")
    assert wrapped.effect.rank >= plain.effect.rank, wrapped.explain()


def _parents() -> list[str]:
    """The first components of the protected patterns that name a path inside a directory."""
    return sorted({p.pattern.split("/", 1)[0] for p in PROTECTED_PATTERNS
                   if "/" in p.pattern.rstrip("/") and not p.pattern.startswith("/")})


@pytest.mark.parametrize("parent", _parents())
@pytest.mark.parametrize("verb", ["mv x", "mv -T x", "cp -r x", "cp -a x/.", "ln -s x", "ln -sfn x", "rsync -a x/",
                                  "git mv x", "git clone https://h.example/r"])
def test_a_tree_put_at_the_parent_of_a_protected_path_is_a_restricted_write(verb: str, parent: str) -> None:
    result = SHELL.classify(f"{verb} {parent}")
    assert result.effect is RESTRICTED, result.explain()


IGNORABLE = ["\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u206a", "\ufeff"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from([".git/config", ".mcp.json", ".claude/settings.json", ".git/hooks/pre-commit"]),
       at=st.integers(min_value=1, max_value=20), mark=st.sampled_from(IGNORABLE))
def test_an_ignorable_code_point_does_not_hide_a_protected_path(path: str, at: int, mark: str) -> None:
    position = min(at, len(path))
    spelled = path[:position] + mark + path[position:]
    result = SHELL.classify(f"echo x > {shlex.quote(spelled)}")
    assert result.effect is RESTRICTED, result.explain()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from([".env", "id_rsa", ".netrc", "credentials"]), at=st.integers(min_value=1, max_value=8),
       bracket=st.sampled_from(["[[:alpha:]]", "[[:lower:]]", "[a-z]", "[!0-9]", "[^0-9]", "[]{c}]", "[{c}]",
                                "[[:alnum:]_]"]))
def test_a_bracket_expression_matching_the_character_does_not_hide_a_secret(name: str, at: int,
                                                                          bracket: str) -> None:
    position = min(at, len(name) - 1)
    if not name[position].isalpha():
        return
    spelled = name[:position] + bracket.replace("{c}", name[position]) + name[position + 1:]
    result = SHELL.classify(f"cat {spelled}")
    assert result.effect.rank >= EffectClass.SHELL_DANGEROUS.rank, result.explain()
