"""The command-line classifier: what a shell command line would do, sound by construction.

A part of a line is SHELL_SAFE only when every word of it is understood and
known to be harmless; everything else is at least as restrictive as the
program's worst case. The line is parsed with tree-sitter-bash (`syntax`),
every word is decoded exactly as bash would pass it (`words`), each program's
arguments are read with its own option grammar (`options`, `tables`), and
wrappers (`env`, `sudo`, `xargs`, `timeout`, `find -exec`, `bash -c`, `eval`,
...) are looked through. The most restrictive part wins.

Pure apart from the path resolver of the `PathPolicy` it is given.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tree_sitter import Node

from ..effects import EffectClass
from ..paths import HARMLESS_TARGETS, PathError, PathPolicy
from .model import DANGEROUS, MUTATING, NETWORK, RESTRICTED, SAFE, Program
from .options import Option, ParseResult, parse
from .results import CommandClassification, CommandView, Finding
from .rules import ShellRule, match_rule
from .syntax import Source, SyntaxProblem
from .syntax import parse as parse_line
from .tables import INTERPRETERS, SHELLS, family, lookup
from .variables import is_sensitive
from .words import Word, decode

MAX_COMMAND_LENGTH = 20_000
MAX_DEPTH = 8
#: Most working directories followed at once (each `cd` adds one); beyond it relative paths fail closed.
MAX_CWD_CANDIDATES = 8
#: Most paths resolved and matched per line; a line naming more fails closed (bounds the cost).
MAX_WRITE_CHECKS = 512

# Shells whose language is bash's (sh as its subset), and their harmless single-letter options with -c:
# not -k (assignments anywhere in a command go to its environment), -i (interactive), -s (reads its input),
# -l (a login shell runs the profile scripts, which cannot be seen into), -r, -D. Other POSIX shells (zsh,
# ksh) give letters other meanings: only the common harmless ones there.
BASH_LIKE_SHELLS = frozenset({"bash", "sh", "dash", "ash", "rbash", "busybox-sh"})
POSIX_SHELLS = frozenset({"zsh", "ksh", "mksh", "yash", "posh", "oksh", "loksh"})
_BASH_FLAGS = "abefhmnptuvxBCEPTc"  # not H: history expansion rewrites words holding `!`
_POSIX_SHELL_FLAGS = "cefnuvx"
_SHELL_LONG_OPTIONS = frozenset({"--norc", "--noprofile", "--posix", "--noediting", "--verbose"})
# What each interpreter prints its version or help with; anything else may run code (`python3 -v` is verbose
# mode, which then runs its input as a program).
INTERPRETER_VERSION_FLAGS: dict[str, tuple[str, ...]] = {
    "python": ("-V", "--version", "-VV", "-h", "--help"), "python2": ("-V", "--version", "-h", "--help"),
    "python3": ("-V", "--version", "-VV", "-h", "--help"), "pypy": ("-V", "--version", "-h", "--help"),
    "pypy3": ("-V", "--version", "-h", "--help"), "ipython": ("--version", "-h", "--help"),
    "node": ("-v", "--version", "-h", "--help"), "nodejs": ("-v", "--version", "-h", "--help"),
    "deno": ("-V", "--version", "-h", "--help"), "bun": ("-v", "--version", "-h", "--help"),
    "perl": ("-v", "-V"), "ruby": ("-v", "--version", "-h", "--help"), "irb": ("-v", "--version"),
    "php": ("-v", "--version", "-h", "--help"), "lua": ("-v",), "luajit": ("-v",),
    "java": ("-version", "--version", "-help", "--help"), "jshell": ("--version", "--help"),
    "julia": ("-v", "--version", "-h", "--help"), "sqlite3": ("-version", "--version", "-help", "--help"),
    "psql": ("-V", "--version", "--help"), "mysql": ("-V", "--version", "--help"),
    "bc": ("-v", "--version", "-h", "--help"), "dc": ("-V", "--version", "-h", "--help"),
}
# A program named by a path in one of these is the system's own; any other path may be anything.
SYSTEM_BIN_DIRS = frozenset({"/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
                             "/opt/homebrew/bin"})
# Options of busybox and toybox that only print (their applet list, help or an embedded script).
MULTICALL_LISTING = frozenset({"--list", "--list-full", "--help", "--long", "--version", "--show"})
VERSION_FLAGS = frozenset({"--version", "-v", "-V", "--help", "-h", "-version", "-help"})
# Builtins for which a prefix `IFS=...` only changes how they split their own input.
_FIELD_SPLITTERS = frozenset({"read", "mapfile", "readarray"})
WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<>", "&>|"})
_REDIRECT_NODES = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
# Word-like nodes: their text is decoded; substitutions inside them are walked.
_WORD_NODES = frozenset({"word", "string", "raw_string", "ansi_c_string", "translated_string", "concatenation",
                         "simple_expansion", "expansion", "command_substitution", "process_substitution",
                         "arithmetic_expansion", "number", "brace_expression", "extglob_pattern"})
# Statement nodes whose children are walked as they are.
_CONTAINERS = frozenset({"program", "subshell", "compound_statement", "do_group", "else_clause", "elif_clause",
                         "if_statement", "while_statement", "case_item", "negated_command", "pipeline",
                         "variable_assignments"})
# Role of an option -> the class it gives the part, when the role needs no more than that.
_ROLE_CLASS: dict[str, tuple[EffectClass, str]] = {
    "danger": (DANGEROUS, "does more than the program usually does"),
    "exec": (DANGEROUS, "runs a command given on the command line"),
    "config": (DANGEROUS, "reads options from a file, which can run commands"),
    "script-file": (DANGEROUS, "runs a program file the classifier cannot see into"),
    "net": (NETWORK, "talks to the network"),
    "mut": (MUTATING, "changes files or the repository"),
    # less -t opens the file a `tags` file names; man -M formats pages from a directory the agent may have
    # written, and a page's `.so` request includes any file
    "applies": (DANGEROUS, "writes the paths named inside a file (a batch), not on the command line"),
    "reads-elsewhere": (DANGEROUS, "reads files named in another file, not on the command line (they may be "
                                   "secrets)"),
}
# Roles that are harmless whatever word they take (for a word that may be any option).
_HARMLESS_ROLES = frozenset({"", "pattern", "data"})
# Roles that read a file (or more): a secret if the word is chosen at run time.
_READ_ROLES = frozenset({"read", "pattern-read", "readops", "recursive", "grep-directories", "curl-url",
                         "curl-format", "curl-data", "curl-form", "curl-cookie", "curl-header", "script",
                         "awk-assign", "tar-file", "rsync-filter"})
# Roles that handlers in `special.py` interpret; the generic code leaves them alone.
_HANDLED_ROLES = frozenset({"", "pattern", "script", "inplace", "readops", "target", "tar-create", "tar-extract",
                            "tar-file", "tar-remove", "curl-data", "curl-form", "curl-header", "curl-remote",
                            "curl-cookie",
                            "ssh-option", "git-clean-ignored", "install-dirs", "awk-assign", "awk-include",
                            "zip-move", "data", "recursive", "link", "backup-suffix", "grep-directories",
                            "curl-url", "curl-format", "sh-argv", "name-suffix", "name-format", "name-prefix",
                            "suffix-length", "rsync-filter", "rsync-dest-dir", "backup-name"})


@dataclass(slots=True)
class State:
    """What the walk has found so far, and where the shell may be."""

    roots: tuple[str, ...] | None
    # Every directory the shell may be in at this point of the line, or None when unknown.
    cwd: tuple[str, ...] | None
    findings: list[Finding] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    views: list[CommandView] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    exact_cd: bool = False  # set while walking a `cd` followed by `&&`
    # words tree-sitter put under a redirection (`sort > f -o x`): arguments of the next simple command walked
    pending_words: tuple[Node, ...] = ()
    checked: int = 0  # paths checked so far (bounded by MAX_WRITE_CHECKS)

    def add(self, effect: EffectClass, part: str, why: str) -> None:
        self.findings.append(Finding(effect, part, why))


class ShellClassifier:
    """Classifies command lines.

    `rules` are the manifest's `shell.rules` (argv patterns with the class to give
    a matching simple command); `allow` programs are shorthand for `[program, "**"]`
    SHELL_SAFE rules; `deny` programs are refused wherever they appear (wins over
    both). Names match the program's base name (`/bin/rm` is `rm`).
    """

    def __init__(self, *, paths: PathPolicy, allow: Iterable[str] = (), deny: Iterable[str] = (),
                 rules: Iterable[ShellRule] = (), max_depth: int = MAX_DEPTH) -> None:
        self.allow = frozenset(allow)
        self.deny = frozenset(deny)
        self._deny_folded = frozenset(d.casefold() for d in self.deny)
        self.rules: tuple[ShellRule, ...] = tuple(rules) + tuple(
            ShellRule((name, "**"), SAFE, f"{name} is on the manifest's allow list") for name in sorted(self.allow))
        self.paths = paths
        self.max_depth = max_depth

    # -- entry point ----------------------------------------------------------------

    def classify(self, command: object, *, roots: Sequence[str] | None = None) -> CommandClassification:
        """Classify one command line (a string, or an argv list of strings).

        `roots` are normalised writable roots; when given, writes outside them are
        listed in `outside_roots`. Never raises: what cannot be classified is
        SHELL_DANGEROUS.
        """
        text = _command_text(command)
        st = State(tuple(roots) if roots is not None else None, (self.paths.base_dir,))
        if text is None:
            st.add(DANGEROUS, repr(command)[:80], f"a command line must be text, not {type(command).__name__}")
            text = repr(command)[:200]
        elif not text.strip():
            st.add(DANGEROUS, "(empty)", "an empty command line cannot be classified")
        elif len(text) > MAX_COMMAND_LENGTH:
            st.add(DANGEROUS, text[:40] + "...", f"longer than {MAX_COMMAND_LENGTH} characters: not parsed")
        elif "\x00" in text:
            st.add(DANGEROUS, text[:40], "contains a NUL byte")
        else:
            try:
                self.parse_line(text, st, 0)
            except RecursionError:
                st.add(DANGEROUS, _short(text), "nested too deeply to classify")
            except Exception as exc:  # noqa: BLE001 - a tree shape the walker did not expect: fail closed
                st.add(DANGEROUS, _short(text), f"could not be classified ({type(exc).__name__}: {exc})")
        return _result(text, st)

    # -- structure --------------------------------------------------------------------

    def parse_line(self, text: str, st: State, depth: int) -> None:
        """Parse one command line (the top level, or a string a command runs) and walk it."""
        if depth > self.max_depth:
            st.add(DANGEROUS, _short(text), f"nested deeper than {self.max_depth} levels of shells")
            return
        try:
            src = parse_line(text)
        except SyntaxProblem as exc:
            st.add(DANGEROUS, _short(text), f"cannot be parsed safely: {exc}")
            return
        if not any(c.is_named and c.type != "comment" for c in src.root.children):
            st.add(SAFE if text.strip().startswith("#") or not text.strip() else DANGEROUS, _short(text),
                   "no command (only a comment)" if text.strip().startswith("#") else "no command found")
            return
        self.walk(src.root, src, st, depth)

    def walk(self, node: Node, src: Source, st: State, depth: int) -> None:
        t = node.type
        if t == "compound_statement" and node.children and node.children[0].type == "((":
            self.arithmetic(node, src, st, depth)  # an arithmetic command: (( ... ))
            return
        if t in _CONTAINERS:
            for child in node.children:
                if child.is_named:
                    self.walk(child, src, st, depth)
        elif t == "command":
            self._command(node, src, st, depth)
        elif t == "list":
            self._list(node, src, st, depth)
        elif t == "redirected_statement":
            body = node.child_by_field_name("body")
            redirects = [c for c in node.children if c.type in _REDIRECT_NODES]
            # tree-sitter files the words after a redirection's target (`sort > out -o x`) under the
            # redirection; bash passes them to the command
            extra = [w for r in redirects for w in _redirect_words(r)]
            if body is not None and body.type == "list":
                # tree-sitter hangs `a && b > f`'s redirection on the list; bash binds it to b
                self._list(body, src, st, depth, trailing=redirects, extra=extra)
                return
            if extra and (body is None or body.type != "command"):
                st.add(DANGEROUS, _span(src, node), "words after the redirection of a compound command "
                                                    "(bash refuses them), which the classifier does not model")
            elif extra:
                st.pending_words = tuple(extra)
            for child in node.children:
                if child.type in _REDIRECT_NODES:
                    self._redirect(child, src, st, depth)
                elif child.is_named:
                    self.walk(child, src, st, depth)
        elif t in _REDIRECT_NODES:
            self._redirect(node, src, st, depth)
        elif t == "comment":
            return
        elif t == "variable_assignment":
            self._assignment(node, src, st, depth)
        elif t == "declaration_command":
            from .builtins import declaration
            declaration(self, node, src, st, depth)
        elif t == "unset_command":
            from .builtins import BUILTINS
            BUILTINS["unset"](self, "unset", self.words_of(node.children[1:], src, st, depth), _span(src, node), st,
                              depth)
        elif t == "function_definition":
            name = node.child_by_field_name("name")
            if name is not None:
                st.functions.add(src.text_of(name))
            body = node.child_by_field_name("body")
            if body is not None:
                self.walk(body, src, st, depth)
            for child in node.children:
                if child.type in _REDIRECT_NODES:
                    self._redirect(child, src, st, depth)
        elif t == "for_statement":
            self._for(node, src, st, depth)
        elif t == "c_style_for_statement":
            for child in node.children:
                if child.type == "do_group" or child.type == "compound_statement":
                    self.walk(child, src, st, depth)
                elif child.is_named:
                    self.arithmetic(child, src, st, depth)
        elif t == "case_statement":
            for child in node.children:
                if child.type == "case_item":
                    for item_child in child.children:
                        if item_child.is_named and item_child.type not in _WORD_NODES:
                            self.walk(item_child, src, st, depth)
                        elif item_child.is_named:
                            self.substitutions(item_child, src, st, depth)
                elif child.is_named:
                    self.substitutions(child, src, st, depth)
        elif t == "test_command":
            from .builtins import test_command
            test_command(self, node, src, st, depth)
        elif t in _WORD_NODES:
            self.substitutions(node, src, st, depth)
        else:
            st.add(DANGEROUS, _span(src, node), f"shell syntax `{t}` that the classifier does not model")

    def _list(self, node: Node, src: Source, st: State, depth: int, trailing: Sequence[Node] = (),
              extra: Sequence[Node] = ()) -> None:
        """Walk `a && b; c`, following directories exactly where a `cd` is known to have succeeded.

        In `cd X && w`, w runs only if the cd succeeded, so it runs in X. Once the
        `&&` chain ends, the shell may be in any directory the chain passed through.
        tree-sitter nests lists to the left: `a && b || c` is `(a && b) || c`.
        """
        parts = list(_flatten_list(node))
        seen: tuple[str, ...] | None = None
        for idx, child in enumerate(parts):
            if not child.is_named:
                if child.type != "&&" and seen is not None:
                    st.cwd = None if st.cwd is None else _merge_cwds(seen, st.cwd)
                    seen = None
                continue
            nxt = parts[idx + 1] if idx + 1 < len(parts) else None
            guarded = nxt is not None and nxt.type == "&&" and _is_cd(child, src)
            if guarded and st.cwd is not None:
                seen = st.cwd if seen is None else _merge_cwds(seen, st.cwd)
                if seen is None:
                    st.cwd = None
                else:
                    st.exact_cd = True
            last = not any(c.is_named for c in parts[idx + 1:])
            if last and extra:
                if child.type == "command":
                    st.pending_words = tuple(extra)
                else:
                    st.add(DANGEROUS, _span(src, child), "words after a redirection that the classifier cannot "
                                                         "give to a command")
            try:
                self.walk(child, src, st, depth)
                if last:
                    for redirect in trailing:
                        self._redirect(redirect, src, st, depth)
            finally:
                st.exact_cd = False
        if seen is not None:
            st.cwd = None if st.cwd is None else _merge_cwds(seen, st.cwd)

    def _for(self, node: Node, src: Source, st: State, depth: int) -> None:
        var = node.child_by_field_name("variable")
        if var is not None:
            self.assigns(src.text_of(var), _span(src, node), st, via="a for loop")
        for child in node.children:
            if child.type in ("do_group", "compound_statement"):
                self.walk(child, src, st, depth)
            elif child.is_named and child is not var:
                self.substitutions(child, src, st, depth)

    # -- words and expansions ---------------------------------------------------------

    def substitutions(self, node: Node, src: Source, st: State, depth: int) -> None:
        """Walk what runs inside a word: command and process substitutions, expansions that execute."""
        stack = [node]
        while stack:
            n = stack.pop()
            t = n.type
            if t == "command_substitution" and src.text_of(n).startswith("`"):
                self._backquoted(src.text_of(n), st, depth)
                continue
            if t in ("command_substitution", "process_substitution"):
                for child in n.children:
                    if child.is_named:
                        self.walk(child, src, st, depth)
                continue
            if t == "arithmetic_expansion":
                self.arithmetic(n, src, st, depth)
                continue
            if t == "expansion":
                from .builtins import expansion
                expansion(self, n, src, st, depth)
            if t in ("word", "string_content", "heredoc_content", "extglob_pattern", "regex") and \
                    _hidden_substitution(src.text_of(n)):
                st.add(DANGEROUS, _span(src, n), "a command substitution the parser did not see into (bash runs it)")
            if t == "heredoc_body" or t in _WORD_NODES or t in ("string_content", "variable_name", "subscript",
                                                                 "special_variable_name", "heredoc_content",
                                                                 "array", "regex", "variable_assignment"):
                stack.extend(reversed(n.children))
            elif n.is_named and t not in ("file_descriptor", "heredoc_start", "heredoc_end", "test_operator",
                                          "comment"):
                if t in ("command", "list", "pipeline", "redirected_statement", "subshell", "compound_statement"):
                    self.walk(n, src, st, depth)
                elif t in ("binary_expression", "unary_expression", "parenthesized_expression",
                           "ternary_expression", "postfix_expression"):
                    stack.extend(reversed(n.children))
                else:
                    st.add(DANGEROUS, _span(src, n), f"shell syntax `{t}` inside a word that the classifier "
                                                     "does not model")

    def _backquoted(self, text: str, st: State, depth: int) -> None:
        """A backquoted substitution: bash removes the backslash before `$`, a backquote and a backslash,
        then parses what is left, so an escaped backquote inside is a substitution of its own (echo
        backslash-backquote id backslash-backquote runs id). Inside double quotes a backslash before `"`
        may go too: both readings are classified."""
        if len(text) < 2 or not text.endswith("`"):
            st.add(DANGEROUS, _short(text), "an unterminated backquote")
            return
        body = text[1:-1]
        readings = {_unescape_backquoted(body, '$`\\'), _unescape_backquoted(body, '$`\\"')}
        for inner in sorted(readings):
            if inner.strip():
                self.parse_line(inner, st, depth + 1)

    def arithmetic(self, node: Node, src: Source, st: State, depth: int) -> None:
        """Arithmetic evaluates variables' values as expressions, whose array subscripts can run commands."""
        for child in node.children:
            if child.is_named:
                self.substitutions(child, src, st, depth)
        text = src.text_of(node)
        body = text[3:-2] if text.startswith("$((") else text[2:-2] if text.startswith("((") else text
        if any(c.isalpha() or c in "_$`[" for c in body):
            st.add(DANGEROUS, _span(src, node), "arithmetic on variables: a variable's value is evaluated as an "
                                               "expression, whose array subscripts can run commands")

    def words_of(self, nodes: Sequence[Node], src: Source, st: State, depth: int) -> list[Word]:
        out: list[Word] = []
        for n in nodes:
            if not n.is_named or n.type == "comment":
                continue
            self.substitutions(n, src, st, depth)
            out.extend(decode(src.text_of(n)))
        return out

    def assigns(self, name: str, part: str, st: State, via: str = "an assignment") -> None:
        """Record that the line assigns variable `name`; sensitive names are SHELL_DANGEROUS."""
        if not name or not all(c.isalnum() or c in "_[]" for c in name):
            st.add(DANGEROUS, part, f"{via} to a variable whose name is computed at run time ({name!r})")
        elif is_sensitive(name):
            st.add(DANGEROUS, part, f"{via} sets {name}, which changes what later programs run, load or read")
        elif "[" in name and not name.split("[", 1)[1].rstrip("]").isdigit():
            st.add(DANGEROUS, part, f"{via} to {name}: an array subscript is evaluated arithmetically and can "
                                    "run commands")

    def _assignment(self, node: Node, src: Source, st: State, depth: int, scoped_to: str = "") -> None:
        """`NAME=value`, alone or before a command (`scoped_to`: that command's name)."""
        name_node = node.child_by_field_name("name")
        name = src.text_of(name_node) if name_node is not None else ""
        st.add(SAFE, _span(src, node), f"sets the shell variable {name}")
        if not (name == "IFS" and scoped_to in _FIELD_SPLITTERS):
            # `IFS=, read -r a b` only changes how that read splits its line
            self.assigns(name, _span(src, node), st)
        value = node.child_by_field_name("value")
        if value is not None and value.type == "array":
            # `a=([EXPR]=v)`: an indexed array's subscripts are evaluated arithmetically, and a variable
            # named there has its value evaluated too (an array subscript in it runs commands)
            for element in value.children:
                text = src.text_of(element)
                if text.startswith("[") and "]=" in text and not _harmless_subscript(text[1:text.index("]=")]):
                    st.add(DANGEROUS, _span(src, node), f"the subscript in {text[:40]} is evaluated "
                                                        "arithmetically and can run commands")
        for child in node.children:
            if child is not name_node and child.is_named:
                self.substitutions(child, src, st, depth)

    # -- redirections -------------------------------------------------------------------

    def _redirect(self, node: Node, src: Source, st: State, depth: int) -> None:
        part = _span(src, node)
        if node.type == "herestring_redirect":
            for child in node.children:
                if child.is_named:
                    self.substitutions(child, src, st, depth)  # the string is data; what runs inside it is not
            return
        if node.type == "heredoc_redirect":
            start = next((c for c in node.children if c.type == "heredoc_start"), None)
            literal_body = start is not None and any(q in src.text_of(start) for q in "'\"\\")
            for child in node.children:
                if child.type == "heredoc_body" and literal_body:
                    continue  # a quoted delimiter: the body is passed as it is, nothing in it runs
                if child.type == "heredoc_body":
                    self.substitutions(child, src, st, depth)
                    if _hidden_substitution(_outside(src, child, _EXPANDING), dollar_brace=True):
                        # tree-sitter leaves a `<<-` body unparsed: what it did not see may still run
                        st.add(DANGEROUS, part, "a here-document holds a substitution the parser did not see into "
                                                "(bash runs it)")
                elif child.type in _REDIRECT_NODES:
                    self._redirect(child, src, st, depth)
                elif child.type in ("command", "pipeline", "list", "redirected_statement"):
                    self.walk(child, src, st, depth)
            return
        op = ""
        dest: Node | None = None
        for child in node.children:
            if child.type == "file_descriptor":
                continue
            if not child.is_named:
                op = src.text_of(child) if child.type == ">|" else child.type  # `<>` is parsed as `>|`
            elif dest is None:
                dest = child
        if dest is None:
            return
        extra = _redirect_words(node)
        if op in WRITE_REDIRECTS and src.text_of(dest) == "!" and extra:
            # zsh reads `>!` (and `>>!`, `&>!`) as a redirection that overrides noclobber: the next word is written
            self.substitutions(extra[0], src, st, depth)
            for w in decode(src.text_of(extra[0])):
                self.target(w, part, st, "redirects output (zsh's >!) to")
        self.substitutions(dest, src, st, depth)
        words = decode(src.text_of(dest))
        if len(words) != 1:
            st.add(DANGEROUS, part, "a redirection to a brace expansion (bash refuses it: an ambiguous redirect)")
            return
        target = words[0]
        if op in (">&", "<&") and (target.text.isdigit() or target.text == "-") and target.literal:
            return  # fd duplication (2>&1) or closing (>&-)
        if target.literal and _is_bash_network_path(target.text):
            st.add(NETWORK, part, f"redirects to {target.text}, a network connection opened by the shell")
            return
        if op in WRITE_REDIRECTS:
            self.target(target, part, st, "redirects output to")
        if op in ("<", "<>", "<&"):
            self.read(target, part, st, "redirects input from")

    # -- paths ------------------------------------------------------------------------------

    def target(self, word: Word, part: str, st: State, verb: str = "writes", *, delete: bool = False,
               replaces: bool = False) -> None:
        """Record a path the line writes (or deletes) and classify it.

        `delete`: the path (and all it holds) goes away; `replaces`: the path may be
        replaced by a directory tree (a copy, move or link destination), so whatever
        a protected pattern names inside it may be written.
        """
        raw = word.text
        if word.dynamic is not None:
            st.add(DANGEROUS, part, f"{verb} a path computed at run time ({word.source}: {word.dynamic})")
            return
        if raw in HARMLESS_TARGETS or raw == "" or _is_fd_path(raw):
            return  # not a file: the terminal, nothing, or a pipe into a process substitution
        if word.glob:
            self._glob_target(word, part, st, verb)
            return
        absolute = raw.startswith(("/", "~"))
        if st.cwd is None and not absolute:
            st.add(DANGEROUS, part, f"{verb} {raw} relative to a directory the classifier cannot follow")
            return
        if _is_bash_network_path(raw):
            st.add(NETWORK, part, f"{verb} {raw}, a network connection opened by the shell")
            return
        bases: tuple[str | None, ...] = (None,) if st.cwd is None else (st.cwd[:1] if absolute else st.cwd)
        for base in bases:
            self._target_from(raw, base, part, st, verb, delete, replaces)

    def prefix_target(self, prefix: Word, part: str, st: State, verb: str, sample: str = "00") -> None:
        """Files named PREFIX followed by names the line does not show (`patch -B PREFIX` backups)."""
        self.generated_target(prefix.text.replace("[", "?") + "*", prefix, sample, part, st, verb)

    def generated_target(self, pattern: str, stem: Word, sample: str, part: str, st: State, verb: str) -> None:
        """Files whose names the program makes, matching the glob `pattern` (split's PREFIXaa, PREFIXab, ...).

        The pattern is matched against the restricted and protected patterns (any name it allows may be
        written); otherwise `stem` plus `sample` stands for the files written.
        """
        if not stem.literal or not self._restricted_glob(pattern, part, st, verb):
            self.target(Word(stem.text + sample, stem.source, stem.dynamic, stem.glob), part, st, verb)

    def _glob_target(self, word: Word, part: str, st: State, verb: str) -> None:
        if not self._restricted_glob(word.text, part, st, verb):
            st.add(DANGEROUS, part, f"{verb} a glob pattern ({word.text}): the files it matches decide what is "
                                    "written")

    def _restricted_glob(self, pattern: str, part: str, st: State, verb: str) -> bool:
        """Report (and return True) when a written glob may match a restricted or protected pattern, or is
        not a path pattern at all."""
        for base in ((None,) if st.cwd is None else st.cwd):
            try:
                normalised = self.paths.normalise_glob(pattern, base)
            except PathError as exc:
                st.add(DANGEROUS, part, f"{verb} a glob that is not a path pattern: {exc}")
                return True
            hit = self.paths.restricted_match(normalised, glob=True)
            if hit is not None:
                st.add(RESTRICTED, part, f"{verb} the glob {pattern}, which may match restricted or protected "
                                         f"pattern {hit!r}")
                return True
        return False

    def _target_from(self, raw: str, base: str | None, part: str, st: State, verb: str, delete: bool,
                     replaces: bool = False) -> None:
        if not self._budget(part, st):
            return
        try:
            check = self.paths.check(raw, base=base, roots=st.roots if st.roots is not None else ())
        except PathError as exc:
            st.add(DANGEROUS, part, f"{verb} something that is not a path: {exc}")
            return
        if check.normalised in HARMLESS_TARGETS:
            return
        if _is_bash_network_path(check.normalised):
            st.add(NETWORK, part, f"{verb} {check.normalised}, a network connection opened by the shell")
            return
        st.targets.append(check.normalised)
        holder = self.paths.holds_protected(check.normalised) if delete else \
            self.paths.parent_of_pattern(check.normalised) if replaces else None
        if check.restricted_by is not None:
            kind = "protected" if check.protected else "restricted"
            st.add(RESTRICTED, part, f"{verb} {check.normalised}, which matches {kind} pattern "
                                     f"{check.restricted_by!r}")
        elif holder is not None:
            held = f"which holds {holder}" if delete else f"a directory there holds (or would hold) what " \
                                                           f"{holder!r} names"
            st.add(RESTRICTED, part, f"{verb} {check.normalised}, {held}")
        else:
            st.add(MUTATING, part, f"{verb} {check.normalised}")
        if st.roots is not None and not check.inside_roots:
            st.outside.append(check.normalised)

    def read(self, word: Word, part: str, st: State, verb: str = "reads", *, recursive: bool = False) -> None:
        """Check a path the line reads against the secret patterns."""
        raw = word.text
        if word.dynamic is not None:
            st.add(DANGEROUS, part, f"{verb} a path computed at run time ({word.source}: {word.dynamic}), which "
                                    "may be a secret")
            return
        if raw in ("-", "") or raw in HARMLESS_TARGETS or _is_fd_path(raw):
            return  # standard input, nothing, or a pipe from a process substitution
        if _is_bash_network_path(raw):
            st.add(NETWORK, part, f"{verb} {raw}, a network connection opened by the shell")
            return
        absolute = raw.startswith(("/", "~"))
        if st.cwd is None and not absolute:
            st.add(DANGEROUS, part, f"{verb} {raw} relative to a directory the classifier cannot follow (it may "
                                    "be a secret)")
            return
        bases: tuple[str | None, ...] = (None,) if st.cwd is None else (st.cwd[:1] if absolute else st.cwd)
        for base in bases:
            if not self._budget(part, st):
                return
            try:
                if word.glob:
                    normalised = self.paths.normalise_glob(raw, base)
                    secret = self.paths.secret_match(normalised, glob=True)
                else:
                    normalised = self.paths.normalise(raw, base)
                    secret = self.paths.secret_match(normalised)
            except PathError as exc:
                st.add(DANGEROUS, part, f"{verb} something that is not a path: {exc}")
                return
            if secret is not None:
                st.secrets.append(normalised)
                what = "may match" if word.glob else "matches"
                st.add(DANGEROUS, part, f"{verb} {normalised}, which {what} secret pattern {secret!r}")
                return
            if recursive and not word.glob and self._holds_secrets(normalised):
                st.add(DANGEROUS, part, f"{verb} {normalised} recursively, and it holds the user's secrets")
                return

    def _holds_secrets(self, normalised: str) -> bool:
        """Whether a directory read recursively holds the home directory's secrets (it is home or above)."""
        home = self.paths.normalise("~")
        return (home.rstrip("/") + "/").startswith(normalised.rstrip("/") + "/")

    def _budget(self, part: str, st: State) -> bool:
        st.checked += 1
        if st.checked > MAX_WRITE_CHECKS:
            if st.checked == MAX_WRITE_CHECKS + 1:
                st.add(DANGEROUS, part, f"names more than {MAX_WRITE_CHECKS} paths; the rest are not checked")
            return False
        return True

    # -- one simple command -----------------------------------------------------------------

    def _command(self, node: Node, src: Source, st: State, depth: int) -> None:
        part = _span(src, node)
        word_nodes: list[Node] = list(st.pending_words)  # words tree-sitter filed under a redirection
        st.pending_words = ()
        if word_nodes:
            part = _short(src.data[node.start_byte:max(node.end_byte, word_nodes[-1].end_byte)].decode(
                "utf-8", errors="surrogateescape"))
        name_node = node.child_by_field_name("name")
        command_name = src.text_of(name_node) if name_node is not None else ""
        for child in node.children:
            t = child.type
            if t == "variable_assignment":
                self._assignment(child, src, st, depth, scoped_to=command_name)
            elif t in _REDIRECT_NODES:
                self._redirect(child, src, st, depth)
                word_nodes.extend(_redirect_words(child))
            elif t == "command_name":
                word_nodes.extend(c for c in child.children if c.is_named)
            elif child.is_named and t in _WORD_NODES:
                word_nodes.append(child)
            elif child.is_named and t == "comment":
                continue
            elif t == "$" and not child.is_named:
                word_nodes.append(child)  # tree-sitter splits `$"..."` into a `$` token and a string
            elif child.is_named or t not in ("\\\n",):
                if child.is_named:
                    st.add(DANGEROUS, part, f"shell syntax `{t}` in a command that the classifier does not model")
                elif t.strip():
                    # keywords and operators tree-sitter keeps inside a command (`=~`, `==` of `[[`) are syntax
                    st.add(DANGEROUS, part, f"the token {t!r} inside a command, which the classifier does not "
                                            "model")
        words: list[Word] = []
        for group in _adjacent_groups(word_nodes):
            # nodes that touch are one word to bash, however the parser split them: decode the span
            for n in group:
                if n.is_named:
                    self.substitutions(n, src, st, depth)
            words.extend(decode(src.data[group[0].start_byte:group[-1].end_byte].decode(
                "utf-8", errors="surrogateescape")))
        if not words:
            st.add(SAFE, part, "only assignments or redirections")
            return
        self.argv(words, part, st, depth, direct=True)

    def argv(self, words: list[Word], part: str, st: State, depth: int, direct: bool = False) -> None:
        """Classify one simple command given as decoded words (also a wrapper's inner command).

        `direct`: the words are a command of the line itself, where an unquoted `time` or `coproc`
        is bash's keyword; through a wrapper or quoted, `time` is the program /usr/bin/time.
        """
        st.views.append(CommandView(part, tuple(w.text if w.dynamic is None else "?" for w in words)))
        prog = words[0]
        if prog.dynamic is not None:
            st.add(DANGEROUS, part, f"the program name is computed at run time ({prog.source}: {prog.dynamic})")
            return
        if prog.glob:
            st.add(DANGEROUS, part, f"the program name is a glob pattern ({prog.text})")
            return
        name = posixpath.basename(prog.text) if "/" in prog.text else prog.text
        args = words[1:]
        if name.casefold() in self._deny_folded or prog.text.casefold() in self._deny_folded:
            st.denied.append(name)
            st.add(DANGEROUS, part, f"{name} is on the manifest's deny list")
            return
        if "/" in prog.text or prog.text.startswith("~"):
            directory = posixpath.dirname(posixpath.normpath(prog.text)) if prog.text.startswith("/") else None
            if directory not in SYSTEM_BIN_DIRS:
                st.add(DANGEROUS, part, f"runs {prog.text}, a file outside the system's program directories "
                                        "(it may be anything)")
                return
        if not name or name in ("", ".", ".."):
            st.add(DANGEROUS, part, f"{prog.text!r} is not a program name")
            return
        rule = match_rule(self.rules, name, prog.text, args)
        if rule is not None:
            st.add(rule.effect, part, rule.why)
            return
        from .builtins import BUILTINS, KEYWORDS
        if name in st.functions:
            st.add(SAFE, part, f"calls {name}, a function defined in this command line (its body is classified)")
            if name not in BUILTINS and lookup(name) is None and name not in KEYWORDS:
                return
            # The definition may sit in a branch that does not run or in a subshell; then the
            # real program runs, so a function shadowing a known program is classified as both.
        keyword = direct and prog.source == name and name in KEYWORDS
        if "/" not in prog.text and (keyword or name in BUILTINS):
            handler = KEYWORDS[name] if keyword else BUILTINS[name]
            handler(self, name, args, part, st, depth)
            return
        fam = family(name)
        if name in SHELLS or fam in SHELLS:
            self._shell(name, args, part, st, depth)
            return
        if name.lower() in INTERPRETERS or fam in INTERPRETERS:
            self._interpreter(name, args, part, st)
            return
        if name in ("busybox", "toybox"):
            if not args or (args[0].literal and args[0].text in MULTICALL_LISTING):
                st.add(SAFE, part, f"{name} lists its applets")
                return
            if args[0].may_be_option():
                st.add(DANGEROUS, part, f"{name} {args[0].source}: not an option the classifier knows to be harmless "
                                        "(--install writes links to itself)")
                return
            st.add(SAFE, part, f"{name} runs the applet that follows")
            self.argv(args, part, st, depth)
            return
        if name == "env":
            from .special import env
            env(self, name, args, part, st, depth)
            return
        if name == "find":
            from .special import find
            find(self, name, args, part, st, depth)
            return
        program = lookup(name)
        if program is None:
            st.add(DANGEROUS, part, f"{name} is not a program the classifier knows")
            return
        self.program(program, name, args, part, st, depth)

    def program(self, p: Program, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
        """Classify a program (or sub-command) by its table."""
        if p.grammar is None:
            r = _opaque(args)
        else:
            stop = 0 if p.subcommands else p.command_at
            r = parse(p.grammar, args, stop_at=stop)
        saved_cwd = st.cwd
        try:
            self._options(p, name, r, part, st, depth)
            if p.subcommands:
                self._subcommand(p, name, r, part, st, depth)
                return
            if p.handler is not None:
                from .special import HANDLERS
                HANDLERS[p.handler](self, p, name, r, part, st, depth)
            else:
                st.add(p.effect, part, f"{name} {p.why}")
            self.operands(p, name, r, part, st, depth)
        finally:
            if any(o.role == "chdir" for parsed in r.options for o in parsed.options):
                st.cwd = saved_cwd  # the option changed the directory of this program only

    def _subcommand(self, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
        if not r.rest:
            sub = p.no_subcommand
            if r.options and all(not o.role for parsed in r.options for o in parsed.options) and any(
                    parsed.spelled in VERSION_FLAGS or parsed.spelled.startswith("--version") for parsed in r.options):
                st.add(SAFE, part, f"{name} only prints its version or help")
                return
            if sub is None:
                st.add(DANGEROUS, part, f"{name} without a sub-command")
            else:
                st.add(sub.effect, part, f"{name} {sub.why}")
            return
        word = r.rest[0]
        if not word.literal:
            st.add(DANGEROUS, part, f"the {name} sub-command is computed at run time ({word.source})")
            return
        sub_program = p.subcommands.get(word.text)
        if sub_program is None:
            st.add(DANGEROUS, part, f"{name} {word.text} is not a {name} sub-command the classifier knows (it may "
                                    "be an alias or a plugin)")
            return
        self.program(sub_program, f"{name} {word.text}", r.rest[1:], part, st, depth)

    def _options(self, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
        for unknown in r.unknown:
            st.add(p.worst, part, f"{name}: {unknown} is not an option the classifier knows to be harmless")
        if r.uncertain and p.grammar is not None:
            worst, why = self._worst_option(p, r)
            for w in r.uncertain[:1]:
                st.add(worst, part, f"{name}: the word {w.source} may be any option ({why})")
        # a change of directory (`patch -d`, `git -C`) applies before the program opens anything
        ordered = sorted(r.options, key=lambda parsed: not any(o.role == "chdir" for o in parsed.options))
        for parsed in ordered:
            for opt in parsed.options:
                self._role(opt, parsed.spelled, parsed.value, p, name, part, st, depth)

    def _worst_option(self, p: Program, r: ParseResult) -> tuple[EffectClass, str]:
        """The class of the program's worst option, for a word that may be any option.

        Default-deny: a role that is neither harmless nor a read is counted as
        SHELL_DANGEROUS (NETWORK_ATTEMPT or SHELL_MUTATING where the role says no
        more); reads count when the word may come from run time (a glob only
        matches names in the directory, which the reads of its operands cover).
        """
        assert p.grammar is not None
        glob_only = all(w.dynamic is None for w in r.uncertain)
        worst, why = p.effect, "each option is harmless"
        for opt in p.grammar.options:
            role = opt.role
            if role in _HARMLESS_ROLES:
                continue
            if role in _ROLE_CLASS:
                effect, what = _ROLE_CLASS[role]
            elif role in _READ_ROLES:
                if glob_only:
                    continue
                effect, what = DANGEROUS, "reads a file it names, which may be a secret"
            elif role in ("write", "writedir", "write-prefix", "inplace", "target", "chdir"):
                effect, what = DANGEROUS, "writes to a path it names"
            else:
                effect, what = DANGEROUS, "does more than the program usually does"
            if effect.rank > worst.rank:
                worst, why = effect, f"{opt.name} {what}"
        return worst, why

    def _role(self, opt: Option, spelled: str, value: Word | None, p: Program, name: str, part: str, st: State,
              depth: int) -> None:
        role = opt.role
        if role in _ROLE_CLASS:
            effect, what = _ROLE_CLASS[role]
            st.add(effect, part, f"{name} {spelled} {what}")
        elif role == "sh":
            if value is None:
                st.add(DANGEROUS, part, f"{name} {spelled} runs a command")
            elif value.dynamic is not None:
                st.add(DANGEROUS, part, f"{name} {spelled} runs a command computed at run time")
            else:
                st.add(SAFE, part, f"{name} {spelled} runs a command line")
                self.parse_line(value.text, st, depth + 1)
        elif role == "write":
            if value is not None:
                self.target(value, part, st, f"{name} {spelled} writes")
        elif role == "write-prefix":
            if value is not None:
                self.prefix_target(value, part, st, f"{name} {spelled} writes files starting with")
        elif role == "writedir":
            if value is not None:
                self.target(value, part, st, f"{name} {spelled} writes into")
        elif role in ("read", "pattern-read"):
            if value is not None:
                self.read(value, part, st, f"{name} {spelled} reads")
        elif role == "chdir":
            self.enter_dir(value, st)  # the program's relative paths are relative to this directory
        elif role == "git-dir":
            # git reads the configuration of the repository it is pointed at (core.fsmonitor, diff.external,
            # core.pager run commands): only a `.git` directory's configuration is protected from the agent
            if value is None or not value.literal or posixpath.basename(
                    posixpath.normpath(value.text)) != ".git":
                st.add(DANGEROUS, part, f"{name} {spelled} uses the configuration of a repository the line names, "
                                        "which can run commands")
        elif role == "assign":
            if value is not None:
                self.assigns(value.text if value.dynamic is None else "$?", part, st, via=f"{name} {spelled}")
        elif role == "exec-path":
            if value is not None:
                st.add(DANGEROUS, part, f"{name} {spelled} runs programs from another directory")
        elif role == "names-read":
            # a file that names more files to read: those are not on the line, and may be secrets
            if value is not None:
                self.read(value, part, st, f"{name} {spelled} reads the list")
            st.add(DANGEROUS, part, f"{name} {spelled} reads files named in a list, not on the command line "
                                    "(they may be secrets)")
        elif role == "names-stdin":
            st.add(DANGEROUS, part, f"{name} {spelled} reads files named on its input, not on the command line "
                                    "(they may be secrets)")
        elif role == "local-socket":
            st.add(DANGEROUS, part, f"{name} {spelled} talks to a local service through a socket (docker, "
                                    "systemd, ...), which may run commands")
        elif role == "link-dir":
            if value is not None:
                self.target(value, part, st, f"{name} {spelled} hard-links to the files in", delete=True)
        elif role not in _HANDLED_ROLES:
            st.add(DANGEROUS, part, f"{name} {spelled} has a role ({role}) the classifier does not interpret")

    def operands(self, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
        """Classify the operands of a program by the role its table gives them."""
        role = p.operands
        ops = r.operands
        recursive = r.has("recursive") or any(
            v.dynamic is not None or ("recurse".startswith(v.text) and not "read".startswith(v.text))
            for v in r.values("grep-directories"))
        if role == "data" and r.has("readops"):
            role = "read"
        if role in ("data", "none"):
            return
        if role == "command":
            rest = r.rest if r.rest else []
            if not rest and p.command_at is not None and len(ops) > p.command_at:
                rest = ops[p.command_at:]
            if not rest:
                st.add(SAFE, part, f"{name} runs no other program")
                return
            self.argv(list(rest), part, st, depth)
            return
        if role == "read":
            for w in ops:
                self.read(w, part, st, f"{name} reads", recursive=recursive)
        elif role == "write":
            for w in ops:
                self.target(w, part, st, f"{name} writes")
        elif role == "delete":
            for w in ops:
                self.target(w, part, st, f"{name} deletes", delete=True)
        elif role == "mode-write":
            for w in ops[1:]:
                self.target(w, part, st, f"{name} changes", replaces=True)
        elif role == "pattern-read":
            files = ops if (r.has("pattern") or r.has("pattern-read")) else ops[1:]
            for w in files:
                self.read(w, part, st, f"{name} reads", recursive=recursive or name in ("rg", "ag"))
        elif role == "script-read":
            return  # the handler read the program text and the files
        elif role == "copy":
            from .special import copy_operands
            copy_operands(self, p, name, r, part, st, depth)

    # -- shells and interpreters ------------------------------------------------------------

    def _shell(self, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
        """A shell: only `sh -c STRING` (its options harmless) is looked into; the string is parsed as a line.

        bash reads all its options first, then takes the first operand as the command string (with -c) or
        a script; anything it reads from its input or a file cannot be seen into. Shells of another
        language (fish, csh, PowerShell, ...) are not read at all.
        """
        family_name = family(name)
        if len(args) == 1 and args[0].literal and args[0].text in ("--version", "--help"):
            st.add(SAFE, part, f"{name} only prints its version or help")
            return
        if family_name not in BASH_LIKE_SHELLS and family_name not in POSIX_SHELLS:
            st.add(DANGEROUS, part, f"{name} is a shell whose language the classifier does not read")
            return
        letters = _BASH_FLAGS if family_name in BASH_LIKE_SHELLS else _POSIX_SHELL_FLAGS
        command = False
        i = 0
        while i < len(args):
            w = args[i]
            if not w.literal:
                st.add(DANGEROUS, part, f"{name} with an option or script computed at run time ({w.source})")
                return
            t = w.text
            if t == "--" or t == "-":
                i += 1
                break
            if not t.startswith(("-", "+")):
                break
            if t[-1:] in ("o", "O") and not t.startswith("--"):
                # `-o NAME`, `-O NAME`, and clusters ending in o (`-euo pipefail`)
                from .builtins import SAFE_SET_OPTIONS, SAFE_SHOPT
                option = args[i + 1] if i + 1 < len(args) else None
                allowed = SAFE_SET_OPTIONS if t.endswith("o") else SAFE_SHOPT
                unknown = set(t[1:-1]) - set(letters)
                if unknown or option is None or not option.literal or option.text not in allowed or (
                        t[0] == "-" and option.text == "histexpand"):
                    st.add(DANGEROUS, part, f"{name} {t} {option.source if option else ''} changes how the shell "
                                            "reads commands")
                    return
                command = command or "c" in t[1:-1]
                i += 2
                continue
            if t.startswith("--"):
                if t == "--command":
                    command = True
                elif t not in _SHELL_LONG_OPTIONS:
                    st.add(DANGEROUS, part, f"{name} {t} is not an option the classifier knows to be harmless")
                    return
                i += 1
                continue
            unknown = set(t[1:]) - set(letters)
            if unknown:
                st.add(DANGEROUS, part, f"{name} {t}: -{''.join(sorted(unknown))} changes how the shell reads "
                                        "commands or where it reads them from (-k, -i, -s, ...)")
                return
            command = command or "c" in t[1:]
            i += 1
        if not command:
            st.add(DANGEROUS, part, f"{name} runs a script or reads commands from its input, which cannot be seen "
                                    "into")
            return
        string = args[i] if i < len(args) else None
        if string is None or not string.literal:
            st.add(DANGEROUS, part, f"{name} -c runs a command string computed at run time or read from elsewhere")
            return
        st.add(SAFE, part, f"{name} -c runs a command string")
        self.parse_line(string.text, st, depth + 1)

    def _interpreter(self, name: str, args: list[Word], part: str, st: State) -> None:
        flags = INTERPRETER_VERSION_FLAGS.get(family(name.lower()), ("--version", "--help"))
        if len(args) == 1 and args[0].literal and args[0].text in flags:
            st.add(SAFE, part, f"{name} only prints its version or help")
            return
        inline = next((w.text for w in args if w.text in ("-c", "-e", "-E", "-r", "--eval", "-p", "--print",
                                                          "-command", "-Command", "-x")), None)
        if inline:
            st.add(DANGEROUS, part, f"{name} {inline} runs inline code the classifier cannot see into")
        else:
            st.add(DANGEROUS, part, f"{name} runs a program (script, module or input) the classifier cannot see "
                                    "into")

    # -- working directory ----------------------------------------------------------------------

    def enter_dir(self, directory: Word | None, st: State) -> None:
        """Follow a program's own change of directory (`git -C DIR`, `env -C DIR`, `tar -C DIR`)."""
        if directory is None or not directory.literal:
            st.cwd = None
            return
        absolute = directory.text.startswith(("/", "~"))
        try:
            if absolute:
                st.cwd = (self.paths.normalise(directory.text),)
            elif st.cwd is not None:
                st.cwd = tuple(dict.fromkeys(self.paths.normalise(directory.text, c) for c in st.cwd))
        except PathError:
            st.cwd = None

    def cd(self, name: str, args: list[Word], part: str, st: State) -> None:
        """Follow the working directory, so later relative paths resolve where the shell would use them.

        A `cd` can fail, sit in a subshell or pipeline, or in a branch that does not
        run, so the directory it names is *added* to the directories the shell may be in.
        """
        st.add(SAFE, part, f"{name} changes the working directory")
        exact, st.exact_cd = st.exact_cd, False
        operands = [w for w in args if not (w.literal and w.text.startswith("-") and w.text != "-")]
        if name == "popd" or (name == "pushd" and not operands):
            st.cwd = None
            return
        w = operands[0] if operands else Word("~", "~")
        if not w.literal or w.text == "-":
            st.cwd = None
            return
        if st.cwd is None:
            if w.text.startswith("/") or w.text.startswith("~"):
                try:
                    st.cwd = (self.paths.normalise(w.text),)
                except PathError:
                    st.cwd = None
            return
        try:
            new = tuple(self.paths.normalise(w.text, c) for c in st.cwd)
        except PathError:
            st.cwd = None
            return
        merged = tuple(dict.fromkeys(new)) if exact else _merge_cwds(st.cwd, new)
        st.cwd = merged if merged is not None and len(merged) <= MAX_CWD_CANDIDATES else None


def _opaque(args: list[Word]) -> ParseResult:
    """Arguments of a program whose options are not read: words after `--` or not starting with `-` are operands."""
    r = ParseResult(raw=list(args))
    ended = False
    for w in args:
        if not ended and w.literal and w.text == "--":
            ended = True
            continue
        if not ended and w.literal and w.text.startswith("-") and w.text != "-":
            continue
        r.operands.append(w)
    return r


def _unescape_backquoted(body: str, specials: str) -> str:
    """The text of a backquoted substitution as bash parses it: `\\X` is X for X in `specials`."""
    out: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in specials:
            out.append(body[i + 1])
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


def _harmless_subscript(text: str) -> bool:
    """A subscript that evaluates to itself: digits, signs and blanks, or `@`/`*`."""
    t = text.strip()
    return t in ("@", "*") or all(c.isdigit() or c in " -+" for c in t)


def _redirect_words(node: Node) -> list[Node]:
    """The words tree-sitter files under a redirection that bash gives to the command.

    `sort > out -o x` is parsed as a redirection with three destinations, and
    `cat <<EOF x` as a here-document with an argument; bash writes to the first
    destination only and passes the other words to the command.
    """
    if node.type == "file_redirect":
        return list(node.children_by_field_name("destination"))[1:]
    if node.type == "heredoc_redirect":
        return [c for c in node.children if c.is_named and c.type in _WORD_NODES]
    return []


def _adjacent_groups(nodes: list[Node]) -> list[list[Node]]:
    """Nodes in source order, grouped where one ends exactly where the next starts."""
    groups: list[list[Node]] = []
    for n in sorted(nodes, key=lambda x: x.start_byte):
        if groups and groups[-1][-1].end_byte == n.start_byte:
            groups[-1].append(n)
        else:
            groups.append([n])
    return groups


def _flatten_list(node: Node) -> Iterable[Node]:
    """The commands and operators of a list in order: tree-sitter nests `a && b; c` as `((a && b); c)`."""
    for child in node.children:
        if child.type == "list":
            yield from _flatten_list(child)
        elif child.is_named or child.type in ("&&", "||", ";", "&", "\n"):
            yield child


_EXPANDING = frozenset({"command_substitution", "process_substitution", "expansion", "arithmetic_expansion"})


def _outside(src: Source, node: Node, kinds: frozenset[str]) -> str:
    """The text of `node` with the spans of descendants of the given kinds blanked out."""
    data = bytearray(src.data[node.start_byte:node.end_byte])
    stack = list(node.children)
    while stack:
        n = stack.pop()
        if n.type in kinds:
            start, end = n.start_byte - node.start_byte, n.end_byte - node.start_byte
            data[start:end] = b" " * (end - start)
        else:
            stack.extend(n.children)
    return data.decode("utf-8", errors="surrogateescape")


def _hidden_substitution(text: str, *, dollar_brace: bool = False) -> bool:
    """Whether text the parser left as plain holds an unescaped `...` or $( / <( / >( that bash would run
    (with `dollar_brace`, also a `${`, whose forms can run code)."""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "`" or (c in "$<>" and text[i + 1:i + 2] == "(") or (dollar_brace and text[i:i + 2] == "${"):
            return True
        i += 1
    return False


def _merge_cwds(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...] | None:
    merged = tuple(dict.fromkeys(a + b))
    return merged if len(merged) <= MAX_CWD_CANDIDATES else None


def _is_cd(node: Node, src: Source) -> bool:
    """Whether `node` is a plain `cd DIR` command."""
    if node.type != "command":
        return False
    name = node.child_by_field_name("name")
    return name is not None and src.text_of(name) == "cd"


def _is_fd_path(path: str) -> bool:
    """`/dev/fd/N`: an open descriptor (a pipe of a process substitution), not a file by name.

    Only the exact form: `/dev/fd/../../x` is a path like any other.
    """
    return path.startswith("/dev/fd/") and path[8:].isdigit() and path[8:].isascii()


def _is_bash_network_path(path: str) -> bool:
    """bash opens a socket, not a file, for a redirection to /dev/tcp/HOST/PORT or /dev/udp/HOST/PORT."""
    p = posixpath.normpath("/" + path.lstrip("/"))
    return p.startswith(("/dev/tcp/", "/dev/udp/"))


def _command_text(command: object) -> str | None:
    if isinstance(command, str):
        return command
    if isinstance(command, (list, tuple)) and command and all(isinstance(a, str) for a in command):
        return shlex.join(command)
    return None


def _span(src: Source, node: Node) -> str:
    return _short(src.text_of(node))


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _result(text: str, st: State) -> CommandClassification:
    findings = tuple(st.findings) or (Finding(DANGEROUS, _short(text), "nothing could be classified"),)
    decided = findings[0]
    for f in findings[1:]:
        if f.effect.rank > decided.effect.rank:
            decided = f
    return CommandClassification(text, decided.effect, decided, findings, tuple(dict.fromkeys(st.targets)),
                                 tuple(dict.fromkeys(st.outside)), tuple(dict.fromkeys(st.denied)),
                                 tuple(dict.fromkeys(st.secrets)), tuple(st.views))


__all__ = ["ShellClassifier", "State", "MAX_COMMAND_LENGTH", "MAX_DEPTH", "MAX_WRITE_CHECKS"]
