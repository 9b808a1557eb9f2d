"""Word decoding: the exact words bash passes to a program, or a reason why they cannot be known.

A word is decoded from its source text, never from the parser's idea of it:
quote removal (`'...'`, `"..."`, backslashes, backslash-newline), ANSI-C
quoting `$'...'` (every escape bash knows), locale quoting `$"..."` (decoded
as written: a message catalog is only consulted when TEXTDOMAIN is set, which
is a sensitive assignment), brace expansion (`{a,b}`, `{1..3}`, nested,
before anything else, producing several words), tilde prefixes and globs.

What cannot be known statically makes the word *dynamic* with the reason:
parameter and command substitution, arithmetic, process substitution, a NUL
inside `$'...'`, zsh's `=word` and glob qualifiers, a brace expansion that
yields too many words. A glob is not dynamic but is marked: the files it
matches decide its meaning. The decoder never guesses: it either returns the
literal words or says it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Most words one brace expansion may produce before the word is treated as unknowable.
MAX_BRACE_WORDS = 256

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                   "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_EXPANSION_STARTS = frozenset("_{([@*#?-$!0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

_PROCESS_SUBSTITUTION = re.compile(r"[<>]\((?:[^()]|\([^()]*\))*\)", re.S)

# One character of a decoded word, with whether it was quoted (quoted characters are never syntax).
_Char = tuple[str, bool]


@dataclass(frozen=True, slots=True)
class Word:
    """One word as the program receives it.

    `text` is the literal value (meaningful only when `dynamic` is None).
    `glob` is True when it holds unquoted `*`, `?` or `[`: the matching files
    replace it. `source` is the word as written in the command line.
    """

    text: str
    source: str
    dynamic: str | None = None
    glob: bool = False

    @property
    def literal(self) -> bool:
        """Known exactly: neither computed at run time nor a glob."""
        return self.dynamic is None and not self.glob

    def may_be_option(self) -> bool:
        """Whether the program may see this word as an option (it may start with `-`)."""
        if self.dynamic is not None:
            return True
        if self.glob:
            return self.text[:1] in ("*", "?", "[", "-")
        return self.text.startswith("-")


class _Dynamic(Exception):
    """The word's value cannot be known statically."""


def decode(source: str) -> list[Word]:
    """The words bash makes of one shell word (several after brace expansion), or one dynamic Word."""
    if _PROCESS_SUBSTITUTION.fullmatch(source):
        # the word is a pipe to or from a command (walked on its own): bash passes /dev/fd/N
        return [Word("/dev/fd/63", source)]
    try:
        chars = _unquote(source)
        if chars and chars[0] == ("=", False) and len(chars) > 1:
            raise _Dynamic("zsh replaces a word starting with = by a path or a temporary file")
        expanded = _brace_expand(chars)
    except _Dynamic as exc:
        return [Word("", source, dynamic=str(exc))]
    words: list[Word] = []
    for item in expanded:
        text = "".join(c for c, _ in item)
        glob = any(not q and c in "*?[" for c, q in item)
        if any(not q and c == "(" for c, q in item):
            return [Word("", source, dynamic="an unquoted ( in a word is an extended glob or a zsh glob "
                                             "qualifier, which may run code")]
        if item and item[0] == ("~", False):
            head = "".join(c for c, _ in item).split("/", 1)[0]
            if head in ("~+", "~-") or head[1:2].isdigit() or head[1:2] in ("+", "-"):
                return [Word("", source, dynamic=f"{head} expands to a directory only known at run time")]
        elif item and item[0][0] == "~":
            text = "./" + text  # a quoted ~ is a file named ~, not the home directory
        words.append(Word(text, source, glob=glob))
    return words


def _unquote(s: str) -> list[_Char]:
    out: list[_Char] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            if i + 1 < n:
                if s[i + 1] != "\n":
                    out.append((s[i + 1], True))
                i += 2
            else:
                out.append(("\\", True))
                i += 1
        elif c == "'":
            j = s.find("'", i + 1)
            if j < 0:
                raise _Dynamic("an unterminated single quote")
            out.extend((ch, True) for ch in s[i + 1:j])
            i = j + 1
        elif c == '"':
            i = _double_quoted(s, i + 1, out)
        elif c == "$":
            nxt = s[i + 1] if i + 1 < n else ""
            if nxt == "'":
                i = _ansi_c(s, i + 2, out)
            elif nxt == '"':
                i = _double_quoted(s, i + 2, out)
            elif nxt and nxt in _EXPANSION_STARTS:
                raise _Dynamic(_what_expands(s[i:i + 3]))
            else:
                out.append(("$", False))
                i += 1
        elif c == "`":
            raise _Dynamic("command substitution (`...`)")
        elif c in "<>" and i + 1 < n and s[i + 1] == "(":
            raise _Dynamic("process substitution")
        else:
            out.append((c, False))
            i += 1
    return out


def _what_expands(head: str) -> str:
    if head.startswith("$(("):
        return "arithmetic expansion $((...))"
    if head.startswith("$("):
        return "command substitution $(...)"
    if head.startswith("${"):
        return "parameter expansion ${...}"
    if head.startswith("$["):
        return "arithmetic expansion $[...]"
    return f"parameter expansion {head[:2]}"


def _double_quoted(s: str, i: int, out: list[_Char]) -> int:
    n = len(s)
    while i < n:
        c = s[i]
        if c == '"':
            return i + 1
        if c == "\\" and i + 1 < n and s[i + 1] in '$`"\\\n':
            if s[i + 1] != "\n":
                out.append((s[i + 1], True))
            i += 2
            continue
        if c == "$" and i + 1 < n and (s[i + 1] in _EXPANSION_STARTS or s[i + 1] in "'\""):
            if s[i + 1] in "'\"":
                out.append(("$", True))
                i += 1
                continue
            raise _Dynamic(_what_expands(s[i:i + 3]))
        if c == "`":
            raise _Dynamic("command substitution (`...`)")
        out.append((c, True))
        i += 1
    raise _Dynamic("an unterminated double quote")


def _ansi_c(s: str, i: int, out: list[_Char]) -> int:
    """Decode the body of $'...' starting at i; return the index after the closing quote."""
    n = len(s)
    while i < n:
        c = s[i]
        if c == "'":
            return i + 1
        if c != "\\":
            out.append((c, True))
            i += 1
            continue
        if i + 1 >= n:
            raise _Dynamic("an unterminated $'...' string")
        e = s[i + 1]
        if e in _SIMPLE_ESCAPES:
            out.append((_SIMPLE_ESCAPES[e], True))
            i += 2
        elif e in "01234567":
            j = i + 1
            while j < n and j < i + 4 and s[j] in "01234567":
                j += 1
            i = _code(int(s[i + 1:j], 8) & 0xFF, j, out)
        elif e in "xuU":
            limit = {"x": 2, "u": 4, "U": 8}[e]
            j = i + 2
            while j < n and j < i + 2 + limit and s[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                out.extend((("\\", True), (e, True)))
                i += 2
            else:
                i = _code(int(s[i + 2:j], 16), j, out)
        elif e == "c":
            if i + 2 >= n:
                raise _Dynamic("an unterminated $'...' string")
            ch = s[i + 2]
            if not ch.isascii():
                # bash applies \c to the first byte of a multibyte character and keeps the rest raw
                raise _Dynamic("\\c before a non-ASCII character in $'...' (bash makes bytes of it)")
            if ch == "\\" and i + 3 < n and s[i + 3] == "\\":
                i += 1  # \c\\ is control-backslash
            # bash: TOCTRL(c) is 0x7f for `?`, else the upper-cased character's low five bits
            i = _code(0x7F if ch == "?" else ord(ch.upper()) & 0x1F, i + 3, out)
        else:
            out.extend((("\\", True), (e, True)))
            i += 2
    raise _Dynamic("an unterminated $'...' string")


def _code(value: int, nxt: int, out: list[_Char]) -> int:
    if value == 0:
        raise _Dynamic("a NUL byte inside $'...' (bash cuts the word there)")
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        raise _Dynamic("an escape in $'...' that is not a character")
    out.append((chr(value), True))
    return nxt


def _brace_expand(chars: list[_Char]) -> list[list[_Char]]:
    """bash brace expansion over unquoted braces, commas and `..`; the words it yields in order."""
    results = _expand(chars)
    if len(results) > MAX_BRACE_WORDS:
        raise _Dynamic(f"a brace expansion of more than {MAX_BRACE_WORDS} words")
    return results


def _expand(chars: list[_Char]) -> list[list[_Char]]:
    n = len(chars)
    i = 0
    while i < n:
        if chars[i] == ("{", False):
            close, commas = _match_brace(chars, i)
            if close is not None:
                pre, post = chars[:i], chars[close + 1:]
                body = chars[i + 1:close]
                alternatives: list[list[_Char]] | None = None
                if commas:
                    alternatives = []
                    start = i + 1
                    for k in commas + [close]:
                        alternatives.extend(_expand(chars[start:k]))
                        start = k + 1
                else:
                    alternatives = _sequence(body)
                if alternatives is not None:
                    tails = _expand(post)
                    out: list[list[_Char]] = []
                    for alt in alternatives:
                        for tail in tails:
                            out.append(pre + alt + tail)
                            if len(out) > MAX_BRACE_WORDS:
                                raise _Dynamic(f"a brace expansion of more than {MAX_BRACE_WORDS} words")
                    return out
        i += 1
    return [chars]


def _match_brace(chars: list[_Char], start: int) -> tuple[int | None, list[int]]:
    """The index of the `}` closing the `{` at start, and its top-level commas."""
    depth = 0
    commas: list[int] = []
    for k in range(start, len(chars)):
        c = chars[k]
        if c == ("{", False):
            depth += 1
        elif c == ("}", False):
            depth -= 1
            if depth == 0:
                return k, commas
        elif c == (",", False) and depth == 1:
            commas.append(k)
    return None, commas


def _sequence(body: list[_Char]) -> list[list[_Char]] | None:
    """{a..b[..step]} with integers or single letters; None when the body is not a sequence."""
    if any(q for _, q in body):
        return None
    text = "".join(c for c, _ in body)
    parts = text.split("..")
    if len(parts) not in (2, 3):
        return None
    step = 1
    if len(parts) == 3:
        if not _is_int(parts[2]):
            return None
        step = abs(int(parts[2])) or 1
    a, b = parts[0], parts[1]
    if _is_int(a) and _is_int(b):
        lo, hi = int(a), int(b)
        count = abs(hi - lo) // step + 1
        if count > MAX_BRACE_WORDS:
            raise _Dynamic(f"a brace expansion of more than {MAX_BRACE_WORDS} words")
        width = max(len(a), len(b)) if (a.lstrip("-").startswith("0") and len(a.lstrip("-")) > 1) or \
            (b.lstrip("-").startswith("0") and len(b.lstrip("-")) > 1) else 0
        values = range(lo, hi + (1 if hi >= lo else -1), step if hi >= lo else -step)
        return [[(ch, False) for ch in (f"{v:0{width}d}" if width else str(v))] for v in values]
    if len(a) == 1 and len(b) == 1 and a.isascii() and b.isascii() and a.isalpha() and b.isalpha():
        lo, hi = ord(a), ord(b)
        values = range(lo, hi + (1 if hi >= lo else -1), step if hi >= lo else -step)
        return [[(chr(v), False)] for v in values]
    return None


def _is_int(text: str) -> bool:
    t = text[1:] if text[:1] in "+-" else text
    return t.isdigit() and t.isascii()


__all__ = ["Word", "decode", "MAX_BRACE_WORDS"]
