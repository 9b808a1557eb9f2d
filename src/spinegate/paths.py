"""Path normalisation and matching: the paths a call writes and the secrets it reads.

A path is normalised before it is matched, so that `./a/../.env`,
`docs/../.ENV` on a case-folding filesystem, or a symlink pointing into
`~/.ssh` all meet the same rules as the plain path they stand for:

1. `~` and `~/...` expand to the home directory of the path context;
2. relative paths in a call are joined to the base directory (the context's
   working directory unless the manifest or the caller says otherwise); the
   manifest's writable roots and `readable_secrets` are joined to the
   project directory (the context's `project`, else the base directory);
3. the resolver (default `os.path.realpath`) resolves `..` and symlinks;
4. where the filesystem folds case, the path is case-folded.

The working directory, home, case folding, the gate's own files and the
resolver are a `PathContext` value built once at the edge
(`spinegate.workspace`), so this module reads no environment. The resolver
is the only step that touches the filesystem; it is passed in (with the
context, or `PathPolicy(resolver=...)`) so that tests can give it a
deterministic one.

Three lists are matched, always case-insensitively (matching more paths is
the safe direction for a deny rule):
- restricted patterns: writing there is RESTRICTED_WRITE;
- protected paths (`spinegate.protected` and the gate's own files): writing,
  deleting or renaming them or a directory holding them is RESTRICTED_WRITE;
- secret patterns: reading them is at least SHELL_DANGEROUS, unless the
  manifest's `readable_secrets` allows that path.

A shell glob (`src/*.py`) is matched by overlap: it matches a pattern when
some name could match both.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import lru_cache

from .protected import protected_patterns

#: Longest path argument checked (Linux PATH_MAX is 4096 bytes); longer ones are refused, not resolved.
MAX_PATH_CHARS = 4096

Resolver = Callable[[str], str]

# `$NAME`, `${NAME}` anywhere, or a leading `%NAME%` (Windows): references a tool may expand.
_ENV_REFERENCE = re.compile(r"\$\{?[A-Za-z_]|^%[A-Za-z_][A-Za-z0-9_]*%")

# Files and directories that hold secrets or credentials. A pattern without a
# slash matches any single path component; one ending in `/` matches a
# directory anywhere in the path; one starting with `/` matches the whole
# absolute path; any other pattern with a slash matches the path's tail.
DEFAULT_RESTRICTED: tuple[str, ...] = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.asc", "*.gpg",
    "id_rsa", "id_rsa.*", "id_dsa", "id_dsa.*", "id_ecdsa", "id_ecdsa.*", "id_ed25519", "id_ed25519.*",
    "authorized_keys", "authorized_keys2", "known_hosts",
    "credentials", "credentials.*", "*.credentials", "secrets", "secrets.*", "*.secret", "*.secrets",
    ".netrc", "_netrc", ".npmrc", ".pypirc", ".git-credentials", ".pgpass", ".htpasswd",
    ".ssh/", ".aws/", ".gnupg/", ".kube/", ".azure/", ".config/gcloud/", ".docker/config.json",
    ".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".bash_logout",
    "/etc/", "/boot/", "/root/", "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/var/spool/cron/",
    "/proc/", "/sys/", "/dev/sd*", "/dev/nvme*",
    ".git/config", ".git/hooks/",
    # configuration that runs commands or holds tokens
    ".gitconfig", ".config/git/", ".git/", ".zshenv", ".zlogin", ".zlogout", ".bash_login", ".bash_aliases",
    ".config/fish/", ".config/autostart/", ".config/systemd/", "Library/LaunchAgents/", "Library/LaunchDaemons/",
    ".config/gh/", ".config/hub", ".terraformrc", "*.tfstate", "*.tfstate.backup", ".vault-token", "pip.conf",
    ".pip/", ".yarnrc", ".yarnrc.yml", ".m2/settings.xml", ".dockercfg", ".s3cfg", ".boto", ".my.cnf",
    "*service-account*.json", ".passwd-s3fs",
    # project configuration of tools that run the commands it names (cargo's rustc wrapper, for one)
    ".cargo/config", ".cargo/config.toml",
    # startup files of programs that run commands from them, and places on PATH or Python's startup path
    ".curlrc", ".wgetrc", ".lesskey", ".config/lesskey", ".psqlrc", ".sqliterc", ".gdbinit", ".lldbinit", ".pdbrc",
    ".inputrc", ".vimrc", ".exrc", ".gvimrc", ".vim/", ".config/nvim/", ".emacs", ".emacs.d/", ".tmux.conf",
    ".screenrc", ".Rprofile", ".irbrc", ".pryrc", ".local/bin/", "*.pth", "sitecustomize.py", "usercustomize.py",
    # environment set for every login or user service (PAM, systemd), and the personal bin directory on PATH
    ".pam_environment", ".config/environment.d/", "~/bin/",
)


# Files whose content is a secret: reading them (by any program or file tool) is at least
# SHELL_DANGEROUS. Narrower than the restricted list: reading /etc/hosts or .bashrc is fine.
DEFAULT_SECRETS: tuple[str, ...] = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.gpg", "*.ppk",
    # private keys by their usual names (the `.pub` halves are not secrets)
    "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk",
    "credentials", "*.credentials", "secrets", "*.secret", "*.secrets", ".secrets/",
    # data files named credentials/secrets (not `secrets.py`, a module: globs like `*.py` stay readable)
    "credentials.json", "credentials.y*ml", "credentials.toml", "credentials.ini", "credentials.csv",
    "credentials.xml", "credentials.txt", "credentials.env", "secrets.json", "secrets.y*ml", "secrets.toml",
    "secrets.ini", "secrets.txt", "secrets.env", "secrets.xml",
    ".netrc", "_netrc", ".npmrc", ".pypirc", ".git-credentials", ".pgpass", ".htpasswd", ".my.cnf",
    ".ssh/", ".aws/", ".gnupg/", ".kube/", ".azure/", ".config/gcloud/", ".docker/config.json", ".dockercfg",
    ".config/gh/", ".config/hub", ".vault-token", "*.tfstate", "*.tfstate.backup", ".terraformrc",
    ".terraform.d/credentials.tfrc.json", ".s3cfg", ".boto", ".passwd-s3fs", "*service-account*.json",
    ".m2/settings.xml", ".gradle/gradle.properties", ".yarnrc", ".yarnrc.yml", ".cargo/credentials",
    ".cargo/credentials.toml", ".config/pip/pip.conf", ".pip/pip.conf", ".git-credential-cache/",
    ".local/share/keyrings/", "Library/Keychains/", ".password-store/",
    ".claude/.credentials.json", ".codex/auth.json", ".config/op/",
    # more credential stores: container secrets, sync and registry tokens, browser password stores
    "/run/secrets/", "/var/run/secrets/", ".config/rclone/", ".composer/auth.json", ".config/composer/auth.json",
    ".config/github-copilot/", ".wakatime.cfg", ".mozilla/", ".config/google-chrome/", ".config/chromium/",
    ".config/BraveSoftware/", "Library/Application Support/Google/Chrome/", "logins.json", "key4.db",
    "*_rsa", "*_dsa", "*_ecdsa", "*_ed25519", "*_key", "*_token", "*.token",
    ".authinfo", ".Xauthority", ".m2/settings-security.xml", ".nuget/NuGet/NuGet.Config", ".dbt/profiles.yml",
    ".databrickscfg", ".snowsql/", ".config/doctl/", ".config/hcloud/", ".oci/", ".config/ngrok/", ".ngrok2/",
    ".msmtprc", ".fetchmailrc", ".muttrc", ".bundle/config", ".config/fish/fish_variables",
    # shell and REPL histories hold the tokens people typed
    ".*_history", "*_history", ".history", ".histfile", ".viminfo", ".lesshst",
    "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d/",
    "/etc/ssh/", "/proc/*/environ", "/proc/self/", "/proc/thread-self/", "/proc/*/mem", "/proc/kcore",
    "/dev/mem", "/dev/kmem", "/dev/sd*", "/dev/nvme*",
)

# Templates that hold no secrets, though they match a secret pattern: reading them is fine.
DEFAULT_READABLE: tuple[str, ...] = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults",
                                     "*.pub")

# Writes to these are not writes to a file (discarding output, the terminal).
HARMLESS_TARGETS: frozenset[str] = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})


class PathError(ValueError):
    """A path argument that cannot be a path (empty, NUL byte, not text)."""


@dataclass(frozen=True, slots=True)
class PathContext:
    """Where the agent works: built once at the edge (`spinegate.workspace.path_context`), passed in.

    `cwd` and `home` are absolute; `protected_files` are the gate's own files
    (manifest, receipt log, checkpoints, signing key), absolute and resolved;
    `resolver` resolves `..` and symlinks on disk (the one part that reads the
    filesystem, `os.path.realpath` from the edge). `project` is the project
    the agent works on, when that is not `cwd` (a coding agent in one of its
    subdirectories): the policy's writable roots, readable secrets and the
    patterns anchored at the project are taken from there, while a call's
    relative paths still resolve against `cwd`. None: the same as `cwd`.
    """

    cwd: str
    home: str
    case_insensitive: bool
    protected_files: tuple[str, ...] = ()
    resolver: Resolver | None = None
    project: str | None = None


@dataclass(frozen=True, slots=True)
class PathCheck:
    """One normalised write target and what the rules say about it.

    `restricted_by` names the restricted or protected pattern it matches;
    `protected` is True when that is one of the gate's own or an agent host's files.
    """

    raw: str
    normalised: str
    restricted_by: str | None
    inside_roots: bool
    protected: bool = False


@dataclass(frozen=True, slots=True)
class ReadCheck:
    """One normalised path a call reads, and the secret pattern it matches (None: not a secret)."""

    raw: str
    normalised: str
    secret_by: str | None


@dataclass(frozen=True, slots=True)
class _Patterns:
    """Compiled patterns of one list: (pattern, kind, folded glob)."""

    items: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, patterns: Iterable[str], home: str | None = None) -> _Patterns:
        """Compile `patterns`; with `home`, a pattern starting with `~/` is anchored at that directory."""
        return cls(tuple(_compile(p, home) for p in dict.fromkeys(patterns)))


class PathPolicy:
    """Normalises paths and matches them against restricted, protected and secret patterns and the roots."""

    def __init__(self, *, base_dir: str | None = None, restricted: Iterable[str] = (),
                 writable_roots: Iterable[str] | None = None, resolver: Resolver | None = None,
                 home: str | None = None, case_insensitive: bool | None = None,
                 context: PathContext | None = None, readable_secrets: Iterable[str] = (),
                 project_dir: str | None = None) -> None:
        """`base_dir` anchors the call's relative paths and, unless the context (or `project_dir`) names a
        project apart from where the agent works, the project's writable roots and readable secrets too;
        with a project, a given `base_dir` (the manifest's `paths.base_dir`) anchors those, relative to it.
        """
        anchor = base_dir  # the manifest's (or caller's) anchor, when the context does not already say it
        if context is None:
            context, anchor = _explicit(home, case_insensitive, base_dir, project_dir), None
        elif project_dir is not None:
            context = replace(context, project=project_dir)
        self.context = context
        chosen = resolver or context.resolver
        if chosen is None:
            raise ValueError("a PathPolicy needs a resolver: build the context with spinegate.workspace.path_context() "
                             "or pass resolver=")
        self.resolver: Resolver = chosen
        self.home = home if home is not None else context.home
        self.case_insensitive = context.case_insensitive if case_insensitive is None else case_insensitive
        cwd = context.cwd
        if context.project is None:  # one directory: where the agent works is the project
            self.base_dir = self._resolve(self._expand(anchor if anchor is not None else cwd), cwd)
            self.project_dir = self.base_dir
        else:  # an agent elsewhere in the project: its paths from where it works, the policy's from the project
            self.base_dir = self._resolve(cwd, cwd)
            self.project_dir = self._resolve(self._expand(anchor if anchor is not None else context.project),
                                             context.project)
        self.restricted: tuple[str, ...] = DEFAULT_RESTRICTED + tuple(p for p in restricted if p not in
                                                                       DEFAULT_RESTRICTED)
        self.home_dir = home_dir = self._resolve(self.home, "/")  # resolved; a `~/` pattern of any list starts here
        self._patterns = _Patterns.of(self.restricted, home=home_dir)
        self.protected: tuple[str, ...] = protected_patterns()
        self._protected = _Patterns.of(self.protected, home=home_dir)
        self.protected_files: tuple[str, ...] = tuple(dict.fromkeys(
            self._resolve(f, cwd) for f in context.protected_files if isinstance(f, str) and f))
        self.secrets: tuple[str, ...] = DEFAULT_SECRETS
        self._secrets = _Patterns.of(self.secrets, home=home_dir)
        self.readable_secrets: tuple[str, ...] = tuple(readable_secrets)
        self._readable = tuple(self._readable_glob(g) for g in self.readable_secrets)
        roots = tuple(writable_roots) if writable_roots is not None else (".",)
        self.writable_roots: tuple[str, ...] = tuple(self.normalise(r, self.project_dir) for r in roots)

    def _readable_glob(self, pattern: str) -> str:
        """A `readable_secrets` glob as an absolute, folded glob (relative ones are under the project dir)."""
        expanded = self.home + pattern[1:] if pattern == "~" or pattern.startswith("~/") else pattern
        joined = expanded if expanded.startswith("/") else posixpath.join(self.project_dir, expanded)
        return posixpath.normpath(joined).casefold()

    # -- normalisation ---------------------------------------------------------------

    def _expand(self, path: str) -> str:
        if path == "~" or path.startswith("~/"):
            return self.home + path[1:]
        if path.startswith("~"):
            # `~user/...` is another user's home: which directory that is depends on the machine
            raise PathError(f"{path[:40]!r} names another user's home directory (~user), which is not followed")
        return path

    def _resolve(self, path: str, base: str) -> str:
        joined = path if posixpath.isabs(path) else posixpath.join(base, path)
        resolved = posixpath.normpath(self.resolver(joined))
        if resolved.startswith("//"):
            resolved = "/" + resolved.lstrip("/")
        return resolved.casefold() if self.case_insensitive else resolved

    def normalise(self, path: object, base: str | None = None) -> str:
        """The absolute, resolved form of `path` (relative to `base`, default the base dir)."""
        if not isinstance(path, str):
            raise PathError(f"a path must be text, not {type(path).__name__}")
        if not path.strip():
            raise PathError("a path must not be empty")
        if "\x00" in path:
            raise PathError("a path must not contain a NUL byte")
        if len(path) > MAX_PATH_CHARS:  # no real path is this long; resolving one costs quadratic time
            raise PathError(f"a path must not be longer than {MAX_PATH_CHARS} characters (got {len(path)})")
        if _ENV_REFERENCE.search(path):
            # a tool that expands variables ($HOME, %APPDATA%) would write somewhere else than matched here
            raise PathError(f"{path[:60]!r} refers to an environment variable; give the path itself")
        return self._resolve(self._expand(path), base or self.base_dir)

    def normalise_glob(self, pattern: str, base: str | None = None) -> str:
        """A shell glob made absolute: the literal directory part resolved, the glob part kept."""
        if not pattern.strip() or "\x00" in pattern or len(pattern) > MAX_PATH_CHARS:
            raise PathError("not a usable glob pattern")
        expanded = self._expand(pattern)
        parts = expanded.split("/")
        literal: list[str] = []
        for i, part in enumerate(parts):
            if any(c in part for c in "*?["):
                head = "/".join(literal) or ("/" if expanded.startswith("/") else ".")
                resolved = self._resolve(head, base or self.base_dir)
                tail = "/".join(parts[i:])
                joined = resolved.rstrip("/") + "/" + tail
                return joined.casefold() if self.case_insensitive else joined
            literal.append(part)
        return self._resolve(expanded, base or self.base_dir)

    # -- matching ---------------------------------------------------------------------

    def _parts(self, normalised: str) -> tuple[str, list[str]]:
        folded = _without_ignorables(normalised.casefold())
        # Below the project directory only the components under it count, so a
        # project that happens to live in, say, ~/secrets/app is still usable.
        # (The project's, not where the agent works: from inside `.claude/`,
        # `settings.json` is still `.claude/settings.json`.)
        base = self.project_dir.casefold().rstrip("/")
        relative = folded[len(base) + 1:] if base and folded.startswith(base + "/") else folded
        # Windows separators count as separators too: matching more is the safe direction for a deny rule.
        parts = [p for p in relative.replace("\\", "/").split("/") if p]
        return folded.replace("\\", "/"), parts

    def _match(self, patterns: _Patterns, normalised: str, glob: bool = False, names_last: bool = False) -> str | None:
        folded, parts = self._parts(normalised)
        # Windows ignores trailing dots and spaces and reads `name:stream` as `name`: match that reading too.
        clean = [q for q in (p.split(":", 1)[0].rstrip(". ") for p in parts) if q]
        for candidate in (parts, clean) if clean != parts else (parts,):
            found = _match_parts(patterns, folded, candidate, glob, names_last)
            if found is not None:
                return found
        return None

    def restricted_match(self, normalised: str, *, glob: bool = False) -> str | None:
        """The restricted or protected pattern `normalised` matches, or None."""
        return self.protected_match(normalised, glob=glob) or self._match(self._patterns, normalised, glob)

    def protected_match(self, normalised: str, *, glob: bool = False) -> str | None:
        """The protected pattern or gate file `normalised` is (or may be, for a glob), or None."""
        folded = _without_ignorables(normalised.casefold())
        for f in self.protected_files:
            if (_overlap(folded, f.casefold()) if glob else folded == f.casefold()):
                return f
        return self._match(self._protected, normalised, glob)

    def holds_protected(self, normalised: str) -> str | None:
        """A protected path that deleting or moving the directory `normalised` would take with it, or None.

        The project directory holds `.git/`, `.spinegate/` and the agent hosts'
        settings; the home directory holds the user-level ones.
        """
        folded = normalised.casefold().rstrip("/") + "/"
        for f in self.protected_files:
            if f.casefold().startswith(folded):
                return f
        for anchor in (self.project_dir, self.home_dir):
            if (anchor.casefold().rstrip("/") + "/").startswith(folded):
                return f"{anchor} (it holds the project's or the user's protected files)"
        return self.parent_of_pattern(normalised)

    def parent_of_pattern(self, normalised: str) -> str | None:
        """A protected or restricted pattern that a path *inside* the directory `normalised` would match.

        `.claude` is the parent of `.claude/settings.json`, `.git` of `.git/hooks/`:
        moving, copying or linking a directory to such a name puts whatever it holds
        there, and deleting it takes the protected files with it.
        """
        folded, parts = self._parts(normalised)
        for patterns in (self._protected, self._patterns):
            for pattern, kind, compiled in patterns.items:
                comps = [c for c in compiled.split("/") if c]
                if kind == "absolute":
                    whole = "/" + "/".join(comps)
                    if whole.startswith(folded.rstrip("/") + "/") and folded.rstrip("/") != whole:
                        return pattern
                    continue
                if kind != "tail" or len(comps) < 2:
                    continue
                for k in range(1, len(comps)):
                    if len(parts) >= k and all(fnmatchcase(p, c) for p, c in zip(parts[-k:], comps[:k])):
                        return pattern
        return None

    def secret_match(self, normalised: str, *, glob: bool = False) -> str | None:
        """The secret pattern a path read matches (None: not a secret, or allowed by `readable_secrets`)."""
        # a file-name pattern (`*.env`, `id_rsa`) names the file read, not a directory on the way to it
        found = self._match(self._secrets, normalised, glob, names_last=True)
        if found is None:
            return None
        folded = normalised.casefold()
        if not glob and any(fnmatchcase(folded.rsplit("/", 1)[-1], p) for p in DEFAULT_READABLE):
            return None
        if not glob and any(fnmatchcase(folded, g) for g in self._readable):
            return None
        return found

    def inside_roots(self, normalised: str, roots: tuple[str, ...] | None = None) -> bool:
        """Whether `normalised` is one of the writable roots or below one."""
        for root in roots if roots is not None else self.writable_roots:
            if normalised == root or normalised.startswith(root.rstrip("/") + "/"):
                return True
        return False

    def check(self, raw: object, *, base: str | None = None, roots: tuple[str, ...] | None = None) -> PathCheck:
        """Normalise one write target and match it. Raises PathError for a non-path."""
        normalised = self.normalise(raw, base)
        protected = self.protected_match(normalised)
        restricted = protected or self._match(self._patterns, normalised)
        return PathCheck(str(raw), normalised, restricted, self.inside_roots(normalised, roots), protected is not None)

    def check_read(self, raw: object, *, base: str | None = None) -> ReadCheck:
        """Normalise one path a call reads and match it against the secret patterns."""
        normalised = self.normalise(raw, base)
        return ReadCheck(str(raw), normalised, self.secret_match(normalised))

    def roots_for(self, roots: Iterable[str] | None) -> tuple[str, ...]:
        """Normalise an entry's own writable roots (None: the policy's); relative ones are under the project."""
        if roots is None:
            return self.writable_roots
        return tuple(self.normalise(r, self.project_dir) for r in roots)


# Code points HFS+ ignores in file names (the list git checks for `.git` spoofing): `.g\u200cit` is `.git`
# there. They are removed before matching on every platform: matching more is the safe direction.
_IGNORABLE = dict.fromkeys([*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF])


def _without_ignorables(text: str) -> str:
    return text.translate(_IGNORABLE) if any(ord(c) >= 0x200C for c in text) else text


def _explicit(home: str | None, case_insensitive: bool | None, base_dir: str | None,
              project_dir: str | None = None) -> PathContext:
    """A context from explicit values (tests, embedding); the edge builds one with `workspace.path_context()`."""
    if home is None or base_dir is None or not posixpath.isabs(base_dir) \
            or (project_dir is not None and not posixpath.isabs(project_dir)):
        raise ValueError("a PathPolicy needs a PathContext (spinegate.workspace.path_context()) or an absolute "
                         "base_dir (and project_dir, if given) and a home")
    return PathContext(cwd=base_dir, home=home, case_insensitive=bool(case_insensitive), project=project_dir)


def _match_parts(patterns: _Patterns, folded: str, parts: list[str], glob: bool,
                 names_last: bool = False) -> str | None:
    match = _overlap if glob else fnmatchcase
    for pattern, kind, compiled in patterns.items:
        if kind in ("component", "directory"):
            candidates = parts[-1:] if kind == "component" and names_last else parts
            if any(match(part, compiled) for part in candidates):
                return pattern
        elif kind == "absolute":
            if compiled.endswith("/"):
                if glob:
                    if _prefix_overlap(folded, compiled):
                        return pattern
                elif (folded + "/").startswith(compiled):
                    return pattern
            elif match(folded, compiled):
                return pattern
        else:  # tail
            for i in range(len(parts)):
                tail = "/".join(parts[i:])
                if match(tail, compiled) or (compiled.endswith("/") and (
                        _prefix_overlap(tail, compiled) if glob else (tail + "/").startswith(compiled))):
                    return pattern
    return None


def _prefix_overlap(glob: str, directory: str) -> bool:
    """Whether a path matching `glob` may lie in (or be) `directory` (which ends in `/`)."""
    comps = directory.rstrip("/").split("/")
    parts = glob.split("/")
    if len(parts) < len(comps):
        return False
    return all(_overlap(p, c) for p, c in zip(parts, comps))


@lru_cache(maxsize=4096)
def _overlap(a: str, b: str) -> bool:
    """Whether some string matches both fnmatch-style globs `a` and `b` (`*`, `?`, `[...]`).

    A character class is taken to overlap any single character (matching more
    is the safe direction). A leading `*`, `?` or `[` of `a` does not match a
    leading dot, as the shell's globbing does not (dotglob off).
    """
    ta, tb = _tokens(a), _tokens(b)
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        memo[key] = False
        if i == len(ta) and j == len(tb):
            result = True
        elif i < len(ta) and ta[i] == "*":
            result = go(i + 1, j) or (j < len(tb) and _single(ta, i, tb[j], j) and go(i, j + 1))
        elif j < len(tb) and tb[j] == "*":
            result = go(i, j + 1) or (i < len(ta) and go(i + 1, j))
        elif i < len(ta) and j < len(tb):
            result = _compatible(ta[i], tb[j], i == 0) and go(i + 1, j + 1)
        else:
            result = False
        memo[key] = result
        return result

    return go(0, 0)


def _single(ta: list[str], i: int, token: str, j: int) -> bool:
    """Whether `*` at ta[i] may absorb the one-character token at position j of the other glob."""
    if i == 0 and j == 0 and token == ".":
        return False  # a leading * never matches a leading dot
    return True


def _bracket_end(glob: str, i: int) -> int:
    """The index after the bracket expression opening at glob[i] (`[`), or -1 when it is not one.

    As bash and fnmatch read it: an optional `!` or `^`, then a `]` that is the
    first member is literal, and `[:class:]`, `[=c=]` and `[.c.]` are members
    whose own `]` does not close the expression (`.en[[:alpha:]]` matches `.env`).
    """
    j = i + 1
    if j < len(glob) and glob[j] in "!^":
        j += 1
    if j < len(glob) and glob[j] == "]":
        j += 1
    while j < len(glob):
        c = glob[j]
        if c == "[" and j + 1 < len(glob) and glob[j + 1] in ":=.":
            close = glob.find(glob[j + 1] + "]", j + 2)
            if close != -1:
                j = close + 2
                continue
        if c == "]":
            return j + 1
        j += 1
    return -1


def _tokens(glob: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "[":
            end = _bracket_end(glob, i)
            if end != -1:
                out.append(glob[i:end])
                i = end
                continue
        if c == "*" and out and out[-1] == "*":
            i += 1
            continue
        out.append(c)
        i += 1
    return out


def _compatible(x: str, y: str, first: bool) -> bool:
    if first and "." in (x, y) and (x in ("?",) or x.startswith("[")):
        return False  # ? and [..] do not match a leading dot either
    if x == "?" or y == "?":
        return True
    x_class, y_class = x.startswith("[") and len(x) > 1, y.startswith("[") and len(y) > 1
    if x_class and y_class:
        return True
    if x_class or y_class:
        return _in_class(y if x_class else x, x if x_class else y)
    return x == y


def _in_class(char: str, bracket: str) -> bool:
    """Whether a bracket expression may match `char` (a class with [:name:] and the like: assume it does)."""
    if "[:" in bracket or "[=" in bracket or "[." in bracket:
        return True
    if bracket.startswith("[^"):
        bracket = "[!" + bracket[2:]  # bash's negation; fnmatch spells it `!`
    return fnmatchcase(char, bracket)


def _compile(pattern: str, home: str | None = None) -> tuple[str, str, str]:
    """(pattern, kind, folded glob) for one restricted pattern (`~/...` under `home`, when given)."""
    folded = pattern.casefold()
    if home is not None and folded.startswith("~/"):
        folded = home.rstrip("/").casefold() + folded[1:]
    if folded.startswith("/"):
        return pattern, "absolute", folded
    if folded.endswith("/") and "/" not in folded[:-1]:
        return pattern, "directory", folded[:-1]
    if "/" in folded:
        return pattern, "tail", folded
    return pattern, "component", folded


__all__ = ["PathPolicy", "PathCheck", "ReadCheck", "PathContext", "PathError", "DEFAULT_RESTRICTED",
           "DEFAULT_SECRETS", "DEFAULT_READABLE", "HARMLESS_TARGETS", "Resolver"]
