"""The option grammar engine: reads a program's arguments the way its own option parser does.

A program's grammar is data (`Grammar`, usually written in the compact
`grammar("...")` notation): every short and long option, whether it takes a
value (required: attached or the next word; optional: attached only), and
its role. The engine implements GNU `getopt_long` and the common variants:

- short options cluster (`-abc`); the first one that takes a value takes the
  rest of the word, or the next word when the rest is empty;
- long options take `--opt=value` or, when the value is required, the next
  word; any unambiguous prefix of a long option names it (`--no-clob`), an
  exact name wins over prefixes, and an ambiguous prefix resolves to every
  candidate (the caller takes the most restrictive);
- `--` ends the options; `-` alone is an operand;
- options may follow operands (GNU permutation) unless the grammar says the
  first operand ends them (wrappers, `find`, BSD-style programs);
- optional variants: `-NUM` (`head -5`), single-dash long options
  (`find -name`, `java -jar`), `+ARG` words.

A word the grammar does not know (`-Z`, `--frobnicate`) is reported as an
unknown option, never skipped: the caller lifts the part to the program's
worst class (default-deny at the option level).

Notation for `grammar()`: whitespace-separated entries `names[arg][:role]`;
names joined by `|` (`-o|--output`); arg suffix `=` (required value), `?`
(optional, attached only) or `==` (two values, the next two words: jq's
`--rawfile NAME FILE`; the role applies to the second); role after `:`
(empty: harmless). Roles are
interpreted by the classifier (see `roles.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .words import Word

Arity = Literal["none", "required", "optional", "pair"]


@dataclass(frozen=True, slots=True)
class Option:
    """One option: its spellings, whether it takes a value, and its role ("" is harmless)."""

    names: tuple[str, ...]
    arity: Arity = "none"
    role: str = ""

    @property
    def name(self) -> str:
        """The longest spelling, for messages."""
        return max(self.names, key=len)


@dataclass(frozen=True)
class Grammar:
    """How one program (or sub-command) reads its arguments."""

    options: tuple[Option, ...] = ()
    permute: bool = True
    single_dash_long: bool = False
    numeric: str | None = None  # role of -NUM words (None: not accepted)
    plus: str | None = None  # role of +ARG words (None: they are operands)
    dash_dash: bool = True  # `--` ends the options
    _short: dict[str, Option] = field(default_factory=dict, init=False, repr=False, compare=False)
    _long: dict[str, Option] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for opt in self.options:
            for name in opt.names:
                table = self._long if name.startswith("--") or (self.single_dash_long and len(name) > 2) \
                    else self._short
                key = name.lstrip("-") if table is self._long else name[1:]
                previous = table.get(key)
                if previous is not None and previous.role != opt.role:
                    raise ValueError(f"option {name} is declared twice with different roles")
                if previous is not None and previous.arity != opt.arity:
                    # tables that merge several programs' or sub-commands' options may disagree on
                    # whether a value follows; read it as attached-only, so no next word is swallowed
                    table[key] = Option(opt.names, "optional", opt.role)
                    continue
                table[key] = opt

    def short(self, char: str) -> Option | None:
        return self._short.get(char)

    def long(self, name: str) -> list[Option]:
        """The options a long name (without dashes) means: exact match, else every prefix match."""
        exact = self._long.get(name)
        if exact is not None:
            return [exact]
        found: list[Option] = []
        for key, opt in self._long.items():
            if key.startswith(name) and opt not in found:
                found.append(opt)
        return found

    def roles(self) -> set[str]:
        return {o.role for o in self.options}


def grammar(spec: str, *, permute: bool = True, single_dash_long: bool = False, numeric: str | None = None,
            plus: str | None = None, dash_dash: bool = True, extra: Iterable[Option] = ()) -> Grammar:
    """A Grammar from the compact notation (see the module docstring)."""
    options: list[Option] = []
    for entry in spec.split():
        names_part, _, role = entry.partition(":")
        arity: Arity = "none"
        if names_part.endswith("=="):
            arity, names_part = "pair", names_part[:-2]
        elif names_part.endswith("="):
            arity, names_part = "required", names_part[:-1]
        elif names_part.endswith("?"):
            arity, names_part = "optional", names_part[:-1]
        names = tuple(n for n in names_part.split("|") if n)
        if not names or not all(n.startswith("-") for n in names):
            raise ValueError(f"bad option entry {entry!r}")
        options.append(Option(names, arity, role))
    options.extend(extra)
    return Grammar(tuple(options), permute, single_dash_long, numeric, plus, dash_dash)


@dataclass(frozen=True, slots=True)
class Parsed:
    """One option as the program reads it: which option(s), the word(s) it came from and its value."""

    options: tuple[Option, ...]  # one, or every candidate of an ambiguous prefix
    spelled: str
    value: Word | None = None


@dataclass(slots=True)
class ParseResult:
    """The options, operands and unknown words of one argument list."""

    options: list[Parsed] = field(default_factory=list)
    operands: list[Word] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    # Words whose reading depends on their run-time value (dynamic, or globs that may start with `-`).
    uncertain: list[Word] = field(default_factory=list)
    ended: bool = False  # `--` was seen
    rest: list[Word] = field(default_factory=list)  # for `stop_at`: the words from the stopping operand on
    raw: list[Word] = field(default_factory=list)  # the words as given

    def has(self, role: str) -> bool:
        return any(role == o.role for p in self.options for o in p.options)

    def values(self, role: str) -> list[Word]:
        return [p.value for p in self.options if p.value is not None and any(o.role == role for o in p.options)]


def parse(g: Grammar, words: Sequence[Word], *, stop_at: int | None = None) -> ParseResult:
    """Read `words` (the arguments, without the program name) with grammar `g`.

    `stop_at`: after this many operands, the next operand and the words after
    it are not parsed (they are a command the program runs, `timeout 5 CMD
    ...`, or a sub-command with its own arguments); they are returned in `rest`.
    """
    r = ParseResult(raw=list(words))
    i = 0
    n = len(words)
    options_done = False
    while i < n:
        w = words[i]
        t = w.text
        if options_done or (w.dynamic is None and not w.glob and not _looks_like_option(g, t)) or \
                (stop_at is not None and len(r.operands) >= stop_at and not (w.literal and t.startswith("-"))):
            if stop_at is not None and len(r.operands) >= stop_at:
                r.rest = list(words[i:])
                return r
            r.operands.append(w)
            if not g.permute and not options_done:
                options_done = True
            i += 1
            continue
        if w.dynamic is not None or w.glob:
            # a word whose value (or matching files) may decide whether it is an option
            if w.may_be_option():
                r.uncertain.append(w)
            r.operands.append(w)
            if not g.permute:
                options_done = True
            i += 1
            continue
        if t == "--" and g.dash_dash:
            r.ended = True
            options_done = True
            i += 1
            continue
        if t.startswith("+"):
            r.options.append(Parsed((Option((t,), "none", g.plus or ""),), t))
            i += 1
            continue
        if g.numeric is not None and t[1:].isdigit():
            r.options.append(Parsed((Option((t,), "none", g.numeric),), t))
            i += 1
            continue
        if t.startswith("--") or (g.single_dash_long and len(t) > 2 and g.long(t[1:].split("=", 1)[0])):
            i = _long_option(g, words, i, r)
            continue
        i = _short_cluster(g, words, i, r)
    return r


def _looks_like_option(g: Grammar, t: str) -> bool:
    if t == "-" or not t:
        return False
    if t.startswith("-"):
        return True
    return t.startswith("+") and g.plus is not None and len(t) > 1


def _long_option(g: Grammar, words: Sequence[Word], i: int, r: ParseResult) -> int:
    t = words[i].text
    body = t[2:] if t.startswith("--") else t[1:]
    name, eq, attached = body.partition("=")
    candidates = g.long(name) if name else []
    if not candidates:
        r.unknown.append(t)
        return i + 1
    arities = {c.arity for c in candidates}
    if len(arities) > 1:
        r.unknown.append(f"{t} (an ambiguous abbreviation)")
        return i + 1
    arity = arities.pop()
    value: Word | None = None
    if arity == "pair":
        if eq or i + 2 >= len(words):
            r.unknown.append(f"{t} (it takes two words)")
            return i + 1
        r.options.append(Parsed(tuple(candidates), t, words[i + 2]))
        return i + 3
    if eq:
        if arity == "none":
            r.unknown.append(f"{t} (takes no value)")
            return i + 1
        value = Word(attached, words[i].source, words[i].dynamic, words[i].glob)
    elif arity == "required":
        if i + 1 >= len(words):
            r.unknown.append(f"{t} (its value is missing)")
            return i + 1
        value = words[i + 1]
        r.options.append(Parsed(tuple(candidates), t, value))
        return i + 2
    r.options.append(Parsed(tuple(candidates), t, value))
    return i + 1


def _short_cluster(g: Grammar, words: Sequence[Word], i: int, r: ParseResult) -> int:
    t = words[i].text
    k = 1
    while k < len(t):
        opt = g.short(t[k])
        if opt is None:
            r.unknown.append(f"-{t[k]}" + (f" (in {t})" if len(t) > 2 else ""))
            return i + 1
        if opt.arity == "none":
            r.options.append(Parsed((opt,), f"-{t[k]}"))
            k += 1
            continue
        rest = t[k + 1:]
        if opt.arity == "pair":
            if rest or i + 2 >= len(words):
                r.unknown.append(f"-{t[k]} (it takes two words)")
                return i + 1
            r.options.append(Parsed((opt,), f"-{t[k]}", words[i + 2]))
            return i + 3
        if rest:
            r.options.append(Parsed((opt,), f"-{t[k]}", Word(rest, words[i].source, words[i].dynamic,
                                                              words[i].glob)))
            return i + 1
        if opt.arity == "optional":
            r.options.append(Parsed((opt,), f"-{t[k]}"))
            return i + 1
        if i + 1 >= len(words):
            r.unknown.append(f"-{t[k]} (its value is missing)")
            return i + 1
        r.options.append(Parsed((opt,), f"-{t[k]}", words[i + 1]))
        return i + 2
    return i + 1


__all__ = ["Option", "Grammar", "grammar", "Parsed", "ParseResult", "parse", "Arity"]
