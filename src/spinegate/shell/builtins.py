"""Bash builtins and keywords: the ones that run or evaluate code, assign variables, or are harmless.

Builtins that run code are looked through (`exec`, `command`, `builtin`,
`time`, `coproc`, `eval` and `trap` strings when they are literal) or are
SHELL_DANGEROUS (`source`, `.`, `fc`, `enable` with arguments, `mapfile -C`,
`jobs -x`, `bind`, `alias NAME=...`, a non-literal `eval`). Builtins that
assign variables (`read`, `printf -v`, `mapfile`, `getopts`, `declare`,
`export`, `local`, `readonly`, `typeset`, `for`, `${x:=...}`) are checked for
sensitive names. Arithmetic on variables (`let`, `(( ))`, `$(( ))`,
`declare -i`, `[[ a -eq b ]]`, substring offsets, array subscripts) is
SHELL_DANGEROUS: a variable's value is evaluated as an expression, and an
array subscript in it can run a command substitution.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tree_sitter import Node

from .model import DANGEROUS, MUTATING, SAFE
from .options import Grammar, grammar, parse
from .syntax import Source
from .tables import lookup
from .variables import is_sensitive
from .words import Word, decode

if TYPE_CHECKING:  # pragma: no cover
    from .classify import ShellClassifier, State

Builtin = Callable[["ShellClassifier", str, list[Word], str, "State", int], None]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_EXPANSION = re.compile(r"^\$\{(!?)(#?)([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(\[[^\]]*\])?(.*)\}$", re.S)
_SAFE_SET_FLAGS = frozenset("euxvECTfBbhHmn")
#: Harmless to turn off, not on: history expansion (`set -H`, with `-o history`) rewrites words holding `!` in the
#: lines read after it (`echo x > !$` writes the last word of the line before), which the classifier reads as
#: they are written.
_ONLY_OFF_FLAGS, _ONLY_OFF_OPTIONS = frozenset("H"), frozenset({"histexpand"})
SAFE_SET_OPTIONS = frozenset({"errexit", "nounset", "xtrace", "verbose", "pipefail", "errtrace", "functrace",
                               "noclobber", "noglob", "braceexpand", "hashall", "histexpand", "monitor",
                               "notify", "noexec", "posix", "emacs", "vi", "ignoreeof", "interactive-comments",
                               "physical", "privileged", "onecmd", "history"})
SAFE_SHOPT = frozenset({"nullglob", "failglob", "globstar", "nocasematch", "nocaseglob", "extglob", "lastpipe",
                         "inherit_errexit", "xpg_echo", "checkwinsize", "histappend", "cmdhist", "lithist",
                         "checkhash", "checkjobs", "globasciiranges", "huponexit", "promptvars", "progcomp"})


def _plain(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    st.add(SAFE, part, f"{name} is a builtin that changes nothing")


def _table(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    program = lookup(name)
    assert program is not None
    sc.program(program, name, args, part, st, depth)


def _cd(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    sc.cd(name, args, part, st)


def _dangerous(why: str) -> Builtin:
    def handle(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
        st.add(DANGEROUS, part, f"{name} {why}")

    return handle


def _only_listing(why: str, flags: str = "") -> Builtin:
    """A builtin that is harmless without arguments (or with only `flags`), and SHELL_DANGEROUS otherwise."""
    def handle(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
        if all(w.literal and w.text.startswith("-") and set(w.text[1:]) <= set(flags) for w in args):
            st.add(SAFE, part, f"{name} only lists")
        else:
            st.add(DANGEROUS, part, f"{name} {why}")

    return handle


def _eval(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    if not all(w.literal for w in args):
        st.add(DANGEROUS, part, f"{name} runs a string computed at run time")
        return
    st.add(SAFE, part, f"{name} runs its arguments as a command line")
    if args:
        sc.parse_line(" ".join(w.text for w in args), st, depth + 1)


def _exec(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    i = 0
    while i < len(args) and args[i].literal and args[i].text.startswith("-"):
        t = args[i].text
        if t == "--":
            i += 1
            break
        if set(t[1:]) - set("cla"):
            st.add(DANGEROUS, part, f"{name}: {t} is not an option of {name}")
            return
        i += 2 if t.endswith("a") else 1
    rest = args[i:]
    if not rest:
        st.add(SAFE, part, f"{name} without a command only applies its redirections")
        return
    st.add(SAFE, part, f"{name} runs the program that follows")
    sc.argv(rest, part, st, depth)


def _command(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    i = 0
    lookup_only = False
    while i < len(args) and args[i].literal and args[i].text.startswith("-") and args[i].text != "-":
        t = args[i].text
        i += 1
        if t == "--":
            break
        if set(t[1:]) - set("pvV"):
            st.add(DANGEROUS, part, f"command: {t} is not an option of command")
            return
        lookup_only = lookup_only or bool(set(t[1:]) & set("vV"))
    if not all(w.literal for w in args[:i]):
        st.add(DANGEROUS, part, "command with an option computed at run time")
        return
    if lookup_only:
        st.add(SAFE, part, "command -v only looks a program up")
        return
    rest = args[i:]
    if not rest:
        st.add(SAFE, part, "command without a program does nothing")
        return
    st.add(SAFE, part, "command runs the program that follows")
    sc.argv(rest, part, st, depth)


def _builtin(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    if not args:
        st.add(SAFE, part, "builtin without a name does nothing")
        return
    first = args[0]
    if not first.literal or first.text not in BUILTINS:
        st.add(DANGEROUS, part, f"builtin {first.source} is not a builtin the classifier knows")
        return
    BUILTINS[first.text](sc, first.text, args[1:], part, st, depth)


def _time(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    rest = list(args)
    while rest and rest[0].literal and rest[0].text in ("-p", "--"):
        rest = rest[1:]
    st.add(SAFE, part, f"{name} runs the command that follows")
    if rest:
        sc.argv(rest, part, st, depth)


def _trap(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    words = [w for w in args if not (w.literal and w.text in ("-p", "-l", "-P", "--"))]
    if not words or all(w.literal and w.text.startswith("-") for w in args):
        st.add(SAFE, part, "trap only lists handlers")
        return
    handler = words[0]
    st.add(SAFE, part, "trap sets a handler")
    if not handler.literal:
        st.add(DANGEROUS, part, "trap sets a handler computed at run time")
    elif handler.text not in ("", "-") and len(words) >= 2:
        sc.parse_line(handler.text, st, depth + 1)
    elif len(words) == 1 and handler.text not in ("", "-"):
        st.add(DANGEROUS, part, "trap with one argument: bash reads it as a handler or a signal")


def _assigning(sc: ShellClassifier, name: str, words: list[Word], part: str, st: State) -> None:
    for w in words:
        if not w.literal:
            st.add(DANGEROUS, part, f"{name} assigns a variable whose name is computed at run time ({w.source})")
        else:
            sc.assigns(w.text, part, st, via=name)


_READ_GRAMMAR = grammar("-a=:assign -d= -e -E -i= -n= -N= -p= -r -s -t= -u=", permute=False)
_MAPFILE_GRAMMAR = grammar("-d= -n= -O= -s= -t -u= -C=:exec -c=", permute=False)


def _read(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    _assigning_builtin(sc, name, _READ_GRAMMAR, args, Word("REPLY", "REPLY"), "reads a line into variables", part, st)


def _mapfile(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    _assigning_builtin(sc, name, _MAPFILE_GRAMMAR, args, Word("MAPFILE", "MAPFILE"), "reads lines into an array",
                       part, st)


def _assigning_builtin(sc: ShellClassifier, name: str, g: Grammar, args: list[Word], default: Word, what: str,
                       part: str, st: State) -> None:
    """read and mapfile: options read with the builtin's own grammar (clusters such as `-tC cmd` included);
    the operands and `-a NAME` are the variables assigned."""
    r = parse(g, args)
    for unknown in r.unknown:
        st.add(DANGEROUS, part, f"{name}: {unknown} is not an option of {name}")
    if r.uncertain:
        st.add(DANGEROUS, part, f"{name}: the word {r.uncertain[0].source} may be an option (-C runs a command)")
    for parsed in r.options:
        if any(o.role == "exec" for o in parsed.options):
            st.add(DANGEROUS, part, f"{name} {parsed.spelled} runs a callback command for each line")
        elif parsed.spelled == "-u" and parsed.value is not None and not (parsed.value.literal and
                                                                          parsed.value.text.isdigit()):
            st.add(DANGEROUS, part, f"{name} -u with a descriptor computed at run time")
    names = r.values("assign") + list(r.operands)
    _assigning(sc, name, names or [default], part, st)
    st.add(SAFE, part, f"{name} {what}")


def _getopts(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    if len(args) >= 2:
        _assigning(sc, name, [args[1]], part, st)
    st.add(SAFE, part, "getopts parses options")


def _let(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    for w in args:
        body = w.text if w.dynamic is None else "$"
        target = body.split("=", 1)[0] if "=" in body and not body.startswith("=") else ""
        if target:
            sc.assigns(target.rstrip("+-*/%<>&|^"), part, st, via=name)
        if any(c.isalpha() or c in "_$`[" for c in body.split("=", 1)[-1]) or w.dynamic is not None:
            st.add(DANGEROUS, part, f"{name} evaluates variables as expressions, whose array subscripts can run "
                                    "commands")
            return
    st.add(SAFE, part, f"{name} does arithmetic on numbers")


def _declare_words(sc: ShellClassifier, name: str, words: list[Word], part: str, st: State) -> None:
    """export/declare/typeset/local/readonly: NAME=VALUE words are assignments; -n and -i evaluate values."""
    st.add(SAFE, part, f"{name} sets shell variables")
    flags = ""
    for w in words:
        if w.literal and w.text[:1] in ("-", "+") and "=" not in w.text:
            flags += w.text[1:]
            continue
        if w.dynamic is not None:
            match = _NAME.match(w.source)
            if match is None:
                st.add(DANGEROUS, part, f"{name} sets a variable whose name is computed at run time ({w.source})")
                continue
            sc.assigns(match.group(0).rstrip("=+"), part, st, via=name)
            if "i" in flags:
                st.add(DANGEROUS, part, f"{name} -i evaluates a value computed at run time as an expression")
            continue
        var, eq, value = w.text.partition("=")
        if eq or "n" in flags or "i" in flags:
            sc.assigns(var.rstrip("+"), part, st, via=name)
        if eq and "i" in flags and not value.strip().lstrip("-").isdigit():
            st.add(DANGEROUS, part, f"{name} -i evaluates {value!r} as an expression, whose array subscripts can "
                                    "run commands")
    if "n" in flags and name != "export":
        st.add(DANGEROUS, part, f"{name} -n makes a name reference, which can assign any variable (PATH, ...)")
    if "f" in flags and (name == "export" or "x" in flags):
        st.add(DANGEROUS, part, f"{name} -f{'x' if name != 'export' else ''} exports a function, which child "
                                "shells run in place of a command")


def _declare(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    _declare_words(sc, name, args, part, st)


def declaration(sc: ShellClassifier, node: Node, src: Source, st: State, depth: int) -> None:
    """A declaration_command node (`export A=1`, `declare -x B`)."""
    keyword = node.children[0].type if node.children else "declare"
    words = sc.words_of(node.children[1:], src, st, depth)
    part = " ".join(src.text_of(node).split())[:200]
    _declare_words(sc, keyword, words, part, st)


def _set(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    i = 0
    while i < len(args):
        w = args[i]
        if not w.literal:
            st.add(DANGEROUS, part, f"set with an option computed at run time ({w.source})")
            return
        t = w.text
        if t in ("--", "-"):
            break
        if t in ("-o", "+o"):
            if i + 1 < len(args):
                option = args[i + 1].text
                if not args[i + 1].literal or option not in SAFE_SET_OPTIONS or (
                        t == "-o" and option in _ONLY_OFF_OPTIONS):
                    st.add(DANGEROUS, part, f"set {t} {args[i + 1].source} changes how the shell reads commands")
                    return
            i += 2
            continue
        if t[:1] in ("-", "+"):
            flags = t[1:]
            if "o" in flags:
                # `set -euo pipefail`: o takes the next word as an option name
                named = args[i + 1] if i + 1 < len(args) else None
                if named is not None and (not named.literal or named.text not in SAFE_SET_OPTIONS or (
                        t[0] == "-" and named.text in _ONLY_OFF_OPTIONS)):
                    st.add(DANGEROUS, part, f"set -o {named.source} changes how the shell reads commands")
                    return
                flags = flags.replace("o", "")
                i += 1
            if set(flags) - _SAFE_SET_FLAGS or (t[0] == "-" and set(flags) & _ONLY_OFF_FLAGS):
                st.add(DANGEROUS, part, f"set {t} changes how the shell reads commands (-k, -a, -P, ...)")
                return
            i += 1
            continue
        break
    st.add(SAFE, part, "set changes shell options or the positional parameters")


def _shopt(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    """shopt [-pqsuo] [NAME ...]: option letters cluster (`-os` is `-o -s`) and end at the first name;
    with -o the names are `set -o` options."""
    letters: set[str] = set()
    names: list[Word] = []
    for w in args:
        if not w.literal:
            st.add(DANGEROUS, part, f"shopt with a word computed at run time ({w.source})")
            return
        if not names and w.text == "--":
            names.append(Word("", w.source))  # the end of the options: what follows is names
            continue
        if not names and w.text.startswith("-") and len(w.text) > 1:
            letters |= set(w.text[1:])
            continue
        names.append(w)
    names = [w for w in names if w.text]
    if not letters & {"s", "u"}:
        st.add(SAFE, part, "shopt only lists options")
        return
    allowed = SAFE_SET_OPTIONS if "o" in letters else SAFE_SHOPT
    for w in names:
        if w.text not in allowed or ("s" in letters and w.text in _ONLY_OFF_OPTIONS):
            st.add(DANGEROUS, part, f"shopt {w.source} changes how the shell reads commands or expands words")
            return
    st.add(SAFE, part, "shopt sets harmless shell options")


def _alias(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    if any(not w.literal or "=" in w.text for w in args):
        st.add(DANGEROUS, part, "alias redefines a command (zsh and interactive shells expand aliases)")
    else:
        st.add(SAFE, part, "alias only lists")


def _flagged(letters: str, danger: str, safe: str) -> Builtin:
    """A builtin that is SHELL_DANGEROUS when given one of the option `letters` (or a word known only at run time)."""
    def handle(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
        if any(not w.literal or (w.text.startswith("-") and set(w.text[1:]) & set(letters)) for w in args):
            st.add(DANGEROUS, part, f"{name} {danger}")
        else:
            st.add(SAFE, part, f"{name} {safe}")

    return handle


def _history(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    """history: lists, or (-a, -w) writes the history to a file, (-r, -n) reads one, (-c, -d, -s, -p) edits
    or expands entries in memory."""
    letters = "".join(w.text[1:] for w in args if w.literal and w.text.startswith("-") and w.text != "-")
    files = [w for w in args if not (w.literal and w.text.startswith("-"))]
    if any(not w.literal for w in args) or set(letters) - set("cdanrwsp"):
        st.add(DANGEROUS, part, f"{name} with an option computed at run time or not known")
        return
    if set(letters) & set("aw"):
        for w in files[:1]:
            sc.target(w, part, st, f"{name} -{letters} writes the history to")
        st.add(MUTATING, part, f"{name} -{letters} writes the history file")
    elif set(letters) & set("rn"):
        for w in files[:1]:
            sc.read(w, part, st, f"{name} -{letters} reads")
        st.add(SAFE, part, f"{name} -{letters} reads history into the shell")
    else:
        st.add(SAFE, part, f"{name} lists or edits the history in memory")


def _umask(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    if all(w.literal and w.text in ("-S", "-p") for w in args):
        st.add(SAFE, part, "umask prints the file mode mask")
    else:
        st.add(MUTATING, part, "umask changes the mode of files created later")


def _unset(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    if any(not w.literal or ("[" in w.text and not _harmless_index(w.text.split("[", 1)[1].rstrip("]")))
           for w in args):
        st.add(DANGEROUS, part, "unset of an array element evaluates its subscript, which can run commands")
        return
    functions = any(w.text.startswith("-") and "f" in w.text for w in args)
    changed = [w.text for w in args if not w.text.startswith("-") and is_sensitive(w.text)]
    if changed and not functions:
        # with PATH unset, bash runs a program name it cannot find in its default path from the working directory
        st.add(DANGEROUS, part, f"unset {changed[0]} changes what later programs run, load or read")
    else:
        st.add(SAFE, part, "unset removes shell variables")


def _test(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    for i, w in enumerate(args):
        if w.literal and w.text == "-v" and i + 1 < len(args) and "[" in (args[i + 1].text or "["):
            st.add(DANGEROUS, part, f"{name} -v with an array subscript evaluates it, which can run commands")
            return
    st.add(SAFE, part, f"{name} evaluates a condition")


BUILTINS: dict[str, Builtin] = {
    ":": _plain, "true": _plain, "false": _plain, "pwd": _table, "dirs": _plain, "wait": _plain,
    "times": _plain, "help": _plain, "type": _plain, "caller": _plain, "disown": _plain, "fg": _plain,
    "bg": _plain, "suspend": _plain, "logout": _plain, "exit": _plain, "return": _plain, "shift": _plain,
    "break": _plain, "continue": _plain, "unalias": _plain, "ulimit": _plain, "unset": _unset,
    "echo": _table, "printf": _table, "cd": _cd, "pushd": _cd, "popd": _cd,
    "eval": _eval, "exec": _exec, "command": _command, "builtin": _builtin, "trap": _trap,
    "source": _dangerous("runs a script file the classifier cannot see into"),
    ".": _dangerous("runs a script file the classifier cannot see into"),
    "fc": _dangerous("runs commands from the history"), "bind": _dangerous("binds keys to commands"),
    "kill": _dangerous("signals processes"),
    "enable": _only_listing("loads or disables builtins, which changes what names mean", "aps"),
    "history": _history,
    "read": _read, "mapfile": _mapfile, "readarray": _mapfile, "getopts": _getopts, "let": _let,
    "declare": _declare, "typeset": _declare, "local": _declare, "export": _declare, "readonly": _declare,
    "set": _set, "shopt": _shopt, "alias": _alias, "umask": _umask, "test": _test,
    "hash": _flagged("p", "-p remaps a program name to another file", "looks programs up"),
    "jobs": _flagged("x", "-x runs a command", "lists jobs"),
    "compgen": _flagged("CF", "-C/-F runs a command or function", "lists completions"),
    "complete": _flagged("CF", "-C/-F registers a command or function", "lists completions"),
    "compopt": _flagged("CF", "-C/-F registers a command or function", "lists completions"),
}

KEYWORDS: dict[str, Builtin] = {"time": _time, "coproc": _time, "nohup.builtin": _time}


def test_command(sc: ShellClassifier, node: Node, src: Source, st: State, depth: int) -> None:
    """`[[ ... ]]` and `[ ... ]`: arithmetic comparisons and `-v` evaluate their operands."""
    part = " ".join(src.text_of(node).split())[:200]
    double = bool(node.children) and node.children[0].type == "[["
    stack = [c for c in node.children if c.is_named]
    while stack:
        n = stack.pop()
        sc.substitutions(n, src, st, depth)
        op = n.child_by_field_name("operator")
        op_text = src.text_of(op) if op is not None else ""
        if n.type == "binary_expression" and not double and op_text in (">", ">>", "<", ">|", "&>", "&>>"):
            # `[` is a command: bash reads `[ a > f ]` as a redirection of its output to f, not a comparison
            right = n.child_by_field_name("right")
            for w in (decode(src.text_of(right)) if right is not None else []):
                if op_text == "<":
                    sc.read(w, part, st, "[ ... ] redirects input from")
                else:
                    sc.target(w, part, st, "[ ... ] redirects output to")
        if n.type == "binary_expression" and double and op_text in ("-eq", "-ne", "-lt", "-le", "-gt", "-ge"):
            for side in ("left", "right"):
                operand = n.child_by_field_name(side)
                text = src.text_of(operand) if operand is not None else ""
                if not text.strip().lstrip("-+").isdigit():
                    st.add(DANGEROUS, part, f"[[ {op_text} ]] evaluates {text!r} as an arithmetic expression, "
                                            "whose array subscripts can run commands")
        if n.type == "unary_expression" and op_text == "-v":
            st.add(DANGEROUS, part, "-v evaluates an array subscript, which can run commands")
        if n.type in ("binary_expression", "unary_expression", "parenthesized_expression", "negated_expression"):
            stack.extend(c for c in n.children if c.is_named and c.type not in ("test_operator",))
    st.add(SAFE, part, "tests a condition")


def expansion(sc: ShellClassifier, node: Node, src: Source, st: State, depth: int) -> None:
    """`${...}`: forms that run code (`@P`, `${!x}`, arithmetic offsets and subscripts) or assign."""
    text = src.text_of(node)
    part = " ".join(text.split())[:200]
    m = _EXPANSION.match(text)
    if m is None:
        st.add(DANGEROUS, part, "a parameter expansion the classifier does not model")
        return
    bang, _, name, subscript, rest = m.groups()
    if bang and not (rest in ("@", "*") or subscript in ("[@]", "[*]")):
        st.add(DANGEROUS, part, "${!...} expands the variable a value names, whose subscript can run commands")
    if subscript and not _harmless_index(subscript[1:-1]):
        st.add(DANGEROUS, part, f"the subscript {subscript} is evaluated arithmetically and can run commands")
    if rest.startswith("@") and rest[1:2] not in ("Q", "E", "A", "a", "U", "u", "L", "K", "k"):
        st.add(DANGEROUS, part, "${...@P} expands its value as a prompt, which runs command substitutions")
    if rest.startswith(":") and rest[1:2] not in ("-", "=", "?", "+"):
        offsets = rest[1:]
        if not _harmless_index(offsets.replace(":", "")):
            st.add(DANGEROUS, part, "a substring offset is evaluated arithmetically and can run commands")
    if rest.startswith(("=", ":=")):
        sc.assigns(name, part, st, via="${...:=...}")


def _harmless_index(text: str) -> bool:
    t = text.strip()
    return t in ("@", "*") or all(c.isdigit() or c in " -+" for c in t)


__all__ = ["BUILTINS", "KEYWORDS", "declaration", "test_command", "expansion", "SAFE_SET_OPTIONS", "SAFE_SHOPT"]
