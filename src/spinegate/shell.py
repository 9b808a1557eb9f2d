"""Command-line classifier: what a shell command line would do.

The command line is parsed with bashlex (a port of bash's own parser), never
matched by prefix. Every simple command in it is classified, wherever it
sits: lists (`;`, `&&`, `||`), pipelines, subshells and brace groups, loops
and conditionals, function bodies, command substitution (`$(...)`, backticks),
process substitution (`<(...)`), assignments and redirection targets. Wrappers
that run another program (`env`, `sudo`, `xargs`, `nohup`, `timeout`, `nice`,
`time`, `exec`, `command`, `busybox`, `find -exec`, ...) are looked through,
and `sh -c` / `bash -c` / `eval` strings are parsed recursively. The most
restrictive part wins.

Fail closed: a program the classifier does not know, a program name that is
computed at run time, a line bashlex cannot parse, inline interpreter code
(`python -c`, `node -e`, ...) that cannot be seen into, and recursion deeper
than the limit are all SHELL_DANGEROUS.

Writes the line makes (`>`, `>>`, `tee`, `cp`/`mv` destinations, `touch`,
...) are normalised through a `PathPolicy`: a write to a restricted path is
RESTRICTED_WRITE, and with writable roots given, a write outside them is
reported in `outside_roots`. Relative writes are checked against every
directory the shell may be in (a `cd` may fail or sit in a subshell), and a
redirection to bash's `/dev/tcp` or `/dev/udp` is NETWORK_ATTEMPT.

Cost is bounded: lines over MAX_COMMAND_LENGTH are refused unparsed, nesting
is bounded by MAX_DEPTH and Python's recursion limit (both fail closed), and
at most MAX_WRITE_CHECKS write targets are resolved per line.

Pure apart from the path resolver the `PathPolicy` was given (see paths.py).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import bashlex

from .effects import EffectClass
from .paths import HARMLESS_TARGETS, PathError, PathPolicy

SAFE = EffectClass.SHELL_SAFE
MUTATING = EffectClass.SHELL_MUTATING
DANGEROUS = EffectClass.SHELL_DANGEROUS
NETWORK = EffectClass.NETWORK_ATTEMPT
RESTRICTED = EffectClass.RESTRICTED_WRITE

MAX_COMMAND_LENGTH = 20_000
MAX_DEPTH = 8
#: Most working directories followed at once (each `cd` adds one); beyond it relative writes fail closed.
MAX_CWD_CANDIDATES = 8
#: Most write targets resolved and matched per line; a line writing more fails closed (bounds the cost).
MAX_WRITE_CHECKS = 512

# -- what programs do --------------------------------------------------------------

READ_ONLY = frozenset("""
ls dir vdir cat tac nl head tail less more grep egrep fgrep rg ag ack wc echo printf pwd whoami id groups date
cal uname which whereis type file stat du df free uptime ps tree sort uniq cut tr diff cmp comm basename dirname
realpath readlink true false test [ printenv jq yes sleep seq expr md5sum sha1sum sha224sum sha256sum sha384sum
sha512sum b2sum cksum sum base32 base64 od hexdump strings column fold fmt paste join rev shuf tty locale nproc
arch lsb_release man info whatis apropos cd pushd popd dirs read : wait jobs getconf hash set unset shift exit
return local declare typeset export readonly let numfmt look zcat zgrep zless bzcat xzcat lsof pgrep pstree
""".split())

MUTATES = {
    "mkdir": "creates directories", "touch": "creates or updates files", "cp": "copies files",
    "mv": "moves files", "ln": "creates links", "tee": "writes files", "install": "installs files",
    "tar": "creates or extracts archives", "unzip": "extracts archives", "zip": "creates archives",
    "gzip": "compresses files in place", "gunzip": "decompresses files in place", "bzip2": "compresses files",
    "bunzip2": "decompresses files", "xz": "compresses files", "unxz": "decompresses files",
    "patch": "patches files", "rmdir": "removes empty directories", "mktemp": "creates a temporary file",
    "split": "writes files", "csplit": "writes files", "mkfifo": "creates a FIFO", "sed": "edits files in place",
    "awk": "may write files", "gawk": "may write files", "mawk": "may write files", "nawk": "may write files",
}

DESTRUCTIVE = {
    "rm": "deletes files", "shred": "destroys files", "unlink": "deletes a file", "dd": "copies raw blocks",
    "truncate": "truncates files", "mkfs": "formats a filesystem", "fdisk": "partitions disks",
    "parted": "partitions disks", "wipefs": "wipes filesystem signatures", "chmod": "changes permissions",
    "chown": "changes ownership", "chgrp": "changes group ownership", "chattr": "changes file attributes",
    "setfacl": "changes ACLs", "kill": "signals processes", "pkill": "signals processes",
    "killall": "signals processes", "reboot": "reboots the machine", "shutdown": "shuts the machine down",
    "halt": "halts the machine", "poweroff": "powers the machine off", "systemctl": "controls services",
    "service": "controls services", "mount": "mounts filesystems", "umount": "unmounts filesystems",
    "iptables": "changes the firewall", "nft": "changes the firewall", "ufw": "changes the firewall",
    "crontab": "schedules commands", "at": "schedules commands", "useradd": "changes users",
    "userdel": "changes users", "usermod": "changes users", "passwd": "changes passwords",
    "chpasswd": "changes passwords", "visudo": "edits sudoers", "insmod": "loads kernel modules",
    "rmmod": "unloads kernel modules", "modprobe": "loads kernel modules", "sysctl": "changes kernel settings",
    "chroot": "changes the root directory", "nsenter": "enters namespaces", "source": "runs a script file",
    ".": "runs a script file", "alias": "redefines commands", "fc": "re-runs history", "history": "edits history",
    "apt": "changes system packages", "apt-get": "changes system packages", "yum": "changes system packages",
    "dnf": "changes system packages", "apk": "changes system packages", "pacman": "changes system packages",
    "dpkg": "changes system packages", "rpm": "changes system packages", "snap": "changes system packages",
    "docker": "controls containers", "podman": "controls containers", "kubectl": "controls a cluster",
    "make": "runs build recipes", "npx": "downloads and runs packages",
}
PRIVILEGED = frozenset({"sudo", "su", "doas", "pkexec", "runuser"})

NETWORKED = {
    "curl": "transfers data over the network", "wget": "downloads", "ssh": "opens a remote shell",
    "scp": "copies over the network", "sftp": "transfers over the network", "rsync": "syncs over the network",
    "nc": "opens network connections", "ncat": "opens network connections", "netcat": "opens network connections",
    "socat": "relays network connections", "telnet": "opens network connections", "ftp": "transfers files",
    "tftp": "transfers files", "ping": "sends network packets", "ping6": "sends network packets",
    "traceroute": "sends network packets", "dig": "queries DNS", "nslookup": "queries DNS", "host": "queries DNS",
    "whois": "queries a remote service", "aria2c": "downloads", "http": "makes HTTP requests",
    "https": "makes HTTP requests", "lynx": "browses the web", "w3m": "browses the web",
}

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh"})
INTERPRETERS = frozenset({
    "python", "python2", "python3", "pypy", "pypy3", "node", "nodejs", "deno", "bun", "perl", "ruby", "php",
    "lua", "luajit", "rscript", "r", "julia", "tclsh", "wish", "osascript", "pwsh", "powershell", "groovy",
    "java", "jshell", "scala", "kotlin", "swift", "ghci", "runghc", "erl", "elixir", "iex", "gdb", "expect",
})
VERSION_FLAGS = frozenset({"--version", "-v", "-V", "--help", "-h", "-version"})

# Environment variables that change what a later program runs or loads.
DANGEROUS_ENV = frozenset({
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "DYLD_LIBRARY_PATH", "PATH",
    "BASH_ENV", "ENV", "IFS", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "PS4", "HOME", "PYTHONPATH",
    "PYTHONSTARTUP", "PYTHONHOME", "NODE_OPTIONS", "NODE_PATH", "PERL5OPT", "PERL5LIB", "PERLLIB", "RUBYOPT",
    "RUBYLIB", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_EDITOR", "GIT_ASKPASS",
    "GIT_EXEC_PATH", "GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT", "PAGER", "EDITOR", "VISUAL", "MANPAGER", "LESSOPEN", "LESSCLOSE", "SSH_ASKPASS",
    "SUDO_ASKPASS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "CDPATH", "GIT_PROXY_COMMAND", "GIT_TEMPLATE_DIR",
    "GIT_DIR", "GIT_WORK_TREE", "GIT_SEQUENCE_EDITOR", "LESSKEYIN", "BROWSER", "PYTHONUSERBASE", "PIP_CONFIG_FILE",
    "NPM_CONFIG_USERCONFIG", "CURL_HOME", "WGETRC", "SSH_CONFIG", "ZDOTDIR", "XDG_CONFIG_HOME", "TERMINFO",
})

GIT_SAFE = frozenset("""status log diff show rev-parse ls-files ls-tree blame grep describe shortlog cat-file rev-list
show-ref help version whatchanged name-rev merge-base count-objects check-ignore for-each-ref show-branch
var check-attr cherry range-diff""".split())
GIT_MUTATING = frozenset("""add commit checkout switch restore merge rebase cherry-pick revert stash tag mv rm init
apply am notes worktree branch config remote bisect sparse-checkout gc reflog prune update-index mergetool
difftool""".split())
GIT_NETWORK = frozenset("pull fetch clone ls-remote submodule archive send-email request-pull push".split())

# Options that make an otherwise ordinary program run another command, or do
# something far beyond its usual job (GTFOBins-style escapes).
DANGER_OPTIONS: dict[str, frozenset[str]] = {
    "rg": frozenset({"--pre"}),
    "sort": frozenset({"--compress-program"}),
    "date": frozenset({"-s", "--set"}),
    "man": frozenset({"-P", "--pager", "-H", "--html"}),
    "hash": frozenset({"-p"}),
    "less": frozenset({"-k", "--lesskey-file", "--lesskey-src"}),
    "tar": frozenset({"--to-command", "--checkpoint-action", "-I", "--use-compress-program", "--rsh-command",
                      "-F", "--info-script", "--new-volume-script"}),
    "zip": frozenset({"-TT", "--unzip-command"}),
    "scp": frozenset({"-S", "-F"}),
    "ssh": frozenset({"-F", "-I"}),
    "sftp": frozenset({"-S", "-D", "-F"}),
    "curl": frozenset({"-K", "--config"}),
    "wget": frozenset({"-e", "--execute", "--config", "--use-askpass"}),
    "nc": frozenset({"-e", "-c", "--exec", "--sh-exec", "--lua-exec"}),
    "ncat": frozenset({"-e", "-c", "--exec", "--sh-exec", "--lua-exec"}),
    "netcat": frozenset({"-e", "-c", "--exec", "--sh-exec", "--lua-exec"}),
    "aria2c": frozenset({"--on-download-complete", "--on-download-start", "--on-download-error",
                         "--on-download-stop", "--on-download-pause", "--on-bt-download-complete", "--conf-path"}),
    "file": frozenset({"-C", "--compile"}),
    "git": frozenset({"--upload-pack", "--receive-pack", "--exec", "--open-files-in-pager", "--ext-diff",
                      "--textconv"}),
}
# Options whose value is a directory the program writes into.
DIRECTORY_OPTIONS: dict[str, frozenset[str]] = {
    "tar": frozenset({"-C", "--directory"}),
    "unzip": frozenset({"-d"}),
    "wget": frozenset({"-P", "--directory-prefix"}),
    "pip": frozenset({"-t", "--target", "-d", "--dest", "--prefix", "--root", "--src"}),
    "npm": frozenset({"--prefix"}),
    "mktemp": frozenset({"-p", "--tmpdir"}),
    "csplit": frozenset({"-f", "--prefix"}),
}

# Compressors replace each operand with a compressed (or decompressed) file next to it.
COMPRESSORS = {"gzip": ".gz", "gunzip": ".gz", "bzip2": ".bz2", "bunzip2": ".bz2", "xz": ".xz", "unxz": ".xz",
               "zstd": ".zst", "unzstd": ".zst", "lzma": ".lzma", "unlzma": ".lzma"}

# A program named by a path in one of these is the system's own; any other path may be anything.
SYSTEM_BIN_DIRS = frozenset({"/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"})

# awk output redirections to a literal file name: print > "file", printf >> "file".
_AWK_OUTPUT = re.compile(r'>{1,2}\s*"([^"\\]+)"')

WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<>"})
GLOB_CHARS = frozenset("*?[")


# -- results -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One part of the command line and what it does."""

    effect: EffectClass
    part: str
    why: str

    def __str__(self) -> str:
        return f"{self.effect.value:<16} {self.part}: {self.why}"


@dataclass(frozen=True, slots=True)
class CommandClassification:
    """The effect of a whole command line, with the part that decided it."""

    command: str
    effect: EffectClass
    decided_by: Finding
    findings: tuple[Finding, ...]
    write_targets: tuple[str, ...] = ()
    outside_roots: tuple[str, ...] = ()
    denied_programs: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        d = self.decided_by
        return f"command line is {self.effect.value}: `{d.part}` {d.why}"

    def explain(self) -> str:
        """Every part found, one a line, the deciding one marked with `>`."""
        lines = [f"{self.effect.value}  {self.command}", f"decided by: `{self.decided_by.part}`: "
                                                          f"{self.decided_by.why}"]
        for f in self.findings:
            mark = ">" if f is self.decided_by else " "
            lines.append(f" {mark} {f}")
        if self.write_targets:
            lines.append("writes: " + ", ".join(self.write_targets))
        if self.outside_roots:
            lines.append("outside the writable roots: " + ", ".join(self.outside_roots))
        if self.denied_programs:
            lines.append("on the deny list: " + ", ".join(self.denied_programs))
        return "\n".join(lines)


@dataclass(slots=True)
class _Word:
    text: str
    dynamic: bool
    node: Any = None


@dataclass(slots=True)
class _State:
    roots: tuple[str, ...] | None
    # Every directory the shell may be in at this point of the line (a `cd` can
    # fail, sit in a subshell or a branch not taken), or None when unknown.
    cwd: tuple[str, ...] | None
    findings: list[Finding] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    # Set while walking a `cd` that is followed by `&&`: what follows runs only if it succeeded.
    exact_cd: bool = False
    checked: int = 0  # write targets checked so far (bounded by MAX_WRITE_CHECKS)

    def add(self, effect: EffectClass, part: str, why: str) -> None:
        self.findings.append(Finding(effect, part, why))


# -- the classifier ---------------------------------------------------------------


class ShellClassifier:
    """Classifies command lines. `allow` programs are read-only; `deny` programs are refused.

    `deny` wins over `allow`. Both match the program's base name (`/bin/rm` is `rm`).
    """

    def __init__(self, *, allow: Iterable[str] = (), deny: Iterable[str] = (),
                 paths: PathPolicy | None = None, max_depth: int = MAX_DEPTH) -> None:
        self.allow = frozenset(allow)
        self.deny = frozenset(deny)
        self.paths = paths if paths is not None else PathPolicy()
        self.max_depth = max_depth

    # -- entry points ---------------------------------------------------------------

    def classify(self, command: object, *, roots: Sequence[str] | None = None) -> CommandClassification:
        """Classify one command line (a string, or an argv list of strings).

        `roots` are normalised writable roots; when given, writes outside them are
        listed in `outside_roots`. Never raises: what cannot be classified is
        SHELL_DANGEROUS.
        """
        text = _command_text(command)
        st = _State(tuple(roots) if roots is not None else None, (self.paths.base_dir,))
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
                self._parse(text, st, 0)
            except RecursionError:
                st.add(DANGEROUS, _short(text), "nested too deeply to classify")
            except Exception as exc:  # noqa: BLE001 - a parse tree shape the walker did not expect
                st.add(DANGEROUS, _short(text), f"could not be classified ({type(exc).__name__}: {exc})")
        return _result(text, st)

    # -- parsing --------------------------------------------------------------------

    def _parse(self, text: str, st: _State, depth: int) -> None:
        if depth > self.max_depth:
            st.add(DANGEROUS, _short(text), f"nested deeper than {self.max_depth} levels of shells")
            return
        try:
            trees = bashlex.parse(text)
        except Exception as exc:  # noqa: BLE001 - bashlex raises several kinds; all mean "cannot parse"
            st.add(DANGEROUS, _short(text), f"cannot be parsed ({type(exc).__name__}: {exc})")
            return
        if not trees:
            st.add(DANGEROUS, _short(text), "no command found")
            return
        for tree in trees:
            self._walk(tree, text, st, depth)

    def _walk(self, node: Any, text: str, st: _State, depth: int) -> None:
        kind = getattr(node, "kind", None)
        if kind == "command":
            self._command(node, text, st, depth)
        elif kind in ("commandsubstitution", "processsubstitution"):
            self._walk(node.command, text, st, depth)
        elif kind == "function":
            name = node.parts[0].word if node.parts and getattr(node.parts[0], "kind", "") == "word" else ""
            if name:
                st.functions.add(name)
            for child in node.parts[1:]:
                self._walk(child, text, st, depth)
        elif kind == "redirect":
            self._redirect(node, text, st)
            out = getattr(node, "output", None)
            if out is not None and not isinstance(out, int):
                self._subs(out, text, st, depth)
        elif kind == "list":
            self._list(node, text, st, depth)
        else:
            for child in _children(node):
                self._walk(child, text, st, depth)

    def _list(self, node: Any, text: str, st: _State, depth: int) -> None:
        """Walk `a && b; c`, following directories exactly where a `cd` is known to have succeeded.

        In `cd X && w`, w runs only if the cd succeeded, so it runs in X. Once the
        `&&` chain ends (`;`, `||`, `&`, end of line), the shell may be in any
        directory the chain passed through, or where it was before.
        """
        parts = list(getattr(node, "parts", None) or ())
        seen: tuple[str, ...] | None = None  # every directory of the current && chain, when one is followed
        for idx, child in enumerate(parts):
            if getattr(child, "kind", None) == "operator":
                if getattr(child, "op", None) != "&&" and seen is not None:
                    st.cwd = None if st.cwd is None else _merge_cwds(seen, st.cwd)
                    seen = None
                continue
            nxt = parts[idx + 1] if idx + 1 < len(parts) else None
            guarded = getattr(nxt, "kind", None) == "operator" and getattr(nxt, "op", None) == "&&" and \
                _is_cd(child)
            if guarded and st.cwd is not None:
                seen = st.cwd if seen is None else _merge_cwds(seen, st.cwd)
                if seen is None:
                    st.cwd = None  # too many directories to follow: relative writes fail closed
                else:
                    st.exact_cd = True
            try:
                self._walk(child, text, st, depth)
            finally:
                st.exact_cd = False
        if seen is not None:
            st.cwd = None if st.cwd is None else _merge_cwds(seen, st.cwd)

    def _subs(self, node: Any, text: str, st: _State, depth: int) -> None:
        """Walk the substitutions inside a word or assignment."""
        for child in getattr(node, "parts", None) or ():
            kind = getattr(child, "kind", None)
            if kind in ("commandsubstitution", "processsubstitution"):
                self._walk(child.command, text, st, depth)
            elif kind == "parameter" and any(s in str(getattr(child, "value", "")) for s in ("$(", "`", "<(", ">(")):
                st.add(DANGEROUS, _span(child, text), "command substitution inside ${...}, which the parser "
                                                      "does not see into")
            else:
                self._subs(child, text, st, depth)

    def _command(self, node: Any, text: str, st: _State, depth: int) -> None:
        words: list[_Word] = []
        for part in node.parts:
            kind = getattr(part, "kind", None)
            if kind == "assignment":
                self._subs(part, text, st, depth)
                self._assignment(part.word, st)
            elif kind == "word":
                self._subs(part, text, st, depth)
                words.append(_Word(_word_text(part, text), _is_dynamic(part), part))
            elif kind == "redirect":
                self._redirect(part, text, st)
                if getattr(part, "output", None) is not None and not isinstance(part.output, int):
                    self._subs(part.output, text, st, depth)
            else:
                self._walk(part, text, st, depth)
        span = _span(node, text)
        if words:
            self._argv(words, span, st, depth)
        else:
            st.add(SAFE, span, "only assignments or redirections")

    def _assignment(self, word: str, st: _State) -> None:
        name = word.split("=", 1)[0].rstrip("+")
        if name in DANGEROUS_ENV or name.startswith("BASH_FUNC_"):
            st.add(DANGEROUS, word, f"sets {name}, which changes what later programs run or load")

    def _redirect(self, node: Any, text: str, st: _State) -> None:
        rtype = getattr(node, "type", "")
        out = getattr(node, "output", None)
        heredoc = getattr(node, "heredoc", None)
        if heredoc is not None:
            body = str(getattr(heredoc, "value", ""))
            if any(s in body for s in ("$(", "`", "<(", ">(")):
                st.add(DANGEROUS, _span(node, text), "a here-document with command substitution, which runs "
                                                     "when the shell expands it")
            return
        if out is None or isinstance(out, int):
            return
        if _is_dynamic(out) and rtype not in WRITE_REDIRECTS:
            return  # reading from a computed path: the substitution inside was walked
        target = _word_text(out, text)
        if _is_bash_network_path(target) or _is_bash_network_path(posixpath.normpath(target)):
            st.add(NETWORK, _span(node, text), f"redirects to {target}, a network connection opened by the shell")
            return
        if rtype not in WRITE_REDIRECTS:
            return
        if rtype == ">&" and target.isdigit():
            return  # fd duplication such as 2>&1
        self._target(_Word(target, _is_dynamic(out), out), _span(node, text), st, "redirects output to")

    def _target(self, word: _Word, part: str, st: _State, verb: str = "writes") -> None:
        """Record a path the line writes and classify it."""
        raw = word.text
        if raw in HARMLESS_TARGETS:
            return
        if word.dynamic or "$" in raw or "`" in raw:
            st.add(DANGEROUS, part, f"{verb} a path computed at run time ({raw})")
            return
        if any(c in GLOB_CHARS for c in raw) or _has_brace_expansion(raw):
            st.add(DANGEROUS, part, f"{verb} a glob or brace pattern ({raw}), which may name any file")
            return
        absolute = raw.startswith("/") or raw.startswith("~")
        if st.cwd is None and not absolute:
            st.add(DANGEROUS, part, f"{verb} {raw} relative to a directory the classifier cannot follow")
            return
        if _is_bash_network_path(raw):
            st.add(NETWORK, part, f"{verb} {raw}, a network connection opened by the shell")
            return
        bases: tuple[str | None, ...] = (None,) if st.cwd is None else (st.cwd[:1] if absolute else st.cwd)
        for base in bases:
            self._target_from(raw, base, part, st, verb)

    def _target_from(self, raw: str, base: str | None, part: str, st: _State, verb: str) -> None:
        st.checked += 1
        if st.checked > MAX_WRITE_CHECKS:
            if st.checked == MAX_WRITE_CHECKS + 1:
                st.add(DANGEROUS, part, f"writes more than {MAX_WRITE_CHECKS} paths; the rest are not checked")
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
        if check.restricted_by is not None:
            st.add(RESTRICTED, part, f"{verb} {check.normalised}, which matches restricted pattern "
                                     f"{check.restricted_by!r}")
        else:
            st.add(MUTATING, part, f"{verb} {check.normalised}")
        if st.roots is not None and not check.inside_roots:
            st.outside.append(check.normalised)

    # -- one simple command ------------------------------------------------------------

    def _argv(self, words: list[_Word], part: str, st: _State, depth: int) -> None:
        prog = words[0]
        if prog.dynamic or "$" in prog.text or "`" in prog.text:
            st.add(DANGEROUS, part, f"the program name is computed at run time ({prog.text})")
            return
        if any(c in GLOB_CHARS for c in prog.text):
            st.add(DANGEROUS, part, f"the program name is a glob pattern ({prog.text})")
            return
        name = posixpath.basename(prog.text) if "/" in prog.text else prog.text
        key = name.lower() if name.lower() in INTERPRETERS else name
        args = words[1:]
        folded = {d.casefold() for d in self.deny}
        if name.casefold() in folded or prog.text.casefold() in folded:
            st.denied.append(name)
            st.add(DANGEROUS, part, f"{name} is on the manifest's deny list")
            return
        if "/" in prog.text or prog.text.startswith("~"):
            directory = posixpath.dirname("/" + posixpath.normpath(prog.text).lstrip("/")) \
                if prog.text.startswith("/") else None
            if directory not in SYSTEM_BIN_DIRS:
                st.add(DANGEROUS, part, f"runs {prog.text}, a file outside the system's program directories "
                                        "(it may be anything)")
                return
        if name in st.functions:
            st.add(SAFE, part, f"calls {name}, a function defined in this command line (its body is classified)")
            if not _is_known_program(name):
                return
            # The definition may sit in a branch that does not run or in a subshell; then the
            # real program runs, so a function shadowing a known program is classified as both.
        if name in self.allow or prog.text in self.allow:
            st.add(SAFE, part, f"{name} is on the manifest's allow list")
            self._writes_by_option(name, args, part, st)
            return
        self._option_checks(name, args, part, st, depth)
        handler = _HANDLERS.get(key) or _HANDLERS.get(_family(key))
        if handler is not None:
            handler(self, name, args, part, st, depth)
            return
        if name in READ_ONLY:
            st.add(SAFE, part, f"{name} is read-only")
            self._writes_by_option(name, args, part, st)
            return
        if name in NETWORKED:
            st.add(NETWORK, part, f"{name} {NETWORKED[name]}")
            self._writes_by_option(name, args, part, st)
            return
        if name in MUTATES:
            st.add(MUTATING, part, f"{name} {MUTATES[name]}")
            self._file_writes(name, args, part, st)
            return
        base = name.split(".", 1)[0]
        if name in DESTRUCTIVE or base in DESTRUCTIVE:
            st.add(DANGEROUS, part, f"{name} {DESTRUCTIVE.get(name) or DESTRUCTIVE[base]}")
            self._file_writes(name, args, part, st)
            return
        st.add(DANGEROUS, part, f"{name} is not a program the classifier knows")

    def _option_checks(self, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
        """Options that run commands or write directories, whatever the program's usual class."""
        danger = DANGER_OPTIONS.get(name)
        if danger:
            for w in args:
                if _matches_option(w.text, danger):
                    st.add(DANGEROUS, part, f"{name} {w.text} runs another command or does more than {name} "
                                            "usually does")
                    break
        if name in ("less", "more") and any(w.text.startswith("+") for w in args):
            st.add(DANGEROUS, part, f"{name} +COMMAND runs a pager command, which may run a shell (!)")
        if name == "socat" and any(k in w.text.lower() for w in args for k in (
                "exec:", "system:", "open:", "create:", "creat:", "gopen:", "pipe:", "unix-", "pty")):
            st.add(DANGEROUS, part, "socat with an EXEC/SYSTEM/file address runs a command or writes a file")
        if name in ("ssh", "scp", "sftp", "rsync", "git") and any(
                k in w.text.lower() for w in args for k in ("proxycommand", "localcommand", "proxyjump=|",
                                                            "knownhostscommand", "pkcs11provider",
                                                            "securitykeyprovider")) or (
                name in ("ssh", "scp", "sftp") and any("include" in w.text.lower() for w in args)):
            st.add(DANGEROUS, part, f"{name} with ProxyCommand/LocalCommand runs a local command")
        if name == "rsync":
            for value in _option_values(args, {"-e", "--rsh"}):
                st.add(SAFE, part, "rsync -e runs a remote-shell command")
                self._parse_string(value, part, st, depth, "rsync -e")
        dirs = DIRECTORY_OPTIONS.get(name) or DIRECTORY_OPTIONS.get(_family(name))
        if dirs:
            for value in _option_values(args, dirs):
                self._target(value, part, st, "writes into")
        if name == "uniq":
            operands = _operands(args)
            if len(operands) >= 2:
                self._target(operands[1], part, st)
        if name == "git":
            for value in _option_values(args, {"--output"}):
                self._target(value, part, st)

    def _run(self, args: list[_Word], part: str, st: _State, depth: int, via: str) -> None:
        """Classify the command a wrapper runs (or note that it runs none)."""
        if not args:
            st.add(SAFE, part, f"{via} runs no other program")
            return
        self._argv(args, part, st, depth)

    def _parse_string(self, word: _Word | None, part: str, st: _State, depth: int, via: str) -> None:
        if word is None:
            st.add(DANGEROUS, part, f"{via} without a command string reads commands from elsewhere")
        elif word.dynamic:
            st.add(DANGEROUS, part, f"{via} runs a command string computed at run time")
        else:
            self._parse(word.text, st, depth + 1)

    # -- writes made by ordinary programs -------------------------------------------

    def _writes_by_option(self, name: str, args: list[_Word], part: str, st: _State) -> None:
        options = OUTPUT_OPTIONS.get(name)
        if options:
            for value in _option_values(args, options):
                self._target(value, part, st)
        special = _OUTPUT_RULES.get(name)
        if special is not None:
            for w in special(args):
                self._target(w, part, st)

    def _file_writes(self, name: str, args: list[_Word], part: str, st: _State) -> None:
        operands = _operands(args)
        if name in COMPRESSORS:
            for w in operands:
                self._target(w, part, st)
                stem, ext = posixpath.splitext(w.text)
                if ext.lower() in (".gz", ".bz2", ".xz", ".zst", ".lz", ".lzma", ".z", ".tgz") and stem:
                    self._target(_Word(stem, w.dynamic), part, st, "decompresses into")
                else:
                    suffix = COMPRESSORS[name.removeprefix("un")]
                    self._target(_Word(w.text + suffix, w.dynamic), part, st, "compresses into")
            return
        if name == "install" and any(w.text in ("-d", "--directory") or (w.text.startswith("-") and not
                                     w.text.startswith("--") and "d" in w.text[1:]) for w in args):
            for w in _operands(_strip_option_values(args, frozenset({"-m", "--mode", "-o", "--owner", "-g",
                                                                     "--group"}))):
                self._target(w, part, st, "creates")
            return
        if name in ("mktemp", "split", "patch") and operands:
            # mktemp TEMPLATE; split INPUT PREFIX; patch FILE
            chosen = operands[-1:] if name == "mktemp" else operands[1:2] if name == "split" else operands[:1]
            for w in chosen:
                self._target(w, part, st)
            return
        if name in ("touch", "mkdir", "rm", "shred", "unlink", "truncate", "chmod", "chown", "chgrp", "chattr",
                    "rmdir", "tee", "setfacl", "mkfifo"):
            if name in ("chmod", "chown", "chgrp", "setfacl") and operands:
                operands = operands[1:]  # the mode / owner comes first
            for w in operands:
                self._target(w, part, st)
        elif name in ("cp", "mv", "ln", "install"):
            operands = _operands(_strip_option_values(args, frozenset({"-m", "--mode", "-o", "--owner", "-g",
                                                                       "--group", "-S", "--suffix", "-t",
                                                                       "--target-directory"})))
            target_dir = _option_values(args, {"-t", "--target-directory"})
            sources = operands if target_dir else operands[:-1]
            if not target_dir and operands and (len(operands) >= 2 or name == "ln"):
                target_dir = [operands[-1]]
            for d in target_dir:
                self._target(d, part, st)
                # the destination may be a directory: each source lands inside it under its own name
                for src in sources:
                    leaf = posixpath.basename(src.text.rstrip("/"))
                    if leaf and leaf not in (".", ".."):
                        self._target(_Word(posixpath.join(d.text, leaf), d.dynamic or src.dynamic), part, st,
                                     "may write")
            if name == "mv":
                for w in sources:
                    self._target(w, part, st, "moves away")
            if name == "ln":
                # writing through the new link writes what it points to (a hard link shares the file)
                symbolic = any(w.text in ("-s", "--symbolic") or (w.text.startswith("-") and not
                               w.text.startswith("--") and "s" in w.text[1:]) for w in args)
                link_dir = posixpath.dirname(target_dir[0].text) if target_dir and symbolic else ""
                for src in sources:
                    if symbolic and link_dir and not src.text.startswith(("/", "~")):
                        src = _Word(posixpath.join(link_dir, src.text), src.dynamic)
                    self._target(src, part, st, "links to")
        elif name == "dd":
            for w in args:
                if w.text.startswith("of="):
                    self._target(_Word(w.text[3:], w.dynamic), part, st)
        elif name in OUTPUT_OPTIONS or name in _OUTPUT_RULES:
            self._writes_by_option(name, args, part, st)


# -- handlers for programs that need their arguments read ----------------------------

Handler = Callable[[ShellClassifier, str, list[_Word], str, _State, int], None]


def _wrapper(value_options: frozenset[str], via_word: str | None = None) -> Handler:
    def handle(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
        rest = _skip_options(args, value_options)
        if name == "timeout" and rest:
            rest = rest[1:]  # the duration
        st.add(SAFE, part, f"{name} runs the program that follows")
        sc._run(rest, part, st, depth, name)

    return handle


def _env(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    i = 0
    while i < len(args):
        t = args[i].text
        if t.startswith("-") and not t.startswith("--") and len(t) > 2 and any(c in t[1:] for c in "SuC"):
            # a cluster such as -iS'cmd' or -iu NAME: split it into single options
            k = next(j for j, c in enumerate(t[1:], 1) if c in "SuC")
            if k > 1:
                t = "-" + t[k:]
                args = args[:i] + [_Word(t, args[i].dynamic)] + args[i + 1:]
        if t in ("-S", "--split-string") or t.startswith("--split-string=") or (t.startswith("-S") and len(t) > 2):
            if t in ("-S", "--split-string"):
                string = args[i + 1] if i + 1 < len(args) else None
            else:
                string = _Word(t.split("=", 1)[1] if "=" in t else t[2:], args[i].dynamic)
            st.add(SAFE, part, "env -S splits a command string")
            sc._parse_string(string, part, st, depth, "env -S")
            return
        if t in ("-u", "--unset", "-C", "--chdir"):
            if t in ("-C", "--chdir"):
                st.cwd = None
            i += 2
            continue
        if t.startswith("--chdir=") or (t.startswith("-C") and len(t) > 2):
            st.cwd = None  # the program runs in another directory
            i += 1
            continue
        if t == "--":
            i += 1
            break
        if t.startswith("-"):
            i += 1
            continue
        if "=" in t and not t.startswith("="):
            sc._assignment(t, st)
            i += 1
            continue
        break
    st.add(SAFE, part, "env runs the program that follows")
    sc._run(args[i:], part, st, depth, "env")


def _privileged(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    st.add(DANGEROUS, part, f"{name} runs a program with other privileges")
    if name == "su":
        for i, w in enumerate(args):
            if w.text in ("-c", "--command") and i + 1 < len(args):
                sc._parse_string(args[i + 1], part, st, depth, "su -c")
        return
    if any(w.text in ("-D", "--chdir") or w.text.startswith("--chdir=") for w in args):
        st.cwd = None  # the program runs in another directory
    rest = _skip_options(args, frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user",
                                          "--group", "--chdir", "--host", "--prompt", "--role", "--type",
                                          "--other-user", "--close-from", "--command-timeout"}))
    if rest:
        sc._argv(rest, part, st, depth)


def _shell(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    for i, w in enumerate(args):
        t = w.text
        if t.startswith("-") and not t.startswith("--") and "c" in t[1:]:
            string = args[i + 1] if i + 1 < len(args) else None
            st.add(SAFE, part, f"{name} -c runs a command string")
            sc._parse_string(string, part, st, depth, f"{name} -c")
            return
        if not t.startswith("-") and not t.startswith("+"):
            break
    if args and all(w.text in VERSION_FLAGS for w in args):
        st.add(SAFE, part, f"{name} only prints its version")
        return
    st.add(DANGEROUS, part, f"{name} runs a script or reads commands from stdin, which cannot be seen into")


def _interpreter(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    if args and all(w.text in VERSION_FLAGS for w in args):
        st.add(SAFE, part, f"{name} only prints its version")
        return
    inline = next((w.text for w in args if w.text in ("-c", "-e", "-E", "-r", "--eval", "-p", "--print",
                                                      "-command", "-Command", "-x")), None)
    if inline:
        st.add(DANGEROUS, part, f"{name} {inline} runs inline code the classifier cannot see into")
    else:
        st.add(DANGEROUS, part, f"{name} runs a program (script, module or stdin) the classifier cannot see into")


def _cd(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    """Follow the working directory, so later relative writes resolve where the shell would write.

    A `cd` can fail (`cd /etc; cd missing; echo x > passwd` writes /etc/passwd),
    sit in a subshell or pipeline, or sit in a branch that does not run, so the
    directory it names is *added* to the directories the shell may be in; a
    later relative write is checked against each of them.
    """
    st.add(SAFE, part, f"{name} changes the working directory")
    exact, st.exact_cd = st.exact_cd, False
    operands = _operands(args)
    if name == "popd" or (name == "pushd" and not operands):
        st.cwd = None
        return
    w = operands[0] if operands else _Word("~", False)
    if w.dynamic or w.text == "-" or any(c in GLOB_CHARS for c in w.text) or "$" in w.text or "`" in w.text \
            or _has_brace_expansion(w.text):
        st.cwd = None
        return
    if st.cwd is None:
        if w.text.startswith("/") or w.text.startswith("~"):
            try:
                st.cwd = (sc.paths.normalise(w.text),)
            except PathError:
                st.cwd = None
        return
    try:
        new = tuple(sc.paths.normalise(w.text, c) for c in st.cwd)
    except PathError:
        st.cwd = None
        return
    merged = tuple(dict.fromkeys(new)) if exact else _merge_cwds(st.cwd, new)
    st.cwd = merged if merged is not None and len(merged) <= MAX_CWD_CANDIDATES else None


def _merge_cwds(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...] | None:
    merged = tuple(dict.fromkeys(a + b))
    return merged if len(merged) <= MAX_CWD_CANDIDATES else None


def _is_cd(node: Any) -> bool:
    """Whether `node` is a plain `cd DIR` command."""
    parts = getattr(node, "parts", None) or ()
    return getattr(node, "kind", None) == "command" and bool(parts) and \
        getattr(parts[0], "kind", None) == "word" and getattr(parts[0], "word", None) == "cd"


def _declare(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    """export/declare/typeset/local/readonly: their NAME=VALUE words are assignments too."""
    st.add(SAFE, part, f"{name} sets shell variables")
    if any(w.text.startswith("-") and "n" in w.text[1:] and name != "export" for w in args):
        st.add(DANGEROUS, part, f"{name} -n makes a name reference, which can assign any variable (PATH, ...)")
    for w in args:
        if w.dynamic and not w.text.startswith("-"):
            st.add(DANGEROUS, part, f"{name} sets a variable whose name is computed at run time ({w.text})")
        elif "=" in w.text and not w.text.startswith("-"):
            sc._assignment(w.text, st)


def _sets_variables(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    """read NAME..., printf -v NAME, getopts: builtins that assign shell variables named by their arguments."""
    names: list[_Word] = []
    if name == "printf":
        names = _option_values(args, {"-v"})
    elif name == "read":
        names = _operands(_strip_option_values(args, frozenset({"-d", "-i", "-n", "-N", "-p", "-t", "-u"})))
        names += _option_values(args, {"-a"})
    elif name == "getopts":
        operands = _operands(args)
        names = operands[1:2]
    for w in names:
        if w.dynamic or "$" in w.text:
            st.add(DANGEROUS, part, f"{name} assigns a variable whose name is computed at run time ({w.text})")
        else:
            sc._assignment(w.text + "=", st)
    st.add(SAFE, part, f"{name} is read-only")


def _eval(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    if any(w.dynamic for w in args):
        st.add(DANGEROUS, part, f"{name} runs a string computed at run time")
        return
    st.add(SAFE, part, f"{name} runs its arguments as a command line")
    if args:
        sc._parse(" ".join(w.text for w in args), st, depth + 1)


def _trap(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    operands = [w for w in args if not w.text.startswith("-")]
    st.add(SAFE, part, "trap sets a handler")
    if len(operands) >= 2 and operands[0].text not in ("", "-"):
        sc._parse_string(operands[0], part, st, depth, "trap")


def _watch(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    rest = _skip_options(args, frozenset({"-n", "--interval", "-d", "--differences", "-q", "--equexit"}))
    st.add(SAFE, part, "watch repeats the command that follows")
    if not rest:
        st.add(DANGEROUS, part, "watch without a command")
        return
    if any(w.dynamic for w in rest):
        st.add(DANGEROUS, part, "watch runs a command computed at run time")
        return
    sc._parse(" ".join(w.text for w in rest), st, depth + 1)


def _busybox(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    if not args or args[0].text.startswith("-"):
        st.add(SAFE, part, f"{name} lists its applets")
        return
    st.add(SAFE, part, f"{name} runs the applet that follows")
    sc._argv(args, part, st, depth)


def _command_builtin(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    if any(w.text in ("-v", "-V") for w in args):
        st.add(SAFE, part, f"{name} -v only looks a program up")
        return
    rest = _skip_options(args, frozenset())
    st.add(SAFE, part, f"{name} runs the program that follows")
    sc._run(rest, part, st, depth, name)


def _exec(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    rest = _skip_options(args, frozenset({"-a"}))
    st.add(SAFE, part, "exec replaces the shell with the program that follows")
    sc._run(rest, part, st, depth, "exec")


def _xargs(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    rest = _skip_options(args, frozenset({"-a", "-d", "-E", "-e", "-I", "-L", "-l", "-n", "-P", "-s", "--arg-file",
                                          "--delimiter", "--eof", "--replace", "--max-lines", "--max-args",
                                          "--max-procs", "--max-chars", "--process-slot-var"}))
    st.add(SAFE, part, "xargs runs the program that follows with arguments from stdin")
    if rest:
        sc._argv(rest, part, st, depth)
    else:
        st.add(SAFE, part, "xargs without a command runs echo")


def _find(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    st.add(SAFE, part, "find searches files")
    i = 0
    while i < len(args):
        t = args[i].text
        if t in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j].text not in (";", "+", "\\;"):
                j += 1
            sc._run(args[i + 1:j], part, st, depth, f"find {t}")
            i = j + 1
            continue
        if t == "-delete":
            st.add(DANGEROUS, part, "find -delete deletes files")
        elif t in ("-fprint", "-fprint0", "-fls", "-fprintf") and i + 1 < len(args):
            sc._target(args[i + 1], part, st)
        i += 1


def _sed(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    in_place = any(w.text.startswith("-i") or w.text.startswith("--in-place") or
                   (w.text.startswith("-") and not w.text.startswith("--") and "i" in w.text[1:]) for w in args)
    scripts: list[str] = []
    files: list[_Word] = []
    explicit = False
    i = 0
    while i < len(args):
        t = args[i].text
        if t in ("-e", "--expression") and i + 1 < len(args):
            scripts.append(args[i + 1].text)
            explicit = True
            i += 2
            continue
        if t.startswith("--expression="):
            scripts.append(t.split("=", 1)[1])
            explicit = True
        elif t in ("-f", "--file") or t.startswith("--file="):
            st.add(DANGEROUS, part, "sed -f runs a script file the classifier cannot see into")
            i += 2 if t in ("-f", "--file") else 1
            explicit = True
            continue
        elif t.startswith("-") and t != "-":
            pass
        elif not explicit and not scripts:
            scripts.append(t)
        else:
            files.append(args[i])
        i += 1
    verdict = _sed_script_effect(scripts)
    if verdict is DANGEROUS:
        st.add(DANGEROUS, part, "the sed script runs commands (e) or writes files (w)")
    if in_place:
        st.add(MUTATING, part, "sed -i edits files in place")
        for w in files:
            sc._target(w, part, st, "edits")
    elif verdict is not DANGEROUS:
        st.add(SAFE, part, "sed without -i only prints")


def _awk(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    program: str | None = None
    i = 0
    while i < len(args):
        t = args[i].text
        if t in ("-f", "--file") or t.startswith("-f"):
            st.add(DANGEROUS, part, f"{name} -f runs a program file the classifier cannot see into")
            return
        if t in ("-E", "--exec", "-l", "--load") or t.startswith(("-E", "-l", "--exec=", "--load=")):
            st.add(DANGEROUS, part, f"{name} {t} runs a program file or loads a shared library")
            return
        if t in ("-e", "--source") or t.startswith("--source="):
            source = t.split("=", 1)[1] if "=" in t else (args[i + 1].text if i + 1 < len(args) else "")
            program = (program or "") + "\n" + source
            i += 1 if "=" in t else 2
            continue
        if t in ("-v", "-F", "--assign", "--field-separator"):
            i += 2
            continue
        if t in ("-i", "--include"):
            library = args[i + 1].text if i + 1 < len(args) else ""
            if library == "inplace":
                st.add(MUTATING, part, f"{name} -i inplace edits files in place")
            else:
                st.add(DANGEROUS, part, f"{name} {t} loads a library file the classifier cannot see into")
            i += 2
            continue
        if t.startswith("-"):
            i += 1
            continue
        if program is None:
            program = t
        break
    if program is None:
        st.add(DANGEROUS, part, f"{name} without a program text")
    elif "system" in program or "|" in program or "ENVIRON" in program or "@" in program or "/inet" in program:
        st.add(DANGEROUS, part, f"the {name} program runs commands (system, a pipe, @include/@load or an "
                                "indirect call) or opens network connections")
    elif ">" in program:
        st.add(MUTATING, part, f"the {name} program may write files (>)")
        for literal in _AWK_OUTPUT.findall(program):
            sc._target(_Word(literal, False), part, st, f"the {name} program writes")
        if re.search(r">\s*[^\s\"=]", program) and re.search(r"print[f]?\b[^;}]*>\s*[^\s\"=>]", program):
            st.add(DANGEROUS, part, f"the {name} program writes to a file named at run time")
    else:
        st.add(SAFE, part, f"the {name} program only reads and prints")


def _git(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        t = args[i].text
        if t == "-c" or t.startswith("--config-env") or t.startswith("--exec-path="):
            st.add(DANGEROUS, part, f"git {t} sets configuration that can run commands")
            return
        i += 2 if t in ("-C", "--git-dir", "--work-tree", "--namespace") else 1
    if i >= len(args):
        st.add(SAFE, part, "git without a subcommand prints help")
        return
    sub = args[i].text
    rest = {w.text for w in args[i + 1:]}
    _git_extras(sc, sub, args[i + 1:], part, st)
    if sub == "config":
        _git_config(sc, args[i + 1:], part, st)
        return
    if sub == "push" and rest & {"-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d"}:
        st.add(DANGEROUS, part, "git push --force/--delete rewrites a remote")
    elif (sub == "submodule" and "foreach" in rest) or (sub == "bisect" and "run" in rest) or \
            (sub == "rebase" and rest & {"-x", "--exec"}) or any(w.startswith("--exec=") for w in rest) or \
            (sub == "clone" and "-u" in rest) or (sub == "grep" and any(w.startswith("-O") for w in rest)):
        st.add(DANGEROUS, part, f"git {sub} runs a command given on the command line")
    elif sub in GIT_NETWORK:
        st.add(NETWORK, part, f"git {sub} talks to a remote")
    elif sub == "reset" and "--hard" in rest or sub == "clean" or sub in ("filter-branch", "filter-repo") or \
            (sub == "branch" and rest & {"-D", "--delete", "-d"}) or (sub == "stash" and rest & {"drop", "clear"}) \
            or (sub == "checkout" and rest & {"-f", "--force"}) or sub in ("mergetool", "difftool"):
        st.add(DANGEROUS, part, f"git {sub} {' '.join(sorted(rest))} discards work or runs external tools".rstrip())
    elif sub == "config" and (rest & {"--get", "--list", "-l", "--get-all", "--get-regexp"} or not rest):
        st.add(SAFE, part, "git config only reads")
    elif sub == "config" and any(k in " ".join(rest).lower() for k in ("alias.", "core.", "pager", "editor",
                                                                          "sshcommand", "hooks", "filter.",
                                                                          "credential", "diff.", "url.")):
        st.add(DANGEROUS, part, "git config sets something that runs commands")
    elif sub == "branch" and not (rest - {"-a", "-r", "-v", "-vv", "--list", "--all", "--remotes",
                                          "--show-current"}):
        st.add(SAFE, part, "git branch lists branches")
    elif sub == "remote" and not (rest - {"-v", "--verbose"}):
        st.add(SAFE, part, "git remote lists remotes")
    elif sub == "remote" and rest & {"update", "show", "prune"}:
        st.add(NETWORK, part, "git remote talks to a remote")
    elif sub in GIT_SAFE:
        st.add(SAFE, part, f"git {sub} only reads")
    elif sub in GIT_MUTATING:
        st.add(MUTATING, part, f"git {sub} changes the repository")
    else:
        st.add(DANGEROUS, part, f"git {sub} is not a git subcommand the classifier knows (it may be an alias)")


GIT_CONFIG_SETTABLE = ("user.name", "user.email", "user.signingkey", "init.defaultbranch", "push.default",
                       "push.autosetupremote", "pull.rebase", "pull.ff", "merge.ff", "fetch.prune", "column.ui",
                       "log.date", "log.decorate", "status.short", "rerere.enabled", "commit.gpgsign", "tag.gpgsign")
GIT_CONFIG_SETTABLE_PREFIXES = ("color.", "advice.")


def _git_extras(sc: ShellClassifier, sub: str, args: list[_Word], part: str, st: _State) -> None:
    """Options of git subcommands that run commands or write files outside the repository."""
    texts = [w.text for w in args]
    if any("ext::" in t or t.startswith("fd::") for t in texts):
        st.add(DANGEROUS, part, f"git {sub} with the ext:: transport runs a command")
    if sub in ("clone", "init", "submodule") and any(
            t in ("-c", "--config", "--template") or t.startswith(("--config=", "--template=")) for t in texts):
        st.add(DANGEROUS, part, f"git {sub} -c/--config/--template sets configuration or hooks that can run "
                                "commands")
    values = frozenset({"-o", "--origin", "-b", "--branch", "--depth", "--reference", "--separate-git-dir",
                        "-j", "--jobs", "--filter", "--shallow-since", "--shallow-exclude", "--bundle-uri",
                        "-c", "--config", "--template", "--remote", "--prefix", "--format", "-s", "--source",
                        "--output", "--object-format", "--initial-branch", "--shared", "--ref-format"})
    operands = _operands(_strip_option_values(args, values))
    if sub == "clone" and operands:
        if len(operands) >= 2:
            sc._target(operands[1], part, st, "clones into")
        else:
            leaf = _url_leaf(operands[0].text.rstrip("/"))
            leaf = leaf[:-4] if leaf.endswith(".git") else leaf
            if leaf and leaf not in (".", ".."):
                sc._target(_Word(leaf, operands[0].dynamic), part, st, "clones into")
    elif sub == "init" and operands:
        sc._target(operands[0], part, st, "creates a repository in")
    elif sub == "archive":
        for value in _option_values(args, {"-o", "--output"}):
            sc._target(value, part, st)
    elif sub == "restore":
        for w in operands:
            sc._target(w, part, st, "restores")
    elif sub == "checkout" and "--" in texts:
        for w in args[texts.index("--") + 1:]:
            sc._target(w, part, st, "restores")
    elif sub == "mv" and len(operands) >= 2:
        sc._target(operands[-1], part, st)
    elif sub == "rm":
        for w in operands:
            sc._target(w, part, st, "deletes")
    elif sub == "submodule" and "add" in texts and len(operands) >= 3:
        sc._target(operands[-1], part, st, "clones into")
    elif sub == "worktree" and operands[:1] and operands[0].text == "add":
        rest = _operands(_strip_option_values(args[texts.index("add") + 1:], frozenset({"-b", "-B", "--reason"})))
        if rest:
            sc._target(rest[0], part, st, "checks out into")
    elif sub == "help" and any(t in ("-w", "--web") for t in texts):
        st.add(DANGEROUS, part, "git help --web starts a browser command")


def _git_config(sc: ShellClassifier, args: list[_Word], part: str, st: _State) -> None:
    """git config: reading is safe; setting a key that can run commands or redirect remotes is dangerous."""
    texts = [w.text for w in args]
    files = _option_values(args, {"-f", "--file"})
    for w in files:
        sc._target(w, part, st, "git config writes")
    if any(t in ("-e", "--edit", "edit") for t in texts):
        st.add(DANGEROUS, part, "git config --edit opens an editor")
        return
    if any(t.startswith("--blob") for t in texts):
        st.add(SAFE, part, "git config reads a blob")
    operands = _operands(_strip_option_values(args, frozenset({"-f", "--file", "--blob", "--type", "--default",
                                                               "--comment", "--value"})))
    words = [w.text for w in operands]
    read_flags = {"--get", "--list", "-l", "--get-all", "--get-regexp", "--get-urlmatch", "--get-color",
                  "--get-colorbool", "--show-origin", "--show-scope", "--name-only"}
    if words and words[0] in ("get", "list"):
        st.add(SAFE, part, "git config only reads")
        return
    if words and words[0] in ("set", "unset", "rename-section", "remove-section"):
        words = words[1:]
    elif set(texts) & read_flags or len(words) <= 1 and not set(texts) & {
            "--unset", "--unset-all", "--add", "--replace-all", "--rename-section", "--remove-section"}:
        st.add(SAFE, part, "git config only reads")
        return
    key = words[0].lower() if words else ""
    if any(key == k for k in GIT_CONFIG_SETTABLE) or key.startswith(GIT_CONFIG_SETTABLE_PREFIXES):
        st.add(MUTATING, part, f"git config sets {key}")
    else:
        st.add(DANGEROUS, part, f"git config sets {key or 'a key'}, which may run commands, change hooks, "
                                "credentials or where the repository talks to")
    if "--global" in texts:
        sc._target(_Word("~/.gitconfig", False), part, st, "git config writes")
    if "--system" in texts:
        sc._target(_Word("/etc/gitconfig", False), part, st, "git config writes")


def _package_manager(safe: frozenset[str], network: frozenset[str]) -> Handler:
    def handle(sc: ShellClassifier, name: str, args: list[_Word], part: str, st: _State, depth: int) -> None:
        operands = [w.text for w in args if not w.text.startswith("-")]
        sub = operands[0] if operands else ""
        flags = {w.text for w in args if w.text.startswith("-")}
        if args and all(w.text in VERSION_FLAGS for w in args):
            st.add(SAFE, part, f"{name} only prints its version")
        elif sub == "config" and len(operands) > 1 and operands[1] not in ("get", "list", "ls"):
            st.add(DANGEROUS, part, f"{name} config {operands[1]} changes configuration that can run commands "
                                    "(script-shell, registries, tokens)")
        elif name == "go" and sub == "env" and flags & {"-w", "-u"}:
            st.add(DANGEROUS, part, "go env -w changes build settings that can run commands (GOFLAGS=-toolexec)")
        elif name == "pip" and sub == "list" and flags & {"-o", "--outdated", "-u", "--uptodate"}:
            st.add(NETWORK, part, "pip list --outdated asks the package index")
        elif name in ("npm", "yarn", "pnpm") and sub in ("install", "i", "ci", "add", "update", "upgrade", "") \
                and not flags & {"--ignore-scripts", "--version", "-v", "--help", "-h"}:
            st.add(DANGEROUS, part, f"{name} {sub or 'install'} runs the packages' install scripts "
                                    "(use --ignore-scripts)".replace("  ", " "))
        elif name == "pip" and sub in ("install", "wheel") and (flags & {"-e", "--editable"} or any(
                o in (".", "..") or o.startswith(("./", "../", "/", "~", "file:", "git+")) or
                o.endswith((".py", ".tar.gz", ".zip")) for o in operands[1:])):
            st.add(DANGEROUS, part, f"pip {sub} of a local project, archive or VCS URL runs its build code")
        elif sub in safe:
            st.add(SAFE, part, f"{name} {sub} only reads")
        elif sub in network:
            st.add(NETWORK, part, f"{name} {sub} downloads packages")
        else:
            st.add(DANGEROUS, part, f"{name} {sub} runs package scripts or is not known".replace("  ", " "))

    return handle


_HANDLERS: dict[str, Handler] = {
    "env": _env,
    "nohup": _wrapper(frozenset()),
    "timeout": _wrapper(frozenset({"-s", "-k", "--signal", "--kill-after"})),
    "nice": _wrapper(frozenset({"-n", "--adjustment"})),
    "time": _wrapper(frozenset({"-f", "--format", "-o", "--output"})),
    "stdbuf": _wrapper(frozenset({"-i", "-o", "-e", "--input", "--output", "--error"})),
    "ionice": _wrapper(frozenset({"-c", "-n", "--class", "--classdata"})),
    "setsid": _wrapper(frozenset()),
    "unbuffer": _wrapper(frozenset()),
    "caffeinate": _wrapper(frozenset()),
    "chrt": _wrapper(frozenset()),
    "taskset": _wrapper(frozenset()),
    "builtin": _wrapper(frozenset()),
    "command": _command_builtin,
    "exec": _exec,
    "xargs": _xargs,
    "sudo": _privileged, "doas": _privileged, "su": _privileged, "pkexec": _privileged, "runuser": _privileged,
    "eval": _eval,
    "cd": _cd, "pushd": _cd, "popd": _cd,
    "export": _declare, "declare": _declare, "typeset": _declare, "local": _declare, "readonly": _declare,
    "trap": _trap,
    "read": _sets_variables, "printf": _sets_variables, "getopts": _sets_variables,
    "watch": _watch,
    "busybox": _busybox, "toybox": _busybox,
    "find": _find,
    "sed": _sed,
    "awk": _awk, "gawk": _awk, "mawk": _awk, "nawk": _awk,
    "git": _git,
    "pip": _package_manager(frozenset({"list", "show", "freeze", "check", "help"}),
                            frozenset({"install", "download", "wheel", "index", "search"})),
    "npm": _package_manager(frozenset({"ls", "list", "help", "config", "root", "prefix"}),
                            frozenset({"install", "i", "ci", "add", "update", "publish", "view", "info",
                                       "search", "pack", "audit", "outdated"})),
    "yarn": _package_manager(frozenset({"list", "info", "why"}), frozenset({"add", "install", "upgrade"})),
    "pnpm": _package_manager(frozenset({"list", "ls", "why"}), frozenset({"add", "install", "i", "update"})),
    "gem": _package_manager(frozenset({"list"}), frozenset({"install", "fetch", "update", "search"})),
    "brew": _package_manager(frozenset({"list", "--prefix"}),
                             frozenset({"install", "fetch", "update", "upgrade", "info", "search"})),
    "cargo": _package_manager(frozenset(), frozenset({"fetch", "search", "add"})),
    "go": _package_manager(frozenset({"version", "env", "list", "doc"}), frozenset({"get", "mod", "install"})),
    # `uv sync` builds and installs the local project, which runs its build code: not in either set
    "uv": _package_manager(frozenset(), frozenset({"add", "lock", "pip"})),
}
for _name in SHELLS:
    _HANDLERS[_name] = _shell
for _name in INTERPRETERS:
    _HANDLERS[_name] = _interpreter
_HANDLERS["pip3"] = _HANDLERS["pip"]


def _family(name: str) -> str:
    """Map versioned names (python3.11, pip3.12, node18, perl5.36) to their family."""
    for family in ("python", "pip", "pypy", "node", "perl", "ruby", "php", "lua"):
        if name.startswith(family) and name[len(family):].replace(".", "").isdigit():
            return family if family != "pip" else "pip"
    return name


# Options whose value is a file the program writes.
OUTPUT_OPTIONS: dict[str, frozenset[str]] = {
    "sort": frozenset({"-o", "--output"}),
    "tree": frozenset({"-o"}),
    "info": frozenset({"-o", "--output"}),
    "shuf": frozenset({"-o", "--output"}),
    "base64": frozenset({"-o", "--output"}),
    "patch": frozenset({"-o", "--output", "-B", "--prefix"}),
    "ssh": frozenset({"-E"}),
    "rsync": frozenset({"--log-file", "--write-batch", "--only-write-batch"}),
    "http": frozenset({"-o", "--output"}),
    "https": frozenset({"-o", "--output"}),
    "curl": frozenset({"-o", "--output", "-D", "--dump-header", "-c", "--cookie-jar", "--trace", "--trace-ascii",
                       "--libcurl", "--etag-save", "--stderr", "--hsts", "--alt-svc"}),
    "wget": frozenset({"-O", "--output-document", "-o", "--output-file", "-a", "--append-output"}),
    "zip": frozenset(),
}


def _url_leaf(url: str) -> str:
    """The file name a downloader saves URL under by default (its last path segment)."""
    path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    leaf = path.rsplit("/", 1)[-1] if "/" in path else ""
    return leaf or "index.html"


def _copy_destination(args: list[_Word]) -> list[_Word]:
    """rsync/scp: the last operand is written when it is local (no `host:`)."""
    operands = _operands(_strip_option_values(args, frozenset({"-e", "--rsh", "-i", "-F", "-o", "-P", "-l", "-c",
                                                               "-S", "-J", "--exclude", "--include", "-f",
                                                               "--filter", "--files-from", "--port"})))
    if len(operands) < 2:
        return []
    dest = operands[-1]
    head = dest.text.split("/", 1)[0]
    if ":" in head or dest.text.startswith("rsync://"):
        return []
    leaves = [posixpath.basename(w.text.split(":", 1)[-1].rstrip("/")) for w in operands[:-1]]
    return [dest] + [_Word(posixpath.join(dest.text, leaf), dest.dynamic) for leaf in leaves if
                     leaf not in ("", ".", "..")]


def _curl_outputs(args: list[_Word]) -> list[_Word]:
    """curl -O / --remote-name(-all) saves each URL under its own name (in --output-dir)."""
    flags = [w.text for w in args]
    remote = "--remote-name-all" in flags or any(
        t in ("-O", "--remote-name") or (t.startswith("-") and not t.startswith("--") and "O" in t[1:])
        for t in flags)
    if not remote:
        return []
    dirs = _option_values(args, {"--output-dir"})
    base = dirs[0].text if dirs else ""
    urls = [w for w in _operands(args) if "://" in w.text or "." in w.text]
    return [_Word(posixpath.join(base, _url_leaf(u.text)) if base else _url_leaf(u.text), u.dynamic)
            for u in urls]


def _wget_outputs(args: list[_Word]) -> list[_Word]:
    """wget without -O saves each URL under its own name (in -P DIR)."""
    if _option_values(args, {"-O", "--output-document"}):
        return []
    dirs = _option_values(args, {"-P", "--directory-prefix"})
    out: list[_Word] = list(dirs)
    base = dirs[0].text if dirs else ""
    values = {id(w) for w in _option_values(args, {"-O", "-o", "-a", "-P", "-e", "-i", "--execute",
                                                   "--input-file", "-U", "--user-agent"})}
    for u in _operands(args):
        if id(u) in values or not ("://" in u.text or "." in u.text):
            continue
        leaf = _url_leaf(u.text)
        out.append(_Word(posixpath.join(base, leaf) if base else leaf, u.dynamic))
    return out


def _tar_archive(args: list[_Word]) -> list[_Word]:
    """The archive tar creates or appends to (`-cf X`, `cf X`, `-cfX`, `--file=X`)."""
    if not args:
        return []
    first = args[0].text
    clusters = [w for w in args if w.text.startswith("-") and not w.text.startswith("--")]
    letters = "".join(w.text[1:] for w in clusters) + (first if not first.startswith("-") else "")
    long_modes = {w.text for w in args if w.text.startswith("--")}
    writes = any(c in letters for c in "cruA") or long_modes & {"--create", "--append", "--update", "--concatenate"}
    if not writes:
        return []
    out: list[_Word] = []
    for i, w in enumerate(args):
        t = w.text
        cluster = t[1:] if t.startswith("-") and not t.startswith("--") else (t if i == 0 else "")
        if "f" in cluster:
            rest = cluster[cluster.index("f") + 1:]
            if rest:
                out.append(_Word(rest, w.dynamic))
            elif i + 1 < len(args):
                out.append(args[i + 1])
    return out


def _zip_archive(args: list[_Word]) -> list[_Word]:
    operands = _operands(args)
    return operands[:1]


_OUTPUT_RULES: dict[str, Callable[[list[_Word]], list[_Word]]] = {
    "rsync": _copy_destination, "scp": _copy_destination, "curl": _curl_outputs, "wget": _wget_outputs,
    "tar": _tar_archive, "zip": _zip_archive,
}


# -- helpers ---------------------------------------------------------------------------


def _command_text(command: object) -> str | None:
    if isinstance(command, str):
        return command
    if isinstance(command, (list, tuple)) and command and all(isinstance(a, str) for a in command):
        return shlex.join(command)
    return None


def _children(node: Any) -> list[Any]:
    out: list[Any] = []
    for attr in ("parts", "list", "redirects"):
        value = getattr(node, attr, None)
        if value:
            out.extend(value)
    command = getattr(node, "command", None)
    if command is not None and not isinstance(command, (str, int)):
        out.append(command)
    return out


def _is_dynamic(node: Any) -> bool:
    for child in getattr(node, "parts", None) or ():
        kind = getattr(child, "kind", None)
        if kind in ("parameter", "commandsubstitution", "processsubstitution"):
            return True
        if _is_dynamic(child):
            return True
    return False


def _word_text(node: Any, text: str) -> str:
    """The word as the shell sees it after quote removal.

    bashlex only strips a word's outer quotes (`'r''m'` stays `r''m`), so the
    word is re-read from its source span with POSIX quote rules.
    """
    word = getattr(node, "word", "")
    pos = getattr(node, "pos", None)
    source = text[pos[0]:pos[1]] if pos and 0 <= pos[0] <= pos[1] <= len(text) else word
    if not any(c in source for c in "'\"\\"):
        return word if word else source
    try:
        parts = shlex.split(source, posix=True)
    except ValueError:
        return word
    return parts[0] if len(parts) == 1 else word


def _span(node: Any, text: str) -> str:
    pos = getattr(node, "pos", None)
    if pos and 0 <= pos[0] <= pos[1] <= len(text):
        return _short(text[pos[0]:pos[1]])
    return "?"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _skip_options(args: list[_Word], value_options: frozenset[str]) -> list[_Word]:
    """The words after a wrapper's own options (`--` ends them)."""
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "--":
            return args[i + 1:]
        if not t.startswith("-") or t == "-":
            break
        if t in value_options:
            i += 2
        else:
            i += 1
    return args[i:]


def _option_values(args: list[_Word], options: Iterable[str]) -> list[_Word]:
    wanted = set(options)
    values: list[_Word] = []
    for i, w in enumerate(args):
        t = w.text
        if t in wanted and i + 1 < len(args):
            values.append(args[i + 1])
        elif "=" in t and t.split("=", 1)[0] in wanted and t.startswith("--"):
            values.append(_Word(t.split("=", 1)[1], w.dynamic))
        else:
            for opt in wanted:
                if len(opt) == 2 and opt.startswith("-") and t.startswith(opt) and len(t) > 2 and \
                        not t.startswith("--"):
                    values.append(_Word(t[2:], w.dynamic))
    return values


def _matches_option(text: str, options: frozenset[str]) -> bool:
    if text in options:
        return True
    if text.startswith("--"):
        return text.split("=", 1)[0] in options
    return len(text) > 2 and text[:2] in options and text.startswith("-") and not text.startswith("--")


def _strip_option_values(args: list[_Word], value_options: frozenset[str]) -> list[_Word]:
    """`args` without the values of options that take one (`-p PROMPT`)."""
    out: list[_Word] = []
    skip = False
    for w in args:
        if skip:
            skip = False
            continue
        if w.text in value_options:
            skip = True
            continue
        out.append(w)
    return out


def _operands(args: list[_Word]) -> list[_Word]:
    out: list[_Word] = []
    ended = False
    for w in args:
        if not ended and w.text == "--":
            ended = True
            continue
        if not ended and w.text.startswith("-") and w.text != "-":
            continue
        out.append(w)
    return out


def _sed_script_effect(scripts: list[str]) -> EffectClass:
    """DANGEROUS when a sed script uses the e command or the w/W/e flags or commands.

    Each script is read twice, once as written and once with `{`/`}` blocks
    opened up (`1{e id}`), and is dangerous if either reading says so.
    """
    opened = [s.replace("{", ";").replace("}", ";") for s in scripts]
    for script in list(scripts) + opened:
        for command in script.replace("\n", ";").split(";"):
            c = command.strip().lstrip("0123456789,$!~ ")
            if c.startswith("/"):  # an address /re/
                end = c.find("/", 1)
                c = c[end + 1:].lstrip("0123456789,$!~ I") if end > 0 else c
            if not c:
                continue
            if c[0] in "ewWrR" and not c.startswith("r "):
                if c[0] in "ewW":
                    return DANGEROUS
            if c[0] in "s" and len(c) > 1:
                delim = c[1]
                pieces = _split_unescaped(c[2:], delim)
                if len(pieces) >= 3 and any(ch in "ewW" for ch in pieces[2]):
                    return DANGEROUS
            if c[0] == "y":
                continue
    return SAFE


def _is_known_program(name: str) -> bool:
    return name in READ_ONLY or name in MUTATES or name in DESTRUCTIVE or name in NETWORKED or \
        name in PRIVILEGED or name in _HANDLERS or name.split(".", 1)[0] in DESTRUCTIVE or _family(name) in _HANDLERS


def _has_brace_expansion(word: str) -> bool:
    """Whether bash would expand `{a,b}` or `{1..3}` in this word (so it names other files)."""
    start = word.find("{")
    while start != -1:
        end = word.find("}", start)
        if end == -1:
            return False
        inner = word[start + 1:end]
        if "," in inner or ".." in inner:
            return True
        start = word.find("{", start + 1)
    return False


def _is_bash_network_path(path: str) -> bool:
    """bash opens a socket, not a file, for a redirection to /dev/tcp/HOST/PORT or /dev/udp/HOST/PORT."""
    p = "/" + path.lstrip("/")
    return p.startswith("/dev/tcp/") or p.startswith("/dev/udp/")


def _split_unescaped(text: str, delim: str) -> list[str]:
    out, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch == delim:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _result(text: str, st: _State) -> CommandClassification:
    findings = tuple(st.findings) or (Finding(DANGEROUS, _short(text), "nothing could be classified"),)
    decided = findings[0]
    for f in findings[1:]:
        if f.effect.rank > decided.effect.rank:
            decided = f
    return CommandClassification(text, decided.effect, decided, findings, tuple(dict.fromkeys(st.targets)),
                                 tuple(dict.fromkeys(st.outside)), tuple(dict.fromkeys(st.denied)))


__all__ = ["ShellClassifier", "CommandClassification", "Finding", "MAX_COMMAND_LENGTH", "MAX_DEPTH"]
