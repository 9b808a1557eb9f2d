"""Program texts: sed scripts and awk programs, read the way their interpreters read them.

A sed script or an awk program given on the command line is code. It is
harmless only when every command in it is known to be: sed without `e`, `w`,
`r` and their kin; awk without `system`, pipes, `getline`, `@include` and
the like, printing only to files named by string literals (which the caller
checks as writes).

Where the implementations disagree, every reading is classified and the
stricter one counts: GNU sed ends a label at a blank or `;` (BSD sed at the
end of the line), gawk lets a `/` inside a bracket expression stay in a
regular expression (`/[/]/`) while mawk and BSD awk end the expression there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# -- sed -------------------------------------------------------------------------------------

# Matched with .match(script, pos), which anchors at pos (a `^` would only match at the start of the script).
_SED_ADDRESS = re.compile(r"\s*(?:(?:\d+|\$|/(?:[^/\\]|\\.)*/[IM]*|\\(.)(?:(?!\1).|\\.)*\1[IM]*)"
                          r"(?:\s*[,~]\s*(?:\d+|\$|/(?:[^/\\]|\\.)*/[IM]*|\+\d+|~\d+))?)?\s*!?\s*")


def sed_script_effect(script: str) -> str | None:
    """Why a sed script is not harmless (runs commands, reads or writes files), or None.

    Default-deny: every command is parsed; only `p P d D n N g G h H x = l q Q z b t T : { } y s a i c #`
    with harmless flags are accepted. `e`, `w`, `W`, `r`, `R`, and the `e`/`w` flags of `s` are not.
    A label (`:a`, `b a`) ends at a blank, `;`, `}` or a newline, as GNU sed reads it:
    in `:a e cmd` the `e` is a command.
    """
    i = 0
    n = len(script)
    while i < n:
        while i < n and script[i] in " \t\n;":
            i += 1
        if i >= n:
            return None
        m = _SED_ADDRESS.match(script, i)
        if m is not None:
            i = m.end()
        if i >= n:
            return "ends in an address without a command"
        c = script[i]
        if c in "{}":
            i += 1
            continue
        if c == "#":
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c in "pPdDnNgGhHxzF=":
            i += 1
            continue
        if c in "qQlL":
            i += 1
            while i < n and (script[i].isdigit() or script[i] in " \t"):
                i += 1
            continue
        if c in "btT:":
            i = _end_of_label(script, i + 1)
            continue
        if c in "aic":
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c in "ys":
            end, problem = _two_delimited(script, i, c)
            if problem is not None:
                return problem
            if c == "y":
                i = end
                continue
            j = end
            while j < n and script[j] not in ";\n}#":
                flag = script[j]
                if flag in "ew":
                    return f"uses the s///{flag} flag, which {'runs a command' if flag == 'e' else 'writes a file'}"
                if flag not in "gpiImM0123456789 \t":
                    return f"uses an s flag ({flag!r}) the classifier does not know"
                j += 1
            i = j
            continue
        if c in "ewWrR":
            return {"e": "runs a command (e)", "w": "writes a file (w)", "W": "writes a file (W)",
                    "r": "reads a file (r)", "R": "reads a file (R)"}[c]
        return f"uses a command ({c!r}) the classifier does not know to be harmless"
    return None


def _two_delimited(script: str, i: int, command: str) -> tuple[int, str | None]:
    """`y/a/b/` and `s/a/b/`: the index after the second delimited part, or why the command is unreadable."""
    delim = script[i + 1:i + 2]
    if not delim or delim in "\\\n":
        return i, f"uses {command} with a bad delimiter"
    pieces, end = _split_delimited(script, i + 2, delim, 2)
    if pieces is None:
        return i, f"has an unterminated {command} command"
    return end, None


def _end_of_label(script: str, i: int) -> int:
    """The index after a label (blanks before it skipped): the first blank, `;`, `}` or newline ends it."""
    while i < len(script) and script[i] in " \t":
        i += 1
    while i < len(script) and script[i] not in " \t;\n}":
        i += 1
    return i


def _split_delimited(script: str, i: int, delim: str, count: int) -> tuple[list[str] | None, int]:
    pieces: list[str] = []
    cur: list[str] = []
    while i < len(script):
        ch = script[i]
        if ch == "\\" and i + 1 < len(script):
            cur.append(script[i:i + 2])
            i += 2
            continue
        if ch == delim:
            pieces.append("".join(cur))
            cur = []
            i += 1
            if len(pieces) == count:
                return pieces, i
            continue
        cur.append(ch)
        i += 1
    return None, i


# -- awk -------------------------------------------------------------------------------------

# Names whose use runs commands, reads files the line does not name, or reaches other variables by name.
# (FILENAME is only read: assigning it does not change which file awk reads.)
_AWK_FORBIDDEN = frozenset({"system", "getline", "close", "fflush", "ENVIRON", "ARGV", "ARGC", "PROCINFO",
                            "SYMTAB", "FUNCTAB"})
# After these tokens a `/` divides; after others it starts a regular expression. The `)` closing the
# condition of `if`, `while` or `for` is a token of its own ("cond)"): a statement, so a regex, may follow.
_OPERAND_ENDS = frozenset({"name", "number", "string", "regex", ")", "]", "$", "++", "--"})
_CONDITION_KEYWORDS = frozenset({"if", "while", "for", "switch"})
_REGEX_KEYWORDS = frozenset({"print", "printf", "return", "in", "case", "do", "else", "getline"})
_AWK_OPERATORS = ("&&", "||", "|&", ">>", "<=", ">=", "==", "!=", "++", "--", "+=", "-=", "*=", "/=", "%=", "^=",
                  "**=", "**")


@dataclass
class _AwkToken:
    kind: str  # "name", "number", "string", "regex", "newline", or the operator / punctuation itself
    text: str


@dataclass
class AwkEffect:
    """What an awk program does beyond reading its input and printing: why it is not harmless, the files it
    prints into (string literals), and whether it prints into a network connection (gawk's /inet)."""

    why: str | None = None
    outputs: list[str] = field(default_factory=list)


def awk_program_effect(text: str) -> AwkEffect:
    """Classify an awk program under every reading of `/` inside brackets; the stricter reading counts."""
    effects = [_awk_effect(text, brackets) for brackets in (True, False)]
    for e in effects:
        if e.why is not None:
            return e
    outputs: list[str] = []
    for e in effects:
        outputs.extend(o for o in e.outputs if o not in outputs)
    return AwkEffect(None, outputs)


def _awk_effect(text: str, brackets: bool) -> AwkEffect:
    tokens = _awk_tokens(text, brackets)
    if tokens is None:
        return AwkEffect("cannot be read (an unterminated string or regular expression)")
    for t in tokens:
        if t.kind == "@":
            return AwkEffect("uses @ (@include, @load, an indirect call), which loads or runs code")
        if t.kind == "name" and t.text in _AWK_FORBIDDEN:
            return AwkEffect(f"uses {t.text}, which runs commands, reads files the line does not name or "
                             "changes which files it reads")
        if t.kind in ("|", "|&"):
            return AwkEffect("pipes into or out of a command (|)")
        if t.kind == "string" and _awk_string_value(t.text).startswith("/inet"):
            return AwkEffect("names a network connection (/inet/...)")
    outputs: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind == "name" and t.text in ("print", "printf"):
            why, target, i = _print_redirection(tokens, i + 1)
            if why is not None:
                return AwkEffect(why)
            if target is not None:
                outputs.append(target)
            continue
        i += 1
    return AwkEffect(None, outputs)


def _print_redirection(tokens: list[_AwkToken], i: int) -> tuple[str | None, str | None, int]:
    """Read a print statement from tokens[i]: (why it is not harmless, the literal file it prints into, next)."""
    depth = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind in ("(", "["):
            depth += 1
        elif t.kind in (")", "]"):
            depth -= 1
        elif depth <= 0 and t.kind in (";", "newline", "}", "{"):
            return None, None, i
        elif depth <= 0 and t.kind in (">", ">>"):
            rest: list[_AwkToken] = []
            j = i + 1
            while j < len(tokens) and tokens[j].kind not in (";", "newline", "}"):
                rest.append(tokens[j])
                j += 1
            if len(rest) == 1 and rest[0].kind == "string":
                return None, _awk_string_value(rest[0].text), j
            return "prints into a file named at run time (>)", None, j
        i += 1
    return None, None, i


def _awk_tokens(text: str, brackets: bool) -> list[_AwkToken] | None:
    """awk's tokens (strings and regular expressions whole, comments and line continuations dropped)."""
    out: list[_AwkToken] = []
    parens: list[bool] = []  # for each open `(`: whether it opens the condition of if/while/for
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "(":
            parens.append(bool(out) and out[-1].kind == "name" and out[-1].text in _CONDITION_KEYWORDS)
        elif c == ")":
            if parens and parens.pop():
                out.append(_AwkToken("cond)", c))
                i += 1
                continue
        if c == "\\" and text[i + 1:i + 2] == "\n":
            i += 2
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "\n":
            out.append(_AwkToken("newline", c))
            i += 1
            continue
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c == '"':
            end = _awk_string_end(text, i + 1)
            if end < 0:
                return None
            out.append(_AwkToken("string", text[i:end]))
            i = end
            continue
        if c == "/" and _regex_allowed(out):
            end = _awk_regex_end(text, i + 1, brackets)
            if end < 0:
                return None
            out.append(_AwkToken("regex", text[i:end]))
            i = end
            continue
        kind = "name" if c.isalpha() or c == "_" else \
            "number" if c.isdigit() or (c == "." and text[i + 1:i + 2].isdigit()) else ""
        if kind:
            also = "_" if kind == "name" else "."
            j = i
            while j < n and (text[j].isalnum() or text[j] == also):
                j += 1
            out.append(_AwkToken(kind, text[i:j]))
            i = j
            continue
        op = next((o for o in _AWK_OPERATORS if text.startswith(o, i)), c)
        out.append(_AwkToken(op, op))
        i += len(op)
    return out


def _regex_allowed(tokens: list[_AwkToken]) -> bool:
    if not tokens:
        return True
    last = tokens[-1]
    if last.kind == "name":
        return last.text in _REGEX_KEYWORDS
    return last.kind not in _OPERAND_ENDS


def _awk_string_end(text: str, i: int) -> int:
    """The index after the closing quote of a string whose body starts at i, or -1."""
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c == "\n":
            return -1
        i += 1
    return -1


def _awk_regex_end(text: str, i: int, brackets: bool) -> int:
    """The index after the `/` closing a regular expression whose body starts at i, or -1.

    With `brackets` (gawk), a `/` inside `[...]` does not close it.
    """
    in_brackets = False
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            return -1
        if brackets and c == "[" and not in_brackets:
            in_brackets = True
            i += 1
            if text[i:i + 1] in ("^", "!"):
                i += 1
            if text[i:i + 1] == "]":
                i += 1
            continue
        if in_brackets and c == "[" and text[i + 1:i + 2] in (":", ".", "="):
            close = text.find(text[i + 1] + "]", i + 2)
            if close >= 0:
                i = close + 2
                continue
        if in_brackets and c == "]":
            in_brackets = False
        elif c == "/" and not in_brackets:
            return i + 1
        i += 1
    return -1


def _awk_string_value(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


__all__ = ["sed_script_effect", "awk_program_effect", "AwkEffect"]
