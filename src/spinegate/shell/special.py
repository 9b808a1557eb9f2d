"""Semantics a grammar alone cannot express: program texts (sed, awk, jq), archive modes, downloads'
output names, copy destinations, git sub-commands and package managers.

Each handler receives the program's parsed arguments (`ParseResult`) and adds
its findings; the table's operand role is applied afterwards by the
classifier. Handlers only ever add restrictions to what the table says.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..paths import HARMLESS_TARGETS
from .model import DANGEROUS, MUTATING, SAFE, Program
from .options import ParseResult, grammar, parse
from .texts import awk_program_effect, sed_script_effect
from .words import Word

if TYPE_CHECKING:  # pragma: no cover
    from .classify import ShellClassifier, State

Handler = Callable[["ShellClassifier", Program, str, ParseResult, str, "State", int], None]


def _base(p: Program, name: str, part: str, st: State) -> None:
    st.add(p.effect, part, f"{name} {p.why}")


def _placeholder(why: str) -> Word:
    return Word("", f"<{why}>", dynamic=why)


# -- wrappers ---------------------------------------------------------------------------------


def env(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    """env [-i] [-u NAME] [-C DIR] [-S STRING] [NAME=VALUE]... [COMMAND [ARG]...]."""
    g = grammar("-i|--ignore-environment -0|--null -u|--unset= -C|--chdir=:chdir -S|--split-string=:sh "
                "-v|--debug -P= --default-signal? --ignore-signal? --block-signal? --list-signal-handling "
                "--help --version", permute=False)
    r = parse(g, args)
    for unknown in r.unknown:
        st.add(DANGEROUS, part, f"env: {unknown} is not an option the classifier knows to be harmless")
    saved = st.cwd
    try:
        _env(sc, r, part, st, depth)
    finally:
        st.cwd = saved  # env -C changes the directory of the program it runs only


def _env(sc: ShellClassifier, r: ParseResult, part: str, st: State, depth: int) -> None:
    for parsed in r.options:
        opt = parsed.options[0]
        if opt.role == "chdir":
            sc.enter_dir(parsed.value, st)
        elif opt.role == "sh":
            if parsed.value is None or not parsed.value.literal:
                st.add(DANGEROUS, part, "env -S runs a command string computed at run time")
            else:
                st.add(SAFE, part, "env -S splits a command string")
                rest = " ".join(w.source for w in r.operands)
                sc.parse_line(parsed.value.text + (" " + rest if rest else ""), st, depth + 1)
                return
        elif opt.name == "-P":
            st.add(DANGEROUS, part, "env -P searches another PATH for the program")
    ops = list(r.operands)
    while ops and (ops[0].dynamic is not None or ("=" in ops[0].text and not ops[0].text.startswith("="))):
        w = ops.pop(0)
        if w.dynamic is not None:
            st.add(DANGEROUS, part, f"env with a word computed at run time ({w.source}): it may be an assignment "
                                    "or the program")
            return
        sc.assigns(w.text.split("=", 1)[0], part, st, via="env")
    st.add(SAFE, part, "env runs the program that follows")
    if ops:
        sc.argv(ops, part, st, depth)


def _xargs(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    st.add(SAFE, part, "xargs runs the program that follows with arguments from its input")
    command = list(r.rest) or [Word("echo", "echo")]
    # -I STR / -i[STR] / --replace[=STR]: each input line replaces STR inside the words (`sh -c 'echo {}'`
    # runs whatever the input says), so a word holding it is only known at run time
    replace = [parsed.value.text if parsed.value is not None and parsed.value.literal else
               ("" if parsed.value is not None else "{}")
               for parsed in r.options if any(o.name in ("-I", "--replace", "-J") for o in parsed.options)]
    for marker in replace:
        command = [Word("", w.source, dynamic="a word xargs fills in from its input")
                   if w.dynamic is None and (not marker or marker in w.text) else w for w in command]
    # without -I, the words read from the input are appended to the command
    sc.argv(command + ([] if replace else [_placeholder("arguments xargs reads from its input")]), part, st, depth)
    r.rest = []
    r.operands = []


def _watch(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    command = list(r.rest)
    r.rest, r.operands = [], []
    if not command:
        st.add(DANGEROUS, part, "watch without a command")
        return
    st.add(SAFE, part, "watch repeats the command that follows")
    if r.has("") and any(parsed.spelled in ("-x", "--exec") for parsed in r.options):
        sc.argv(command, part, st, depth)
    elif all(w.literal for w in command):
        sc.parse_line(" ".join(w.text for w in command), st, depth + 1)
    else:
        st.add(DANGEROUS, part, "watch runs a command computed at run time")


def find(sc: ShellClassifier, name: str, args: list[Word], part: str, st: State, depth: int) -> None:
    """find [-H|-L|-P] [-D x] [-Olevel] [START...] EXPRESSION: tests are harmless, actions are not."""
    i = 0
    while i < len(args) and args[i].literal and args[i].text in ("-H", "-L", "-P", "-E", "-X", "-s", "-x", "-d"):
        i += 1
    if i < len(args) and args[i].literal and (args[i].text == "-D" or args[i].text.startswith("-O")):
        st.add(DANGEROUS, part, "find -D/-O debug and optimisation options are not modelled")
        return
    starts: list[Word] = []
    while i < len(args) and not (args[i].literal and (args[i].text.startswith("-") or args[i].text in
                                                       ("(", "!", ")", ","))):
        starts.append(args[i])
        i += 1
    for w in starts:
        if w.dynamic is not None or w.glob:
            st.add(DANGEROUS, part, f"find starts from {w.source}, which may be an expression word")
    st.add(SAFE, part, "find searches files")
    while i < len(args):
        w = args[i]
        if not w.literal:
            st.add(DANGEROUS, part, f"find: the expression word {w.source} is computed at run time")
            return
        t = w.text
        if t in FIND_ACTIONS:
            j = i + 1
            while j < len(args) and not (args[j].literal and args[j].text in (";", "+")):
                j += 1
            command = [Word("", "{}", dynamic="a file name find passes") if a.literal and "{}" in a.text else a
                       for a in args[i + 1:j]]
            if not command:
                st.add(DANGEROUS, part, f"find {t} without a command")
            else:
                st.add(SAFE, part, f"find {t} runs the command that follows for each file")
                sc.argv(command, part, st, depth)
            i = j + 1
            continue
        if t == "-delete":
            st.add(DANGEROUS, part, "find -delete deletes files")
            for s in starts or [Word(".", ".")]:
                sc.target(s, part, st, "find -delete deletes under", delete=True)
        elif t in FIND_WRITES:
            if i + 1 < len(args):
                sc.target(args[i + 1], part, st, f"find {t} writes")
            i += 2 + (1 if t == "-fprintf" else 0)
            continue
        elif t == "-files0-from":
            # the names to start from are read from a file (its content shows in find's messages)
            if i + 1 < len(args):
                sc.read(args[i + 1], part, st, "find -files0-from reads")
            i += 2
            continue
        elif t in FIND_VALUE_TESTS:
            i += 2
            continue
        elif t in FIND_TESTS or t in ("(", ")", "!", ",", "-a", "-o", "-and", "-or", "-not"):
            pass
        else:
            st.add(DANGEROUS, part, f"find: {t} is not a find expression the classifier knows to be harmless")
        i += 1


FIND_ACTIONS = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
FIND_WRITES = frozenset({"-fprint", "-fprint0", "-fls", "-fprintf"})
FIND_VALUE_TESTS = frozenset({
    "-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-type", "-xtype",
    "-size", "-user", "-group", "-uid", "-gid", "-perm", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin",
    "-newer", "-anewer", "-cnewer", "-maxdepth", "-mindepth", "-links", "-inum", "-samefile", "-lname",
    "-ilname", "-used", "-fstype", "-printf", "-regextype", "-context", "-newermt", "-newerct", "-newerat",
    "-newermm", "-newerBt", "-Bmin", "-Btime", "-Bnewer", "-files0-from", "-flags",
})
FIND_TESTS = frozenset({
    "-print", "-print0", "-ls", "-prune", "-quit", "-true", "-false", "-empty", "-executable", "-readable",
    "-writable", "-nouser", "-nogroup", "-depth", "-mount", "-xdev", "-noleaf", "-follow", "-daystart",
    "-ignore_readdir_race", "-noignore_readdir_race", "-help", "--help", "-version", "--version", "-d", "-x",
})


# -- program texts ------------------------------------------------------------------------


def _sed(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
         depth: int, lenient: bool = False) -> None:
    scripts = r.values("script")
    operands = list(r.operands)
    if r.has("script-file"):
        return
    texts = _program_texts(scripts, operands, f"the {name} script", part, st)
    if texts is None:
        return
    for text in texts:
        verdict = sed_script_effect(text)
        if verdict is not None and lenient and not verdict.startswith(("runs", "writes", "reads", "uses the s")):
            continue  # the other dialect's reading: sed refuses a script it cannot parse, and runs nothing
        if verdict is not None:
            st.add(DANGEROUS, part, f"the {name} script {verdict}")
    if r.has("inplace"):
        st.add(MUTATING, part, f"{name} -i edits files in place")
        for w in operands:
            sc.target(w, part, st, f"{name} -i edits")
            sc.read(w, part, st, f"{name} reads")
    else:
        st.add(SAFE, part, f"{name} without -i only prints")
        for w in operands:
            sc.read(w, part, st, f"{name} reads")


def _sed_dual(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
              depth: int) -> None:
    """GNU and BSD sed read `-i` differently (`-i[SUFFIX]` or `-i SUFFIX`): classify both readings."""
    _sed(sc, p, name, r, part, st, depth)
    from .tables.common import SED_BSD
    if p is SED_BSD or SED_BSD.grammar is None:
        return
    if any(w.literal and w.text.startswith("-") and not w.text.startswith("--") and
           ("i" in w.text or "I" in w.text) for w in r.raw):
        bsd = parse(SED_BSD.grammar, r.raw)
        if not bsd.unknown:  # BSD sed refuses what it does not know: nothing runs
            _sed(sc, SED_BSD, name, bsd, part, st, depth, lenient=True)


def _program_texts(given: list[Word], operands: list[Word], what: str, part: str, st: State) -> list[str] | None:
    """The program texts (given by option, else the first operand, taken from `operands`); None if unknowable."""
    if not given:
        if not operands:
            st.add(DANGEROUS, part, f"{what} is missing")
            return None
        given = [operands.pop(0)]
    for w in given:
        if not w.literal:
            st.add(DANGEROUS, part, f"{what} is computed at run time ({w.source})")
            return None
    return [w.text for w in given]


def _awk(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
         depth: int) -> None:
    if r.has("script-file") or r.has("danger"):
        return
    operands = list(r.operands)
    programs = r.values("script")
    for v in r.values("awk-include"):
        if v.literal and v.text == "inplace":
            st.add(MUTATING, part, f"{name} -i inplace edits files in place")
            for w in operands[0 if programs else 1:]:
                sc.target(w, part, st, f"{name} -i inplace edits")
        else:
            st.add(DANGEROUS, part, f"{name} -i loads a library file the classifier cannot see into")
    for v in r.values("awk-assign"):
        _awk_assignment(sc, name, v, part, st)
    for parsed in r.options:
        if parsed.value is None and any(o.role == "write" for o in parsed.options):
            # -d, -p, -o without a file name write awkvars.out or awkprof.out in the working directory
            default = "awkvars.out" if parsed.options[0].name == "--dump-variables" else "awkprof.out"
            sc.target(Word(default, default), part, st, f"{name} {parsed.spelled} writes")
    texts = _program_texts(programs, operands, f"the {name} program", part, st)
    if texts is None:
        return
    for text in texts:
        effect = awk_program_effect(text)
        if effect.why is not None:
            st.add(DANGEROUS, part, f"the {name} program {effect.why}")
            continue
        outputs = [o for o in effect.outputs if o not in HARMLESS_TARGETS]
        for path in outputs:
            sc.target(Word(path, path), part, st, f"the {name} program writes")
        if outputs:
            st.add(MUTATING, part, f"the {name} program writes files")
        else:
            st.add(SAFE, part, f"the {name} program only reads and prints")
    for w in operands:
        if w.literal and "=" in w.text and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w.text):
            _awk_assignment(sc, name, w, part, st)
        else:
            sc.read(w, part, st, f"{name} reads")


def _awk_assignment(sc: ShellClassifier, name: str, w: Word, part: str, st: State) -> None:
    """awk -v NAME=VALUE and NAME=VALUE operands: ENVIRON-free, but a few names change how files are read."""
    var = w.text.split("=", 1)[0] if w.literal else ""
    if not var or var in ("AWKPATH", "AWKLIBPATH", "FILENAME", "ARGV", "ARGC", "PROCINFO"):
        st.add(DANGEROUS, part, f"{name} assigns {w.source}, which changes what it reads or loads")


def _jq(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
        depth: int) -> None:
    st.add(SAFE, part, f"{name} filters JSON")
    given = {o.name for parsed in r.options for o in parsed.options}
    operands = list(r.operands)
    if "--from-file" in given:
        st.add(DANGEROUS, part, f"{name} -f runs a program file the classifier cannot see into (its import and "
                                "include directives read other files)")
    elif operands:
        program = operands.pop(0)  # jq programs cannot run commands or write files; they can read modules
        if not program.literal:
            st.add(DANGEROUS, part, f"{name} runs a program computed at run time ({program.source})")
        elif re.search(r"\b(import|include)\b", program.text):
            st.add(DANGEROUS, part, f"{name}: the program imports modules or data files (import, include), which "
                                    "the line does not name")
    if not given & {"--args", "--jsonargs"}:  # after --args the operands are values, not files
        for w in operands:
            sc.read(w, part, st, f"{name} reads")
    r.operands = []


# -- files ------------------------------------------------------------------------------------


def copy_operands(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                  depth: int) -> None:
    """cp/mv/ln/install: sources are read; the destination (or -t DIR) and DIR/<source name> are written.

    A destination may be replaced by a directory tree (`mv dir .claude`), so it is
    checked as a place a protected path may be put under. A backup suffix (`-S`)
    names more files written: each destination with the suffix appended. `cp -l`
    and `cp -s` link the sources instead of copying them, as `ln` does.
    """
    base = name.split()[-1]
    operands = list(r.operands)
    target_dirs = r.values("target")
    if r.has("install-dirs"):
        for w in operands:
            sc.target(w, part, st, f"{name} -d creates")
        return
    sources = operands if target_dirs else operands[:-1]
    if not target_dirs and operands and (len(operands) >= 2 or base == "ln"):
        target_dirs = [operands[-1]]
    if base == "ln" and len(operands) == 1 and not r.values("target"):
        target_dirs = [Word(".", ".")]
        sources = operands
    written: list[Word] = []
    for d in target_dirs:
        sc.target(d, part, st, f"{name} writes", replaces=True)
        written.append(d)
        for src in sources:
            leaf = posixpath.basename(src.text.rstrip("/")) if src.dynamic is None else ""
            if src.dynamic is not None or d.dynamic is not None:
                sc.target(Word("", src.source, dynamic="a file name taken from a source computed at run time"),
                          part, st, f"{name} may write")
            elif leaf and leaf not in (".", ".."):
                inside = Word(posixpath.join(d.text, leaf), d.source, glob=d.glob or src.glob)
                sc.target(inside, part, st, f"{name} may write", replaces=True)
                written.append(inside)
    for suffix in r.values("backup-suffix"):
        for w in written:
            sc.target(Word(w.text + suffix.text, w.source, w.dynamic or suffix.dynamic, w.glob or suffix.glob),
                      part, st, f"{name} keeps a backup as")
    symbolic = base == "ln" and any(parsed.spelled in ("-s", "--symbolic") or parsed.spelled.startswith("--sym")
                                    for parsed in r.options)
    for src in sources:
        if base == "mv":
            sc.target(src, part, st, "mv moves away", delete=True)
        elif base == "ln":
            link_dir = posixpath.dirname(target_dirs[0].text) if target_dirs and symbolic else ""
            pointed = src
            if symbolic and link_dir and src.literal and not src.text.startswith(("/", "~")):
                pointed = Word(posixpath.join(link_dir, src.text), src.source)
            sc.target(pointed, part, st, "ln links to")
        elif r.has("link"):
            # the copy is a (hard or symbolic) link: writing it later writes the source, and everything in it
            sc.target(src, part, st, f"{name} links to", delete=True)
        else:
            sc.read(src, part, st, f"{name} reads", recursive=r.has("recursive"))


def _mv(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
    _base(p, name, part, st)


def _second_operand_written(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                            depth: int) -> None:
    """uniq IN OUT, xxd IN OUT: the second operand is the file written."""
    _base(p, name, part, st)
    if len(r.operands) >= 2:
        sc.target(r.operands[1], part, st, f"{name} writes")
        r.operands = r.operands[:1]


def _arch(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
    """arch: on Linux it prints the architecture; on macOS `arch [-ARCH...] [-e NAME=VALUE] [-d NAME] PROGRAM ...`
    runs PROGRAM (for another architecture, with those variables): the program is classified too."""
    words = list(r.raw)
    r.operands = []
    i = 0
    while i < len(words):
        w = words[i]
        if not w.literal:
            st.add(DANGEROUS, part, f"{name} with a word computed at run time ({w.source}): it may be the program")
            return
        if w.text in ("-e", "-d", "-arch"):
            value = words[i + 1] if i + 1 < len(words) else None
            if w.text == "-e":
                if value is None or not value.literal:
                    st.add(DANGEROUS, part, f"{name} -e sets a variable computed at run time")
                    return
                sc.assigns(value.text.split("=", 1)[0], part, st, via=f"{name} -e")
            i += 2
            continue
        if w.text.startswith("-"):
            i += 1  # an architecture (-x86_64, -arm64, -i386) or -c, -h, --help
            continue
        break
    rest = words[i:]
    if not rest:
        _base(p, name, part, st)
        return
    st.add(SAFE, part, f"{name} runs the program that follows (macOS)")
    sc.argv(rest, part, st, depth)


def _sets_with_operands(what: str) -> Handler:
    """A program that only prints without operands and sets something with them (`hostname NAME`)."""
    def handle(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
               depth: int) -> None:
        if r.operands:
            st.add(DANGEROUS, part, f"{name} {r.operands[0].source} {what}")
        else:
            _base(p, name, part, st)
        r.operands = []

    return handle


def _date(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
          depth: int) -> None:
    for w in r.operands:
        if not w.literal or not w.text.startswith("+"):
            st.add(DANGEROUS, part, f"date {w.source} sets the clock (or may)")
            return
    if any(parsed.spelled in ("-s", "--set") for parsed in r.options):
        st.add(DANGEROUS, part, "date -s sets the clock")
        return
    _base(p, name, part, st)


# ps options that take the next word as their value (a format, a list of ids or names).
_PS_VALUES = frozenset({"-o", "-O", "-p", "-q", "-u", "-U", "-g", "-G", "-t", "-C", "-s", "-k", "--format",
                        "--sort", "--pid", "--ppid", "--user", "--group", "--sid", "--tty", "-N"})


def _ps(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
    """ps lists processes; BSD-style `e` (`ps e`, `ps auxe`) and macOS `-E` print their environments,
    which hold the secrets /proc/*/environ does."""
    words = list(r.raw)
    r.operands = []
    for i, w in enumerate(words):
        if not w.literal:
            st.add(DANGEROUS, part, f"{name} with a word computed at run time ({w.source})")
            return
        previous = words[i - 1].text if i else ""
        bsd = not w.text.startswith("-") and previous not in _PS_VALUES and w.text.isalpha()
        if (bsd and "e" in w.text) or (w.text.startswith("-") and not w.text.startswith("--") and "E" in w.text
                                       and previous not in _PS_VALUES):
            st.add(DANGEROUS, part, f"{name} {w.text} prints the environment of processes, which holds secrets")
            return
    _base(p, name, part, st)


def _man(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
    """man formats installed pages; a page file the line names (`man -l x.1`, `man ./x.1`) is formatted too,
    and its `.so` requests include any other file (a secret) in what is printed."""
    _base(p, name, part, st)
    local = r.has("readops") or any(not w.literal or "/" in w.text for w in r.operands)
    if local:
        st.add(DANGEROUS, part, f"{name} formats a page file the line names, whose .so requests read other files")


def _pager(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    _base(p, name, part, st)
    if any(parsed.spelled.startswith("+") for parsed in r.options):
        st.add(DANGEROUS, part, f"{name} +COMMAND runs a pager command, which may run a shell (!)")


def _response_files(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                    depth: int) -> None:
    """GNU binutils read more options from `@FILE` arguments: a file the classifier cannot see into."""
    _base(p, name, part, st)
    for w in r.operands:
        if not w.literal or w.text.startswith("@"):
            st.add(DANGEROUS, part, f"{name} {w.source}: an @FILE argument holds more options")


def _rg(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State, depth: int) -> None:
    _base(p, name, part, st)


def _split(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    _base(p, name, part, st)
    ops = r.operands
    if ops:
        sc.read(ops[0], part, st, "split reads")
    prefix = ops[1] if len(ops) >= 2 else Word("x", "x")
    extra = r.values("name-suffix")
    suffix = extra[-1] if extra else Word("", "")
    lengths = r.values("suffix-length")
    if prefix.dynamic is not None or suffix.dynamic is not None or any(not w.literal for w in lengths):
        st.add(DANGEROUS, part, "split writes files named by words computed at run time")
        return
    # the pieces are PREFIX, then letters (digits with -d, hex digits with -x) of the suffix length (2,
    # growing when they run out unless -a fixes it), then --additional-suffix: every such name is checked
    numeric = any(o.name in ("--numeric-suffixes", "--hex-suffixes") for parsed in r.options for o in parsed.options)
    letter = "[0-9a-f]" if numeric else "[a-z]"
    fixed = [int(w.text) for w in lengths if w.text.isdigit()]
    for n in fixed[-1:] or range(2, 7):
        sc.generated_target(_glob_literal(prefix.text) + letter * max(n, 1) + _glob_literal(suffix.text), prefix,
                            ("0" if numeric else "a") * max(n, 1) + suffix.text, part, st, "split writes files named")


def _csplit(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
            depth: int) -> None:
    _base(p, name, part, st)
    if r.operands:
        sc.read(r.operands[0], part, st, "csplit reads")
    prefixes = r.values("name-prefix")
    prefix = prefixes[-1] if prefixes else Word("xx", "xx")
    formats = r.values("name-format")
    fmt = formats[-1] if formats else Word("%02d", "%02d")
    if not fmt.literal:
        st.add(DANGEROUS, part, f"csplit -b with a format computed at run time ({fmt.source})")
        return
    for number in _printf_numbers(fmt.text):
        sc.target(Word(prefix.text + number, prefix.source, prefix.dynamic, prefix.glob), part, st,
                  "csplit writes files named")


def _glob_literal(text: str) -> str:
    """`text` as a glob that matches only itself (its glob characters in brackets)."""
    return re.sub(r"([*?\[])", r"[\1]", text)


_PRINTF_CONVERSION = re.compile(r"%([-+ #0']*)(\d*)(?:\.(\d*))?([diouxX])")


def _printf_numbers(fmt: str) -> list[str]:
    """The file-name suffixes csplit makes from its -b format: the format with the number printed (0, 1, 10);
    a precision of 0 prints nothing for 0 (`%.0d.json` makes `.json`)."""
    out: list[str] = []
    for n in (0, 1, 10):
        def number(m: re.Match[str], n: int = n) -> str:
            if m.group(3) is not None and (m.group(3) or "0") == "0" and n == 0:
                return ""
            return str(n).rjust(int(m.group(2) or 0), "0" if "0" in m.group(1) else " ")
        text = _PRINTF_CONVERSION.sub(number, fmt.replace("%%", "\0")).replace("\0", "%")
        if text not in out:
            out.append(text)
    return out


def _patch(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    _base(p, name, part, st)
    if not r.operands and not any(parsed.spelled in ("--dry-run", "-o", "--output") for parsed in r.options):
        st.add(DANGEROUS, part, "patch writes the files the patch names, not the command line (they may include "
                                "protected files)")
    if len(r.operands) >= 2:
        sc.read(r.operands[1], part, st, "patch reads")
        r.operands = r.operands[:1]
    # backups of the file patched: FILE + suffix (-z), DIR/PREFIX + BASENAME (-Y)
    for parsed in r.options:
        value = parsed.value
        if value is None or not any(o.role == "backup-name" for o in parsed.options):
            continue
        for w in r.operands:
            if not (w.literal and value.literal):
                st.add(DANGEROUS, part, f"patch {parsed.spelled} names backups computed at run time")
                continue
            head, leaf = posixpath.split(w.text)
            prefix = "-Y" in parsed.options[0].names
            backup = posixpath.join(head, value.text + leaf) if prefix else w.text + value.text
            sc.target(Word(backup, value.source), part, st, f"patch {parsed.spelled} writes the backup")


_SUFFIXES = {"gzip": ".gz", "gunzip": ".gz", "zcat": ".gz", "bzip2": ".bz2", "bunzip2": ".bz2", "bzcat": ".bz2",
             "xz": ".xz", "unxz": ".xz", "xzcat": ".xz", "zstd": ".zst", "unzstd": ".zst", "zstdcat": ".zst",
             "lzma": ".lzma", "unlzma": ".lzma"}
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz", ".lzma", ".z", ".tgz", ".tbz", ".txz")


def _compress(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
              depth: int) -> None:
    spelled = {parsed.spelled for parsed in r.options}
    to_stdout = bool(spelled & {"-c", "--stdout", "--to-stdout", "-l", "--list", "-t", "--test"}) or \
        name.endswith("cat")
    decompress = bool(spelled & {"-d", "--decompress", "--uncompress"}) or name.startswith(("un", "gun", "bun")) or \
        name.endswith("cat")
    suffix = _SUFFIXES.get(name, ".gz")
    if to_stdout:
        st.add(SAFE, part, f"{name} writes to its output only")
        for w in r.operands:
            sc.read(w, part, st, f"{name} reads")
        r.operands = []
        return
    _base(p, name, part, st)
    if decompress and any("--name" in o.names for parsed in r.options for o in parsed.options):
        st.add(DANGEROUS, part, f"{name} -N names the file it writes after the name stored in the archive, not the "
                                "command line (it may be a protected file)")
    for w in r.operands:
        sc.read(w, part, st, f"{name} reads")
        if not spelled & {"-k", "--keep"}:
            sc.target(w, part, st, f"{name} replaces", delete=True)
        if w.dynamic is not None:
            continue
        stem, ext = posixpath.splitext(w.text)
        if decompress and ext.lower() in _COMPRESSED and stem:
            sc.target(Word(stem + (".tar" if ext.lower() in (".tgz", ".tbz", ".txz") else ""), w.source,
                           glob=w.glob), part, st, "decompresses into")
        elif not decompress:
            sc.target(Word(w.text + suffix, w.source, glob=w.glob), part, st, "compresses into")
        else:
            sc.target(Word(w.text + ".out", w.source, dynamic="a name the program chooses"), part, st,
                      "decompresses into")
    r.operands = []


def _tar(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
         depth: int) -> None:
    create = r.has("tar-create")
    extract = r.has("tar-extract")
    files = r.values("tar-file")
    first = r.raw[0] if r.raw else None
    if first is not None and first.literal and first.text[:1].isalpha() and r.operands and r.operands[0] is first:
        # the old style: `tar xzf a.tar` (the first word is a cluster of letters without a dash)
        assert p.grammar is not None
        again = parse(p.grammar, [Word("-" + first.text, first.source)] + list(r.raw[1:]))
        for parsed in again.options:
            for opt in parsed.options:
                sc._role(opt, parsed.spelled, parsed.value, p, name, part, st, depth)
        for unknown in again.unknown:
            st.add(DANGEROUS, part, f"tar: {unknown} is not an option the classifier knows to be harmless")
        _tar(sc, p, name, again, part, st, depth)
        r.operands = []
        return
    for f in files:
        if f.literal and ":" in f.text.split("/", 1)[0] and not any(
                parsed.spelled == "--force-local" for parsed in r.options):
            st.add(DANGEROUS, part, f"tar -f {f.text} names a remote archive, reached by running rsh/rmt")
    if create:
        st.add(MUTATING, part, "tar creates or changes an archive")
        for f in files:
            sc.target(f, part, st, "tar writes the archive")
        saved = st.cwd
        try:
            for d in r.values("writedir")[-1:]:
                sc.enter_dir(d, st)  # `tar -C DIR -c .` archives DIR
            for w in r.operands:
                sc.read(w, part, st, "tar reads", recursive=True)
        finally:
            st.cwd = saved
    elif extract:
        st.add(DANGEROUS, part, "tar extracts files named inside the archive, not on the command line (they may "
                                "include protected files such as .git/hooks/)")
        for f in files:
            sc.read(f, part, st, "tar reads")
        if not r.values("writedir") and st.cwd is not None and any(
                c == sc.paths.normalise("~") for c in st.cwd):
            st.add(DANGEROUS, part, "tar extracts into the home directory, over its configuration files")
    else:
        st.add(SAFE, part, "tar lists or compares an archive")
        for f in files:
            sc.read(f, part, st, "tar reads")
    if r.has("tar-remove"):
        st.add(DANGEROUS, part, "tar --remove-files deletes the files it archives")
        for w in r.operands:
            sc.target(w, part, st, "tar --remove-files deletes", delete=True)
    r.operands = []


def _unzip(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    spelled = {parsed.spelled for parsed in r.options}
    if spelled & {"-l", "-v", "-t", "-z", "-Z", "-p", "-c"}:
        st.add(SAFE, part, "unzip lists or prints an archive")
    else:
        st.add(DANGEROUS, part, "unzip extracts files named inside the archive, not on the command line (they "
                                "may include protected files such as .git/hooks/)")
    if r.operands:
        sc.read(r.operands[0], part, st, "unzip reads")
    r.operands = []


def _zip(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
         depth: int) -> None:
    _base(p, name, part, st)
    if any(w.literal and w.text.startswith("-") and not w.text.startswith("--") and "TT" in w.text
           for w in r.raw):
        st.add(DANGEROUS, part, "zip -TT names the command that tests the archive")
    if r.operands:
        sc.target(r.operands[0], part, st, "zip writes the archive")
    recursive = any(parsed.spelled in ("-r", "--recurse-paths", "-R") for parsed in r.options)
    for w in r.operands[1:]:
        sc.read(w, part, st, "zip reads", recursive=recursive)
        if r.has("zip-move"):
            sc.target(w, part, st, "zip -m deletes", delete=True)
    r.operands = []


def _flock(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    """flock FILE CMD creates FILE (a lock file, opened without truncation) when it does not exist;
    `flock FD` locks an open descriptor."""
    _base(p, name, part, st)
    ops = r.operands
    if ops and not (len(ops) == 1 and ops[0].literal and ops[0].text.isdigit()):
        sc.target(ops[0], part, st, f"{name} creates the lock file")


def _dd(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
        depth: int) -> None:
    _base(p, name, part, st)
    for w in r.operands:
        if w.dynamic is not None:
            st.add(DANGEROUS, part, f"dd operand computed at run time ({w.source})")
        elif w.text.startswith("of="):
            sc.target(Word(w.text[3:], w.source, glob=w.glob), part, st, "dd writes")
        elif w.text.startswith("if="):
            sc.read(Word(w.text[3:], w.source, glob=w.glob), part, st, "dd reads")
    r.operands = []


# -- network ------------------------------------------------------------------------------------


def _url_leaf(url: str) -> str:
    """The file name a downloader saves URL under by default (its last path segment)."""
    path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    leaf = path.rsplit("/", 1)[-1] if "/" in path else ""
    return leaf or "index.html"


_CURL_OUTPUT = re.compile(r"%output\{(?:>>)?([^}]*)\}")


def _curl(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
          depth: int) -> None:
    _base(p, name, part, st)
    for v in r.values("curl-data"):
        if v.dynamic is not None:
            st.add(DANGEROUS, part, f"curl sends data computed at run time ({v.source}), which may name a file")
        elif v.text.startswith("@"):
            sc.read(Word(v.text[1:], v.source, glob=v.glob), part, st, "curl sends the file")
        elif "@" in v.text and "=" in v.text.split("@", 1)[0] + "=":
            sc.read(Word(v.text.split("@", 1)[1], v.source), part, st, "curl sends the file")
    for v in r.values("curl-form"):
        if v.dynamic is not None:
            st.add(DANGEROUS, part, f"curl sends a form computed at run time ({v.source})")
            continue
        for piece in re.findall(r"[@<]([^;,]+)", v.text):
            sc.read(Word(piece, v.source), part, st, "curl sends the file")
    for v in r.values("curl-cookie"):
        if not v.literal:
            st.add(DANGEROUS, part, f"curl reads cookies from a name computed at run time ({v.source})")
        elif "=" not in v.text:
            sc.read(v, part, st, "curl reads cookies from")  # a value without `=` is a file name
    for v in r.values("curl-header"):
        if v.literal and v.text.startswith("@"):
            sc.read(Word(v.text[1:], v.source), part, st, "curl reads headers from")
    for v in r.values("curl-format"):
        if not v.literal:
            st.add(DANGEROUS, part, f"curl -w with a format computed at run time ({v.source}), which may name a file")
        elif v.text.startswith("@"):
            sc.read(Word(v.text[1:], v.source), part, st, "curl -w reads its format (printed) from")
        else:
            for out in _CURL_OUTPUT.findall(v.text):  # curl 8.3+: %output{FILE} (>>FILE appends) writes FILE
                sc.target(Word(out, v.source), part, st, "curl -w %output writes")
    urls = list(r.operands) + r.values("curl-url")
    for u in urls:
        if u.literal and u.text.lower().startswith("file:"):
            path = u.text[5:].lstrip("/")
            sc.read(Word("/" + path.split("/", 1)[-1] if path.startswith("localhost/") else "/" + path, u.source),
                    part, st, "curl reads the local file")
    if r.has("curl-remote"):
        dirs = r.values("writedir")
        base = dirs[0].text if dirs else ""
        for u in urls:
            if not u.literal:
                st.add(DANGEROUS, part, f"curl -O saves under a name computed at run time ({u.source})")
                continue
            leaf = _url_leaf(u.text)
            sc.target(Word(posixpath.join(base, leaf) if base else leaf, u.source), part, st, "curl -O saves")


def _wget(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
          depth: int) -> None:
    """wget saves each URL under its last segment (`--default-page` for a URL ending in `/`), under
    HOST/PATH with `-x` (PATH alone with `-nH`), below `-P`; URLs read from a file (`-i`) save under names
    the line does not show."""
    _base(p, name, part, st)
    given = {o.name for parsed in r.options for o in parsed.options}
    if given & {"--output-document", "--spider"}:
        return
    if "--input-file" in given:
        st.add(DANGEROUS, part, "wget -i saves the URLs listed in a file, under names the line does not show")
        return
    if given & {"--cut-dirs", "--protocol-directories"}:
        st.add(DANGEROUS, part, "wget --cut-dirs/--protocol-directories choose directories the classifier does "
                                "not follow")
        return
    dirs = r.values("writedir")
    base = dirs[0].text if dirs and dirs[0].literal else ""
    pages = [v for parsed in r.options if "--default-page" in parsed.options[0].names and parsed.value is not None
             for v in [parsed.value]]
    tree = "--force-directories" in given and "--no-directories" not in given
    for u in r.operands:
        if not u.literal or any(not v.literal for v in pages):
            st.add(DANGEROUS, part, f"wget saves under a name computed at run time ({u.source})")
            continue
        leaf = _url_leaf(u.text)
        if leaf == "index.html" and pages:
            leaf = pages[-1].text
        local = leaf
        if tree:
            host, _, path = u.text.split("://", 1)[-1].partition("/")
            path = path.split("?", 1)[0].split("#", 1)[0]
            path = posixpath.join(posixpath.dirname("/" + path).lstrip("/"), leaf)
            local = path if "--no-host-directories" in given else posixpath.join(host, path)
        sc.target(Word(posixpath.join(base, local) if base else local, u.source), part, st, "wget saves",
                  replaces=tree)
        if given & {"--recursive", "--mirror", "--force-directories"}:
            st.add(MUTATING, part, "wget saves a tree of files named by the server")


_SSH_SAFE_OPTIONS = frozenset({
    "batchmode", "connecttimeout", "connectionattempts", "stricthostkeychecking", "userknownhostsfile",
    "serveraliveinterval", "serveralivecountmax", "port", "user", "identitiesonly", "loglevel", "compression",
    "requesttty", "forwardagent", "tcpkeepalive", "hostname", "preferredauthentications", "passwordauthentication",
    "pubkeyauthentication", "controlmaster", "controlpersist", "controlpath", "addressfamily", "ciphers", "macs",
    "kexalgorithms", "hostkeyalgorithms", "updatehostkeys", "verifyhostkeydns", "checkhostip", "exitonforwardfailure",
    "forwardx11", "gssapiauthentication", "numberofpasswordprompts", "sendenv", "setenv", "identityfile",
    "visualhostkey", "hashknownhosts", "clearallforwardings", "ipqos", "rekeylimit",
})


def _ssh_options(sc: ShellClassifier, name: str, r: ParseResult, part: str, st: State) -> None:
    """`-o Key=Value` options: harmless keys only; the files some of them name are read or written."""
    options = [_ssh_option(v) for v in r.values("ssh-option")]
    master = any(k == "controlmaster" and v.lower() not in ("no", "") for k, v, _ in options)
    for key, value, v in options:
        if key not in _SSH_SAFE_OPTIONS:
            st.add(DANGEROUS, part, f"{name} -o {v.source}: an option that can run a local command or is not "
                                    "known to be harmless")
        elif key == "identityfile":
            sc.read(Word(value, v.source), part, st, f"{name} uses the key")
        elif key == "userknownhostsfile":
            for path in value.split():
                sc.target(Word(path, v.source), part, st, f"{name} records host keys in")
        elif key == "controlpath" and master and value.lower() != "none":
            sc.target(Word(value, v.source, dynamic="a path with %-tokens ssh expands" if "%" in value else None),
                      part, st, f"{name} creates its control socket at")


def _ssh_option(v: Word) -> tuple[str, str, Word]:
    """(key in lower case, value, the word) of an ssh_config option written `Key=Value` or `Key Value`."""
    if not v.literal or not v.text.strip():
        return "", "", v
    m = re.match(r"\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)?(.*)$", v.text, re.S)
    if m is None:
        return "", "", v
    return m.group(1).lower(), m.group(2).strip(), v


def _ssh(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
         depth: int) -> None:
    _base(p, name, part, st)
    _ssh_options(sc, name, r, part, st)


def _remote_copy(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                 depth: int) -> None:
    """scp/rsync: local sources are read; a local destination (no `host:`) is written.

    rsync's remote shell (`-e CMD`) is run as `CMD [-l USER] HOST rsync --server ...`:
    the words rsync appends are part of the command classified (`-e env` runs HOST).
    """
    _base(p, name, part, st)
    _ssh_options(sc, name, r, part, st)
    ops = r.operands
    for shell in r.values("sh-argv"):
        if not shell.literal:
            st.add(DANGEROUS, part, f"{name} runs a remote shell computed at run time ({shell.source})")
            continue
        remote = next((w for w in ops if _is_remote(w)), None)
        host = remote.text.split(":", 1)[0] if remote is not None else ""
        user, _, host = host.rpartition("@")
        appended = (f"-l {shlex.quote(user)} " if user else "") + (shlex.quote(host) if host else '"$HOST"')
        st.add(SAFE, part, f"{name} runs a remote shell command")
        sc.parse_line(f"{shell.text} {appended} rsync --server", st, depth + 1)
    _rsync_filters(sc, name, r, part, st)
    _rsync_dest_dirs(sc, name, r, part, st)
    recursive = any(parsed.spelled in ("-r", "-a", "--recursive", "--archive") for parsed in r.options)
    if len(ops) < 2:
        for w in ops:
            if not _is_remote(w):
                sc.read(w, part, st, f"{name} reads", recursive=recursive)
        return
    dest = ops[-1]
    for w in ops[:-1]:
        if not _is_remote(w):
            sc.read(w, part, st, f"{name} reads", recursive=recursive)
    if not _is_remote(dest):
        sc.target(dest, part, st, f"{name} writes", replaces=True)
        for w in ops[:-1]:
            if w.literal:
                leaf = posixpath.basename(w.text.split(":", 1)[-1].rstrip("/"))
                if leaf and leaf not in (".", "..") and dest.literal:
                    sc.target(Word(posixpath.join(dest.text, leaf), dest.source), part, st, f"{name} may write")


#: rsync filter rules that read rules from a file: `merge FILE`, `. FILE`, per directory `dir-merge NAME`,
#: `: NAME`, with modifiers after a comma or directly (`.-`, `:-`, `merge,-`); rsync prints a line of the file it
#: cannot read as a rule in its error message.
_RSYNC_MERGE = re.compile(r"(?:merge|dir-merge|[.:])(?:,?[-+Cenw/!sr]*)[ _](.+)", re.S)


def _rsync_filters(sc: ShellClassifier, name: str, r: ParseResult, part: str, st: State) -> None:
    """rsync -f RULE: a merge rule reads the file it names (in each directory, for a dir-merge rule)."""
    for rule in r.values("rsync-filter"):
        if not rule.literal:
            st.add(DANGEROUS, part, f"{name} filter rule computed at run time ({rule.source}), which may read a file")
            continue
        m = _RSYNC_MERGE.fullmatch(rule.text.strip())
        if m is not None:
            sc.read(Word(m.group(1).strip(), rule.source), part, st, f"{name} reads filter rules from")


def _rsync_dest_dirs(sc: ShellClassifier, name: str, r: ParseResult, part: str, st: State) -> None:
    """--backup-dir, --partial-dir, --temp-dir: a relative directory is below each destination directory.

    Written there: below the destination (and below the working directory, the other reading); with a `..`
    component it may be anywhere, from a directory as deep as the tree copied.
    """
    dest = r.operands[-1] if len(r.operands) >= 2 else None
    for d in r.values("rsync-dest-dir"):
        parts = d.text.split("/")
        if d.literal and not d.text.startswith(("/", "~")) and ".." in parts:
            st.add(DANGEROUS, part, f"{name} writes into {d.text}, relative to each directory it copies into")
        sc.target(d, part, st, f"{name} writes into")
        if d.literal and dest is not None and dest.literal and not _is_remote(dest) and \
                not d.text.startswith(("/", "~")):
            sc.target(Word(posixpath.join(dest.text, d.text), d.source), part, st, f"{name} writes into")


def _is_remote(w: Word) -> bool:
    if w.dynamic is not None:
        return False
    head = w.text.split("/", 1)[0]
    return ":" in head or w.text.startswith("rsync://")


def _httpie(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
            depth: int) -> None:
    _base(p, name, part, st)
    given = {o.name for parsed in r.options for o in parsed.options}
    if "--download" in given and "--output" not in given:
        st.add(DANGEROUS, part, f"{name} --download saves under the name the server sends (Content-Disposition), "
                                "which may be a protected file")
    for w in r.operands[1:]:
        if w.literal and ("@" in w.text or "=@" in w.text or ":=@" in w.text):
            sc.read(Word(w.text.split("@", 1)[1], w.source), part, st, f"{name} sends the file")
        elif not w.literal:
            st.add(DANGEROUS, part, f"{name} request item computed at run time ({w.source})")


__all__ = ["HANDLERS", "env", "find", "copy_operands"]

from .special_dev import DEV_HANDLERS  # noqa: E402 - the developer tools' handlers live beside these

HANDLERS: dict[str, Handler] = {
    "xargs": _xargs, "watch": _watch, "sed": _sed_dual, "awk": _awk, "jq": _jq, "mv": _mv, "ln": _mv,
    "uniq": _second_operand_written, "date": _date, "arch": _arch, "ps": _ps, "man": _man,
    "hostname": _sets_with_operands("sets the host name"), "xxd": _second_operand_written, "pager": _pager, "rg": _rg,
    "split": _split, "csplit": _csplit, "patch": _patch, "response-files": _response_files, "compress": _compress,
    "tar": _tar, "unzip": _unzip, "zip": _zip, "dd": _dd, "flock": _flock, "curl": _curl,
    "wget": _wget, "ssh": _ssh, "remote-copy": _remote_copy, "httpie": _httpie, **DEV_HANDLERS,
}
