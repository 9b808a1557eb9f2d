"""Path normalisation and matching for the paths a call writes.

A path is normalised before it is matched, so that `./a/../.env`,
`docs/../.ENV` on a case-folding filesystem, or a symlink pointing into
`~/.ssh` all meet the same rules as the plain path they stand for:

1. `~` and `~/...` expand to the home directory given at construction;
2. relative paths are joined to the base directory (the gate's working
   directory unless the manifest or the caller says otherwise);
3. the resolver (default `os.path.realpath`) resolves `..` and symlinks;
4. where the filesystem folds case, the path is case-folded.

The resolver is the only step that touches the filesystem. It is injected
(`PathPolicy(resolver=...)`) so that the classifier that calls it stays a
pure function of its inputs plus that one edge, and tests can give it a
deterministic resolver.

Restricted patterns are matched case-insensitively whatever the filesystem
does: matching more paths is the safe direction for a deny rule.
"""

from __future__ import annotations

import os
import posixpath
import re
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Callable, Iterable

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
)

# Writes to these are not writes to a file (discarding output, the terminal).
HARMLESS_TARGETS: frozenset[str] = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})


class PathError(ValueError):
    """A path argument that cannot be a path (empty, NUL byte, not text)."""


def filesystem_folds_case() -> bool:
    """Whether the platform's default filesystem is case-insensitive (macOS, Windows)."""
    return sys.platform in ("darwin", "win32", "cygwin")


@dataclass(frozen=True, slots=True)
class PathCheck:
    """One normalised write target and what the rules say about it."""

    raw: str
    normalised: str
    restricted_by: str | None
    inside_roots: bool


class PathPolicy:
    """Normalises paths and matches them against restricted patterns and writable roots."""

    def __init__(self, *, base_dir: str | None = None, restricted: Iterable[str] = (),
                 writable_roots: Iterable[str] | None = None, resolver: Resolver | None = None,
                 home: str | None = None, case_insensitive: bool | None = None) -> None:
        self.resolver: Resolver = resolver or os.path.realpath
        self.home = home if home is not None else os.path.expanduser("~")
        self.case_insensitive = filesystem_folds_case() if case_insensitive is None else case_insensitive
        cwd = os.getcwd()
        self.base_dir = self._resolve(self._expand(base_dir if base_dir is not None else cwd), cwd)
        self.restricted: tuple[str, ...] = DEFAULT_RESTRICTED + tuple(p for p in restricted if p not in
                                                                       DEFAULT_RESTRICTED)
        self._patterns = tuple(_compile(p) for p in self.restricted)
        roots = tuple(writable_roots) if writable_roots is not None else (".",)
        self.writable_roots: tuple[str, ...] = tuple(self.normalise(r) for r in roots)

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

    # -- matching ---------------------------------------------------------------------

    def restricted_match(self, normalised: str) -> str | None:
        """The restricted pattern `normalised` matches, or None."""
        folded = normalised.casefold()
        # Below the base directory only the components under it count, so a
        # project that happens to live in, say, ~/secrets/app is still usable.
        base = self.base_dir.casefold().rstrip("/")
        relative = folded[len(base) + 1:] if base and folded.startswith(base + "/") else folded
        # Windows separators count as separators too: matching more is the safe direction for a deny rule.
        parts = [p for p in relative.replace("\\", "/").split("/") if p]
        folded = folded.replace("\\", "/")
        # Windows ignores trailing dots and spaces and reads `name:stream` as `name`: match that reading too.
        clean = [q for q in (p.split(":", 1)[0].rstrip(". ") for p in parts) if q]
        for candidate in (parts, clean) if clean != parts else (parts,):
            found = self._match_parts(folded, candidate)
            if found is not None:
                return found
        return None

    def _match_parts(self, folded: str, parts: list[str]) -> str | None:
        for pattern, kind, compiled in self._patterns:
            if kind in ("component", "directory"):
                if any(fnmatchcase(part, compiled) for part in parts):
                    return pattern
            elif kind == "absolute":
                if compiled.endswith("/"):
                    if (folded + "/").startswith(compiled):
                        return pattern
                elif fnmatchcase(folded, compiled):
                    return pattern
            else:  # tail
                for i in range(len(parts)):
                    if fnmatchcase("/".join(parts[i:]), compiled) or \
                            (compiled.endswith("/") and ("/".join(parts[i:]) + "/").startswith(compiled)):
                        return pattern
        return None

    def inside_roots(self, normalised: str, roots: tuple[str, ...] | None = None) -> bool:
        """Whether `normalised` is one of the writable roots or below one."""
        for root in roots if roots is not None else self.writable_roots:
            if normalised == root or normalised.startswith(root.rstrip("/") + "/"):
                return True
        return False

    def check(self, raw: object, *, base: str | None = None, roots: tuple[str, ...] | None = None) -> PathCheck:
        """Normalise one write target and match it. Raises PathError for a non-path."""
        normalised = self.normalise(raw, base)
        return PathCheck(str(raw), normalised, self.restricted_match(normalised),
                         self.inside_roots(normalised, roots))

    def roots_for(self, roots: Iterable[str] | None) -> tuple[str, ...]:
        """Normalise an entry's own writable roots (None: the policy's)."""
        if roots is None:
            return self.writable_roots
        return tuple(self.normalise(r) for r in roots)


def _compile(pattern: str) -> tuple[str, str, str]:
    """(pattern, kind, folded glob) for one restricted pattern."""
    folded = pattern.casefold()
    if folded.startswith("/"):
        return pattern, "absolute", folded
    if folded.endswith("/") and "/" not in folded[:-1]:
        return pattern, "directory", folded[:-1]
    if "/" in folded:
        return pattern, "tail", folded
    return pattern, "component", folded


__all__ = ["PathPolicy", "PathCheck", "PathError", "DEFAULT_RESTRICTED", "HARMLESS_TARGETS",
           "filesystem_folds_case", "Resolver"]
