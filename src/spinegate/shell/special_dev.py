"""Semantics of developer tools: git sub-commands that write, delete or talk to remotes, and package
managers (whose installs run package code unless told not to).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .model import DANGEROUS, MUTATING, NETWORK, RESTRICTED, SAFE, Program
from .options import ParseResult
from .words import Word

if TYPE_CHECKING:  # pragma: no cover
    from .classify import ShellClassifier, State

Handler = Callable[["ShellClassifier", Program, str, ParseResult, str, "State", int], None]


def _base(p: Program, name: str, part: str, st: State) -> None:
    st.add(p.effect, part, f"{name} {p.why}")


def _words(r: ParseResult) -> list[Word]:
    return list(r.raw)


def _subcommand(r: ParseResult) -> tuple[str, list[str]]:
    """The first word (the sub-command, `?` when a word is computed at run time) and the literal words."""
    words = _words(r)
    texts = [w.text for w in words if w.literal]
    return (texts[0] if texts and len(texts) == len(words) else "?"), texts


def _literal_texts(name: str, r: ParseResult, part: str, st: State) -> list[str] | None:
    """The words as text when every one is known; None (reported SHELL_DANGEROUS) when one is computed at run time."""
    words = _words(r)
    if any(not w.literal for w in words):
        st.add(DANGEROUS, part, f"{name} with a word computed at run time")
        return None
    return [w.text for w in words]


def _transport(name: str, words: list[Word], part: str, st: State) -> None:
    """git's `ext::`/`fd::` transports run commands; any word could be a URL."""
    for w in words:
        if w.dynamic is not None:
            continue
        if "::" in w.text or w.text.startswith("fd::"):
            st.add(DANGEROUS, part, f"{name} with a transport helper address ({w.text}), which can run a command")


def _url_leaf(url: str) -> str:
    path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0].rstrip("/")
    leaf = path.rsplit("/", 1)[-1] if "/" in path else path.rsplit(":", 1)[-1]
    return leaf[:-4] if leaf.endswith(".git") else leaf


# -- git -------------------------------------------------------------------------------------


def _git_branch(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                depth: int) -> None:
    listing = any(parsed.spelled in ("--list", "-l", "-a", "--all", "-r", "--remotes", "--show-current",
                                     "--merged", "--no-merged", "--contains", "--points-at")
                  for parsed in r.options)
    if r.operands and not listing:
        st.add(MUTATING, part, f"{name} creates a branch")
    else:
        _base(p, name, part, st)


def _git_tag(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
             depth: int) -> None:
    listing = any(parsed.spelled in ("-l", "--list") for parsed in r.options)
    if r.operands and not listing:
        st.add(MUTATING, part, f"{name} creates a tag")
    else:
        _base(p, name, part, st)


def _git_remote(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                depth: int) -> None:
    ops = r.operands
    _transport(name, list(r.raw), part, st)
    if not ops:
        _base(p, name, part, st)
        return
    sub = ops[0].text if ops[0].literal else "?"
    if sub in ("show", "update", "prune"):
        st.add(NETWORK, part, f"{name} {sub} talks to a remote")
    elif sub in ("get-url",):
        st.add(SAFE, part, f"{name} {sub} only reads")
    elif sub in ("add", "rename", "remove", "rm", "set-url", "set-head", "set-branches"):
        st.add(MUTATING, part, f"{name} {sub} changes where the repository fetches and pushes")
    else:
        st.add(DANGEROUS, part, f"{name} {ops[0].source} is not a remote sub-command the classifier knows")


def _git_stash(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
               depth: int) -> None:
    sub = r.operands[0].text if r.operands and r.operands[0].literal else ""
    if r.operands and not r.operands[0].literal:
        st.add(DANGEROUS, part, f"{name} sub-command computed at run time")
    elif sub in ("list", "show"):
        st.add(SAFE, part, f"{name} {sub} only reads")
        for w in r.operands[1:]:  # `stash show -p STASH -- PATH` prints the stashed content of PATH
            if w.literal:
                sc.read(_pathspec(w), part, st, f"{name} {sub} prints")
    elif sub in ("drop", "clear"):
        st.add(DANGEROUS, part, f"{name} {sub} discards stashed work")
    elif any(parsed.spelled in ("-a", "--all") for parsed in r.options):
        st.add(RESTRICTED, part, f"{name} --all moves ignored files away, which include the gate's receipt logs "
                                 "and the agent hosts' local settings")
    elif any(parsed.spelled == "-u" or (parsed.spelled.startswith("--incl") and
                                         "--include-untracked".startswith(parsed.spelled.split("=", 1)[0]))
             for parsed in r.options):
        st.add(RESTRICTED, part, f"{name} -u moves untracked files away, which may include the gate's files and "
                                 "the agent hosts' local settings (as git clean deletes them)")
    elif sub in ("", "push", "save", "pop", "apply", "branch", "create", "store"):
        st.add(MUTATING, part, f"{name} {sub or 'push'} changes the working tree")
    else:
        st.add(DANGEROUS, part, f"{name} {sub} is not a stash sub-command the classifier knows")


# Keys `git config` may set: harmless ones. Everything else can run commands (core.*, alias.*,
# *.sshCommand, filter.*, diff.*.textconv), change hooks, credentials or where pushes go.
GIT_CONFIG_SETTABLE = frozenset({"user.name", "user.email", "user.signingkey", "init.defaultbranch", "push.default",
                                 "push.autosetupremote", "pull.rebase", "pull.ff", "merge.ff", "fetch.prune",
                                 "column.ui", "log.date", "log.decorate", "status.short", "rerere.enabled",
                                 "commit.gpgsign", "tag.gpgsign", "branch.autosetuprebase", "help.autocorrect",
                                 "merge.conflictstyle", "diff.renames", "status.showuntrackedfiles"})
GIT_CONFIG_SETTABLE_PREFIXES = ("color.", "advice.")
_GIT_CONFIG_READ = frozenset({"--get", "--list", "-l", "--get-all", "--get-regexp", "--get-urlmatch", "--get-color",
                              "--get-colorbool", "--show-origin", "--show-scope", "--name-only", "--null", "-z",
                              "--includes", "--no-includes", "--type", "--bool", "--int", "--path",
                              "--bool-or-int", "--expiry-date", "--default", "--local", "--worktree",
                              "--global", "--system", "--fixed-value", "--show-names", "--no-show-names", "--all",
                              "--regexp", "--url", "--value"})


def _git_config(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                depth: int) -> None:
    texts = _literal_texts(name, r, part, st)
    if texts is None:
        return
    words = _words(r)
    i = 0
    files: list[Word] = []
    flags: list[str] = []
    operands: list[str] = []
    while i < len(texts):
        t = texts[i]
        if t in ("-f", "--file", "--blob", "--type", "--default", "--comment", "--value", "--url"):
            if t in ("-f", "--file") and i + 1 < len(words):
                files.append(words[i + 1])
            flags.append(t)
            i += 2
            continue
        if t.startswith("--file="):
            files.append(Word(t.split("=", 1)[1], words[i].source))
        if t.startswith("-"):
            flags.append(t.split("=", 1)[0])
        else:
            operands.append(t)
        i += 1
    for f in files:
        sc.target(f, part, st, "git config writes")
    if any(f in ("-e", "--edit") for f in flags) or operands[:1] == ["edit"]:
        st.add(DANGEROUS, part, "git config --edit opens an editor")
        return
    unknown = [f for f in flags if f not in _GIT_CONFIG_READ and f not in (
        "-f", "--file", "--blob", "--unset", "--unset-all", "--add", "--replace-all", "--rename-section",
        "--remove-section", "--comment", "--get", "--append")]
    if unknown:
        st.add(DANGEROUS, part, f"git config {unknown[0]} is not an option the classifier knows to be harmless")
        return
    writes = {"--unset", "--unset-all", "--add", "--replace-all", "--rename-section", "--remove-section",
              "--append"} & set(flags)
    if operands[:1] in (["get"], ["list"]) or (not writes and operands[:1] not in (
            ["set"], ["unset"], ["rename-section"], ["remove-section"]) and (len(operands) <= 1 or set(flags) &
                                                                              {"--get", "--get-all", "--get-regexp",
                                                                               "--list", "-l"})):
        st.add(SAFE, part, "git config only reads")
        return
    if operands[:1] in (["set"], ["unset"], ["rename-section"], ["remove-section"]):
        operands = operands[1:]
    key = operands[0].lower() if operands else ""
    if key in GIT_CONFIG_SETTABLE or key.startswith(GIT_CONFIG_SETTABLE_PREFIXES):
        st.add(MUTATING, part, f"git config sets {key}")
    else:
        st.add(DANGEROUS, part, f"git config sets {key or 'a key'}, which may run commands, change hooks, "
                                "credentials or where the repository talks to")
        if not files and not set(flags) & {"--global", "--system"}:
            # the repository's own configuration: .git/config, which the gate protects
            st.add(RESTRICTED, part, f"git config sets {key or 'a key'} in the repository's .git/config, which "
                                     "matches protected pattern '.git/config'")
    if "--global" in flags:
        sc.target(Word("~/.gitconfig", "~/.gitconfig"), part, st, "git config writes")
    if "--system" in flags:
        sc.target(Word("/etc/gitconfig", "/etc/gitconfig"), part, st, "git config writes")


def _git_paths(verb: str, skip_first: bool = False) -> Handler:
    def handle(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
               depth: int) -> None:
        _base(p, name, part, st)
        if any(parsed.spelled in ("--cached", "--staged", "-S") for parsed in r.options) and not any(
                parsed.spelled in ("--worktree", "-W") for parsed in r.options):
            r.operands = []  # only the index changes, not the files
            return
        for w in r.operands[1 if skip_first else 0:]:
            sc.target(w, part, st, f"{name} {verb}", delete=(verb == "deletes"), replaces=True)
        r.operands = []

    return handle


def _git_mv(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
            depth: int) -> None:
    _base(p, name, part, st)
    if len(r.operands) >= 2:
        sc.target(r.operands[-1], part, st, "git mv writes", replaces=True)
        for w in r.operands[:-1]:
            sc.target(w, part, st, "git mv moves away", delete=True)
    r.operands = []


def _git_init(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
              depth: int) -> None:
    _base(p, name, part, st)
    for w in r.operands[:1]:
        sc.target(w, part, st, "git init creates a repository in")
    r.operands = []


def _git_worktree(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                  depth: int) -> None:
    ops = r.operands
    sub = ops[0].text if ops and ops[0].literal else ""
    if sub in ("list",):
        st.add(SAFE, part, f"{name} list only reads")
    elif sub == "add":
        _base(p, name, part, st)
        if len(ops) >= 2:
            sc.target(ops[-1] if len(ops) == 2 else ops[1], part, st, "git worktree checks out into", replaces=True)
    elif sub in ("remove", "prune"):
        st.add(DANGEROUS, part, f"{name} {sub} deletes a working tree")
        for w in ops[1:2]:
            sc.target(w, part, st, "git worktree deletes", delete=True)
    elif sub in ("lock", "unlock", "move", "repair"):
        _base(p, name, part, st)
        for w in ops[2:3] if sub == "move" else ():
            sc.target(w, part, st, "git worktree moves to")
    else:
        st.add(DANGEROUS, part, f"{name} {sub or '(nothing)'} is not a worktree sub-command the classifier knows")
    r.operands = []


def _git_reflog(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                depth: int) -> None:
    sub = r.operands[0].text if r.operands and r.operands[0].literal else ""
    if sub in ("expire", "delete", "drop"):
        st.add(DANGEROUS, part, f"{name} {sub} discards history")
    else:
        _base(p, name, part, st)


def _git_format_patch(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                      depth: int) -> None:
    _base(p, name, part, st)
    for w in r.operands:  # the patches hold the content of the paths they cover
        if w.literal:
            sc.read(_pathspec(w), part, st, f"{name} prints")
    if not r.values("writedir") and not any(parsed.spelled == "--stdout" for parsed in r.options):
        sc.target(Word("0001-patch.patch", "0001-*.patch"), part, st, "git format-patch writes")


def _git_clean(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
               depth: int) -> None:
    spelled = {parsed.spelled for parsed in r.options}
    if spelled & {"-n", "--dry-run"}:
        st.add(SAFE, part, "git clean --dry-run only lists")
        return
    if r.has("git-clean-ignored"):
        st.add(RESTRICTED, part, "git clean -x/-X deletes ignored files, which include the gate's receipt logs, "
                                 "keys and the agent hosts' local settings")
    else:
        st.add(RESTRICTED, part, "git clean deletes untracked files, which may include the gate's files and the "
                                 "agent hosts' local settings")


_GIT_REMOTE_SAFE = frozenset({
    "-q", "--quiet", "-v", "--verbose", "--all", "-a", "--append", "--prune", "-p", "--prune-tags", "-P", "--tags",
    "-t", "--no-tags", "-n", "--depth", "--deepen", "--shallow-since", "--shallow-exclude", "--unshallow",
    "--update-shallow", "--dry-run", "--progress", "--no-progress", "--rebase", "-r", "--no-rebase", "--ff",
    "--no-ff", "--ff-only", "--squash", "--no-squash", "--commit", "--no-commit", "--edit", "--no-edit",
    "--stat", "--no-stat", "--autostash", "--no-autostash", "--set-upstream", "-u", "--force-if-includes",
    "--recurse-submodules", "--no-recurse-submodules", "--jobs", "-j", "--heads", "--refs", "--symref",
    "--sort", "--get-url", "--exit-code", "-h", "--branches", "--no-write-fetch-head", "--write-fetch-head",
    "--atomic", "--follow-tags", "--no-verify", "--verify", "--porcelain", "--signed", "--no-signed",
    "-4", "--ipv4", "-6", "--ipv6", "--filter", "--refetch", "--multiple", "--negotiation-tip",
    "--negotiate-only", "--auto-gc", "--no-auto-gc", "--write-commit-graph", "--show-forced-updates",
    "--no-show-forced-updates", "-k", "--keep", "--prefetch", "--set-upstream-to", "--no-all", "--server-option",
    "-o", "--push-option",
})
_GIT_PUSH_DANGER = frozenset({"-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d", "--prune"})


def _git_remote_option(name: str, words: list[Word], part: str, st: State, danger: frozenset[str]) -> bool:
    """Check a remote operation's options; True when it is SHELL_DANGEROUS (already reported)."""
    for w in words:
        if not w.literal:
            st.add(DANGEROUS, part, f"{name} with a word computed at run time ({w.source})")
            return True
        t = w.text
        if not t.startswith("-") or t == "-":
            if name.endswith("push") and t.startswith(("+", ":")):
                st.add(DANGEROUS, part, f"{name} {t} force-updates or deletes a remote branch")
                return True
            continue
        key = t.split("=", 1)[0]
        if key in danger:
            st.add(DANGEROUS, part, f"{name} {t} rewrites or deletes what the remote holds")
            return True
        if key in ("--upload-pack", "--receive-pack", "--exec", "-c", "--config", "--template") or \
                key.startswith(("--upload-pack", "--receive-pack")):
            st.add(DANGEROUS, part, f"{name} {t} runs a command or sets configuration that can")
            return True
        if key not in _GIT_REMOTE_SAFE and not (key.startswith("-") and not key.startswith("--") and
                                                key[1:].isdigit()):
            st.add(DANGEROUS, part, f"{name}: {t} is not an option the classifier knows to be harmless")
            return True
    return False


def _git_remote_op(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                   depth: int) -> None:
    words = _words(r)
    _transport(name, words, part, st)
    danger = frozenset() if name.endswith("ls-remote") else frozenset({"--upload-pack"})
    if name.endswith("ls-remote") and any(w.literal and w.text == "-u" for w in words):
        st.add(DANGEROUS, part, "git ls-remote -u names the upload-pack command to run")
        return
    if not _git_remote_option(name, words, part, st, danger):
        _base(p, name, part, st)


def _git_push(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
              depth: int) -> None:
    words = _words(r)
    _transport(name, words, part, st)
    if not _git_remote_option(name, words, part, st, _GIT_PUSH_DANGER):
        _base(p, name, part, st)


def _git_clone(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
               depth: int) -> None:
    words = _words(r)
    _transport(name, words, part, st)
    values = {"-o", "--origin", "-b", "--branch", "--depth", "--reference", "--reference-if-able",
              "--separate-git-dir", "-j", "--jobs", "--filter", "--shallow-since", "--shallow-exclude",
              "--bundle-uri", "--server-option", "--object-format", "--ref-format"}
    flags = {"-q", "--quiet", "-v", "--verbose", "--progress", "--no-progress", "-n", "--no-checkout", "--bare",
             "--mirror", "-l", "--local", "--no-local", "-s", "--shared", "--dissociate", "--single-branch",
             "--no-single-branch", "--no-tags", "--recurse-submodules", "--recursive", "--shallow-submodules",
             "--no-shallow-submodules", "--remote-submodules", "--no-remote-submodules", "--sparse",
             "--also-filter-submodules", "--reject-shallow", "--no-reject-shallow"}
    operands: list[Word] = []
    i = 0
    while i < len(words):
        w = words[i]
        if not w.literal:
            st.add(DANGEROUS, part, f"{name} with a word computed at run time ({w.source})")
            return
        t = w.text
        key = t.split("=", 1)[0]
        if key in values:
            if key == "--separate-git-dir":
                sc.target(words[i + 1] if "=" not in t and i + 1 < len(words) else Word(t.split("=", 1)[-1], t),
                          part, st, "git clone writes")
            i += 1 if "=" in t else 2
            continue
        if t in flags or (key in ("--recurse-submodules",)):
            i += 1
            continue
        if t.startswith("-") and t != "-":
            st.add(DANGEROUS, part, f"{name} {t} is not an option the classifier knows to be harmless "
                                    "(-c, --config, --template and -u run commands)")
            return
        operands.append(w)
        i += 1
    _base(p, name, part, st)
    if len(operands) >= 2:
        sc.target(operands[1], part, st, "git clone clones into", replaces=True)
    elif operands:
        leaf = _url_leaf(operands[0].text)
        if leaf and leaf not in (".", ".."):
            sc.target(Word(leaf, operands[0].source), part, st, "git clone clones into", replaces=True)


def _git_submodule(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                   depth: int) -> None:
    words = _words(r)
    _transport(name, words, part, st)
    texts = [w.text for w in words if w.literal]
    subs = [t for t in texts if not t.startswith("-")]
    sub = subs[0] if subs else "status"
    if any(not w.literal for w in words):
        st.add(DANGEROUS, part, f"{name} with a word computed at run time")
    elif sub == "foreach":
        st.add(DANGEROUS, part, f"{name} foreach runs a command in every submodule")
    elif sub in ("status", "summary"):
        st.add(SAFE, part, f"{name} {sub} only reads")
    elif sub in ("init", "deinit", "sync", "absorbgitdirs", "set-branch", "set-url"):
        st.add(MUTATING, part, f"{name} {sub} changes the repository's configuration")
    elif sub in ("update", "add"):
        if any(t in ("--reference", "-c", "--config") or t.startswith(("--reference=", "--config=")) for t in texts):
            st.add(DANGEROUS, part, f"{name} {sub} with options that set configuration")
        st.add(NETWORK, part, f"{name} {sub} clones submodules (their .gitmodules may run update commands)")
        if sub == "add" and len(subs) >= 3:
            sc.target(Word(subs[-1], subs[-1]), part, st, "git submodule clones into", replaces=True)
    else:
        st.add(DANGEROUS, part, f"{name} {sub} is not a submodule sub-command the classifier knows")


def _git_bisect(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                depth: int) -> None:
    words = _words(r)
    sub = words[0].text if words and words[0].literal else "?"
    if sub == "run" or not words or not words[0].literal:
        st.add(DANGEROUS, part, f"{name} {sub} runs a command on every step")
    elif sub in ("log", "view", "visualize", "terms"):
        st.add(SAFE, part, f"{name} {sub} only reads")
    elif sub in ("replay",):
        st.add(DANGEROUS, part, f"{name} replay reads a log of steps")
    else:
        _base(p, name, part, st)


def _git_apply(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
               depth: int) -> None:
    spelled = {parsed.spelled for parsed in r.options}
    if spelled & {"--check", "--stat", "--numstat", "--summary"} and not spelled & {"--apply", "--index", "--cached",
                                                                                    "-3", "--3way"}:
        st.add(SAFE, part, f"{name} only checks or summarises a patch")
    else:
        _base(p, name, part, st)
    for w in r.operands:
        sc.read(w, part, st, f"{name} reads")
    r.operands = []


def _git_checkout(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
                  depth: int) -> None:
    _base(p, name, part, st)
    # `git checkout X` may restore a file X over its current content: every operand may be a path
    for w in r.operands:
        sc.target(w, part, st, "git checkout may restore", replaces=True)
    r.operands = []


# git sub-commands that print the content of the files their operands name.
_PRINTS_CONTENT = frozenset({"show", "log", "diff", "whatchanged", "blame", "annotate", "grep", "cat-file", "archive",
                             "diff-tree", "diff-index", "diff-files", "range-diff"})


def _git_read(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
              depth: int) -> None:
    """git show/log/diff/blame/grep/cat-file/archive print file contents from the repository: an operand
    `REV:PATH` (or `:PATH`, the index) and every pathspec name a file whose content is printed, and a secret
    committed to history is a secret still. `-L RANGE:FILE` names one too."""
    _base(p, name, part, st)
    if name.split()[-1] not in _PRINTS_CONTENT:
        return  # ls-tree, check-ignore, rev-parse, describe, ...: names and ids, not content
    operands = list(r.operands)
    if name.endswith("grep") and operands and not (r.has("pattern") or r.has("read") or r.has("pattern-read")):
        operands = operands[1:]  # the pattern
    recursive = name.endswith("grep")
    for w in operands:
        if not w.literal:
            if w.dynamic is not None:
                st.add(DANGEROUS, part, f"{name} reads a revision or path computed at run time ({w.source})")
            continue
        for path in _pathspecs(w):
            sc.read(path, part, st, f"{name} prints", recursive=recursive)
    for parsed in r.options:
        if parsed.value is not None and parsed.value.literal and "-L" in parsed.options[0].names and \
                ":" in parsed.value.text:
            ranged = parsed.value.text.rpartition(":")[2]
            sc.read(Word(ranged, parsed.value.source), part, st, f"{name} -L prints")
    r.operands = [] if not r.has("readops") else r.operands


def _git_add(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
             depth: int) -> None:
    """git add copies the content of the paths it names into the repository, where `git diff --cached`
    prints it: adding a secret (`git add -f .env`) reads it."""
    _base(p, name, part, st)
    for w in r.operands:
        if w.literal:
            sc.read(_pathspec(w), part, st, f"{name} stages")
    r.operands = []


def _pathspecs(w: Word) -> list[Word]:
    """Every path an operand may name: the revision before `REV:PATH` may hold a colon itself
    (`HEAD^{/fix: x}:.env`), so each text after a colon is a candidate too."""
    found = [_pathspec(w)]
    text = w.text
    at = text.find(":", text.find(":") + 1) if not text.startswith(":(") else -1
    while at >= 0:
        found.append(_pathspec(Word(text[at:], w.source)))
        at = text.find(":", at + 1)
    return found


def _pathspec(w: Word) -> Word:
    """The path a git operand names: `REV:PATH`, `:PATH`, `:N:PATH` (a stage), `:(magic)PATH` or a pathspec,
    whose `*`, `?` and `[` git matches itself."""
    text = w.text
    if text.startswith(":("):
        text = text.partition(")")[2]
    elif ":" in text:
        text = text.split(":", 1)[1]
        if text[:1].isdigit() and text[1:2] == ":":
            text = text[2:]
    text = text.lstrip("!^") if w.text.startswith((":!", ":^")) else text
    return Word(text or ".", w.source, glob=any(c in text for c in "*?["))


# -- package managers -----------------------------------------------------------------------

_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._ -]+\])?"
                          r"((===|==|~=|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+(,(===|==|~=|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+)*)?$")
_ARCHIVES = (".whl", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".egg",
             ".tar.zst", ".py")
_PIP_SAFE_SUBS = frozenset({"list", "show", "freeze", "check", "help", "inspect", "debug", "cache", "config"})
_PIP_INSTALL_FLAGS = frozenset({"-U", "--upgrade", "--user", "-q", "--quiet", "-v", "--verbose", "--no-deps",
                                "--pre", "--no-cache-dir", "--disable-pip-version-check", "--no-input",
                                "--upgrade-strategy", "--only-binary", "--prefer-binary", "--force-reinstall",
                                "--ignore-installed", "-I", "--no-warn-script-location", "--dry-run",
                                "--no-color", "--progress-bar", "--require-hashes", "--break-system-packages",
                                "--root-user-action", "--timeout", "--retries", "--no-build-isolation",
                                "--compile", "--no-compile", "-qq", "-qqq", "-vv", "--report"})
_PIP_VALUE_FLAGS = frozenset({"--upgrade-strategy", "--only-binary", "--progress-bar", "--root-user-action",
                              "--timeout", "--retries"})


def _pip(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
         depth: int) -> None:
    texts = _literal_texts(name, r, part, st)
    if texts is None:
        return
    if not texts or all(t in ("--version", "-V", "--help", "-h") for t in texts):
        st.add(SAFE, part, f"{name} only prints its version or help")
        return
    i = 0
    while i < len(texts) and texts[i].startswith("-"):
        if texts[i] in ("-q", "--quiet", "-v", "--verbose", "--disable-pip-version-check", "--no-color",
                        "--no-input", "--isolated", "--require-virtualenv"):
            i += 1
            continue
        st.add(DANGEROUS, part, f"{name} {texts[i]}: a global option the classifier does not know to be harmless")
        return
    sub = texts[i] if i < len(texts) else ""
    rest = texts[i + 1:]
    if sub in _PIP_SAFE_SUBS:
        if (sub == "config" and rest[:1] not in (["list"], ["get"], ["debug"])) or (sub == "cache" and \
                rest[:1] not in (["list"], ["info"], ["dir"])):
            st.add(DANGEROUS if sub == "config" else MUTATING, part, f"{name} {sub} {' '.join(rest[:1])} changes "
                                                                      "configuration or caches")
            return
        if sub == "list" and set(rest) & {"-o", "--outdated", "-u", "--uptodate"}:
            st.add(NETWORK, part, f"{name} list --outdated asks the package index")
            return
        st.add(SAFE, part, f"{name} {sub} only reads")
        return
    if sub in ("install", "download", "wheel"):
        j = 0
        while j < len(rest):
            t = rest[j]
            key = t.split("=", 1)[0]
            if key in ("-t", "--target", "-d", "--dest", "--prefix", "--root", "--src", "-w", "--wheel-dir",
                       "--report"):
                value = rest[j + 1] if "=" not in t and j + 1 < len(rest) else t.split("=", 1)[-1]
                if key == "--report":
                    if value != "-":  # `--report -` prints the report
                        sc.target(Word(value, value), part, st, f"{name} {sub} --report writes")
                else:
                    sc.target(Word(value, value), part, st, f"{name} {sub} writes into", replaces=True)
                j += 1 if "=" in t else 2
                continue
            if key in _PIP_VALUE_FLAGS:
                j += 1 if "=" in t else 2
                continue
            if t.startswith("-") and key not in _PIP_INSTALL_FLAGS:
                st.add(DANGEROUS, part, f"{name} {sub} {t}: installs from a file, a local path, another index or "
                                        "an option the classifier does not know to be harmless (package code "
                                        "may run)")
                return
            if not t.startswith("-") and (not _REQUIREMENT.match(t) or t.lower().endswith(_ARCHIVES)):
                st.add(DANGEROUS, part, f"{name} {sub} {t}: a local path, archive, URL or VCS address, whose "
                                        "build code runs")
                return
            j += 1
        st.add(NETWORK, part, f"{name} {sub} downloads packages from the index")
        return
    if sub in ("search", "index"):
        st.add(NETWORK, part, f"{name} {sub} asks the package index")
        return
    st.add(DANGEROUS, part, f"{name} {sub} changes the environment or is not known".replace("  ", " "))


_NPM_COMMANDS = {
    # command: (class, why, runs scripts unless --ignore-scripts)
    "install": (NETWORK, "installs packages", True), "i": (NETWORK, "installs packages", True),
    "ci": (NETWORK, "installs packages", True), "add": (NETWORK, "installs packages", True),
    "update": (NETWORK, "updates packages", True), "upgrade": (NETWORK, "updates packages", True),
    "up": (NETWORK, "updates packages", True), "rebuild": (DANGEROUS, "rebuilds packages", True),
    "link": (DANGEROUS, "links packages", True), "remove": (MUTATING, "removes packages", False),
    "uninstall": (MUTATING, "removes packages", False), "rm": (MUTATING, "removes packages", False),
    "ls": (SAFE, "lists packages", False), "list": (SAFE, "lists packages", False),
    "why": (SAFE, "explains a dependency", False), "explain": (SAFE, "explains a dependency", False),
    "view": (NETWORK, "asks the registry", False), "info": (NETWORK, "asks the registry", False),
    "show": (NETWORK, "asks the registry", False), "search": (NETWORK, "asks the registry", False),
    "outdated": (NETWORK, "asks the registry", False), "audit": (NETWORK, "asks the registry", False),
    "help": (SAFE, "prints help", False), "root": (SAFE, "prints a directory", False),
    "prefix": (SAFE, "prints a directory", False), "bin": (SAFE, "prints a directory", False),
    "whoami": (NETWORK, "asks the registry", False), "ping": (NETWORK, "asks the registry", False),
    "pack": (DANGEROUS, "packs the project (runs its prepack scripts)", True),
    "publish": (DANGEROUS, "publishes the project", True),
}


# Options of npm, yarn and pnpm that change nothing but what is installed, where from, and how it is shown.
_NODE_PM_FLAGS = frozenset({
    "-D", "--save-dev", "-P", "--save-prod", "-O", "--save-optional", "-E", "--save-exact", "-B", "--save-bundle",
    "--no-save", "--save", "-S", "--save-peer", "--legacy-peer-deps", "--strict-peer-deps", "--force", "-f",
    "--no-audit", "--audit", "--no-fund", "--fund", "--silent", "-s", "--quiet", "-q", "--verbose", "-d", "-dd",
    "--loglevel", "--dry-run", "--package-lock-only", "--no-package-lock", "--prefer-offline", "--prefer-online",
    "--offline", "--production", "--global-style", "--install-strategy", "--omit", "--include", "--workspaces",
    "-ws", "--workspace", "-w", "--include-workspace-root", "--json", "--parseable", "-p", "--long", "-l",
    "--all", "-a", "--depth", "--no-bin-links", "--no-optional", "--foreground-scripts", "--ignore-scripts",
    "--no-update-notifier", "--progress", "--no-progress", "--color", "--no-color", "--frozen-lockfile",
    "--immutable", "--pure-lockfile", "--prefer-frozen-lockfile", "--no-frozen-lockfile", "--shamefully-hoist",
    "--strict-peer-dependencies", "--filter", "-r", "--recursive", "--dev", "--prod", "--exact", "--tilde",
    "--peer", "--optional", "--check-files", "--non-interactive", "--no-lockfile", "--network-timeout",
    "--registry", "--tag", "-g", "--global", "--prefix", "--version", "-v", "-V", "--help", "-h", "--yes", "-y",
    "--lockfile-only", "--fix-lockfile", "--ignore-engines", "--ignore-optional", "--ignore-platform",
    "--production=false", "--save-prefix", "--audit-level", "--omit-lockfile-registry-resolved",
})
# A dependency fetched with git (git URLs, github:/gitlab:/bitbucket: and `owner/repo` shorthands).
_GIT_SPEC = re.compile(r"^(git(\+[a-z]+)?:|git@|github:|gitlab:|bitbucket:|gist:|https?://.*\.git(#.*)?$|"
                       r"[A-Za-z0-9][\w.-]*/[\w.-]+(#.*)?$)")


def _node_pm(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
             depth: int) -> None:
    texts = _literal_texts(name, r, part, st)
    if texts is None:
        return
    if texts and all(t in ("--version", "-v", "-V", "--help", "-h") for t in texts):
        st.add(SAFE, part, f"{name} only prints its version or help")
        return
    subs = [t for t in texts if not t.startswith("-")]
    sub = subs[0] if subs else ("install" if name in ("yarn", "pnpm") else "")
    flags = {t.split("=", 1)[0] for t in texts if t.startswith("-")}
    for i, t in enumerate(texts):
        if t.split("=", 1)[0] == "--prefix":
            value = texts[i + 1] if "=" not in t and i + 1 < len(texts) else t.split("=", 1)[-1]
            sc.target(Word(value, value), part, st, f"{name} --prefix writes into", replaces=True)
    for t in texts:
        key, eq, value = t.partition("=")
        if not t.startswith("-") or t == "-":
            continue
        if key == "--ignore-scripts" and eq and value != "true":
            st.add(DANGEROUS, part, f"{name} {t} runs the packages' install scripts")
            return
        if key not in _NODE_PM_FLAGS:
            st.add(DANGEROUS, part, f"{name} {t} is not an option the classifier knows to be harmless (--git, "
                                    "--script-shell, --userconfig and --node-options run or configure programs)")
            return
    if sub == "audit" and "fix" in subs[1:]:
        sub = "install"  # audit fix installs the fixed versions (and runs their scripts)
    if sub in ("install", "i", "add", "ci", "update", "up", "upgrade") and any(
            _GIT_SPEC.match(t) for t in subs[1:]):
        st.add(DANGEROUS, part, f"{name} {sub} of a git dependency builds it with its prepare script")
        return
    if sub == "config" or sub == "c":
        action = subs[1] if len(subs) > 1 else ""
        if action in ("get", "list", "ls"):
            _npm_side_effects(name, flags, part, st)
            st.add(SAFE, part, f"{name} config {action} only reads")
        else:
            st.add(DANGEROUS, part, f"{name} config {action} changes configuration that can run commands "
                                    "(script-shell, registries, tokens)")
        return
    known = _NPM_COMMANDS.get(sub)
    if known is None and sub and name == "npm":
        candidates = [c for c in _NPM_COMMANDS if c.startswith(sub)]
        known = _NPM_COMMANDS[candidates[0]] if len(candidates) == 1 else None
    if known is None:
        st.add(DANGEROUS, part, f"{name} {sub or '(no command)'} runs package scripts or is not known")
        return
    effect, why, scripts = known
    if scripts and "--ignore-scripts" not in flags:
        st.add(DANGEROUS, part, f"{name} {sub} runs the packages' install scripts (use --ignore-scripts)")
        return
    if "-g" in flags or "--global" in flags:
        st.add(DANGEROUS, part, f"{name} {sub} -g changes globally installed programs")
        return
    if effect is SAFE:
        _npm_side_effects(name, flags, part, st)
    st.add(effect, part, f"{name} {sub} {why}")


def _npm_side_effects(name: str, flags: set[str], part: str, st: State) -> None:
    """npm writes a debug log under ~/.npm/_logs for every command, and asks the registry whether a newer
    npm exists (the update notifier) unless told not to: seen in the differential check."""
    if name != "npm":
        return
    if flags & {"--offline", "--no-update-notifier"}:
        st.add(MUTATING, part, "npm writes a debug log under ~/.npm/_logs")
    else:
        st.add(NETWORK, part, "npm asks the registry for a newer npm (update notifier; --no-update-notifier "
                              "stops it) and writes a debug log under ~/.npm/_logs")


def _go(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
        depth: int) -> None:
    sub, texts = _subcommand(r)
    flags = set(texts[1:])
    if sub in ("version", "help") or (sub == "env" and not flags & {"-w", "-u"}) or sub == "doc":
        st.add(SAFE, part, f"go {sub} only reads")
    elif sub == "list" and not any(t.startswith(("-toolexec", "-exec", "-json=")) for t in flags):
        st.add(NETWORK, part, "go list may download modules")
    elif sub in ("fmt",):
        st.add(MUTATING, part, "go fmt rewrites source files")
    elif sub == "mod" and texts[1:2] in (["download"], ["graph"], ["why"], ["verify"]):
        st.add(NETWORK, part, f"go mod {texts[1]} downloads modules")
    elif sub == "mod" and texts[1:2] in (["tidy"], ["init"], ["edit"]):
        st.add(MUTATING, part, f"go mod {texts[1]} changes go.mod")
    else:
        st.add(DANGEROUS, part, f"go {sub} builds or runs code (cgo, generators, tests, tool flags)")


# cargo options that change neither what runs nor which configuration is read (`--config`, `-Z`, `+toolchain`,
# `--target-dir` and the rest are not here: `--config build.rustc-wrapper=...` runs a program even for metadata).
_CARGO_FLAGS = frozenset({"-q", "--quiet", "-v", "-vv", "--verbose", "--color", "--frozen", "--locked", "--offline",
                          "--manifest-path", "--format-version", "--no-deps", "--all-features", "--no-default-features",
                          "--features", "-F", "--workspace", "--package", "-p", "--depth", "--prefix", "--edges",
                          "-e", "--invert", "-i", "--duplicates", "-d", "--charset", "--limit", "--registry", "--index",
                          "--dev", "--build", "--optional", "--dry-run", "--rename", "--aggressive", "--precise",
                          "--recursive", "--help", "-h", "--version", "-V", "--list"})


def _cargo(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
           depth: int) -> None:
    sub, texts = _subcommand(r)
    if not r.raw:
        st.add(SAFE, part, "cargo without a command prints its help")
        return
    if sub == "?":
        st.add(DANGEROUS, part, "cargo with a word computed at run time")
        return
    for t in texts:
        if t == "--":
            break
        if t.startswith("+") or (t.startswith("-") and t.split("=", 1)[0] not in _CARGO_FLAGS):
            st.add(DANGEROUS, part, f"cargo {t} is not an option the classifier knows to be harmless (--config, -Z "
                                    "and +toolchain choose what runs)")
            return
    sub = next((t for t in texts if not t.startswith("-")), sub)
    if sub in ("--version", "-V", "version", "help", "--help", "-h", "--list"):
        st.add(SAFE, part, "cargo only prints information")
    elif sub in ("fetch", "search", "add", "remove", "update", "tree", "metadata", "generate-lockfile", "info"):
        st.add(NETWORK, part, f"cargo {sub} talks to the registry")
    elif sub == "fmt":
        st.add(MUTATING, part, "cargo fmt rewrites source files")
    else:
        st.add(DANGEROUS, part, f"cargo {sub} builds or runs code (build scripts, tests, plugins)")


def _uv(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
        depth: int) -> None:
    sub, texts = _subcommand(r)
    if sub in ("--version", "-V", "version", "help", "--help"):
        st.add(SAFE, part, "uv only prints information")
    elif sub == "pip" and texts[1:2] in (["list"], ["show"], ["freeze"], ["tree"], ["check"]):
        st.add(SAFE, part, f"uv pip {texts[1]} only reads")
    elif sub == "tree" or (sub == "python" and texts[1:2] in (["list"], ["find"], ["dir"])):
        st.add(SAFE, part, f"uv {sub} only reads")
    else:
        st.add(DANGEROUS, part, f"uv {sub} installs or runs project or package code")


def _simple_pm(safe: frozenset[str], network: frozenset[str]) -> Handler:
    def handle(sc: ShellClassifier, p: Program, name: str, r: ParseResult, part: str, st: State,
               depth: int) -> None:
        sub, texts = _subcommand(r)
        if sub in safe or (texts and all(t in ("--version", "-v", "-V", "--help", "-h") for t in texts)):
            st.add(SAFE, part, f"{name} {sub} only reads")
        elif sub in network:
            st.add(NETWORK, part, f"{name} {sub} asks the package index")
        else:
            st.add(DANGEROUS, part, f"{name} {sub} installs or runs package code, or is not known")

    return handle


DEV_HANDLERS: dict[str, Handler] = {
    "git-branch": _git_branch, "git-tag": _git_tag, "git-remote": _git_remote, "git-stash": _git_stash,
    "git-config": _git_config, "git-restore": _git_paths("restores"), "git-rm": _git_paths("deletes"),
    "git-mv": _git_mv, "git-init": _git_init, "git-worktree": _git_worktree, "git-reflog": _git_reflog,
    "git-format-patch": _git_format_patch, "git-clean": _git_clean, "git-remote-op": _git_remote_op,
    "git-push": _git_push, "git-clone": _git_clone, "git-submodule": _git_submodule, "git-bisect": _git_bisect,
    "git-checkout": _git_checkout, "git-apply": _git_apply, "git-read": _git_read, "git-add": _git_add, "pip": _pip,
    "node-pm": _node_pm, "go": _go, "cargo": _cargo, "uv": _uv,
    "gem": _simple_pm(frozenset({"list", "help", "env", "which", "contents"}),
                      frozenset({"search", "fetch", "info", "specification", "outdated"})),
    "brew": _simple_pm(frozenset({"list", "--prefix", "config", "leaves", "deps", "--cellar", "--repository"}),
                       frozenset({"search", "info", "outdated", "desc", "home"})),
}

__all__ = ["DEV_HANDLERS", "GIT_CONFIG_SETTABLE"]
