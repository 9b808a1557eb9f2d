"""The edge that reads where the agent works: the one place the path context comes from.

`path_context()` reads the working directory, the home directory and the
platform's case folding once, resolves the gate's own files and supplies
the resolver that reads symlinks on disk (`os.path.realpath`), so that the
classifier and the path policy stay pure functions of the value it
returns. The gate calls it when it opens; the CLI and tests call it (or
build a `PathContext` by hand) the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from .paths import PathContext, Resolver


def filesystem_folds_case() -> bool:
    """Whether the platform's default filesystem is case-insensitive (macOS, Windows)."""
    return sys.platform in ("darwin", "win32", "cygwin")


def path_context(*, protected_files: Iterable[str | os.PathLike[str] | None] = (), cwd: str | None = None,
                 home: str | None = None, case_insensitive: bool | None = None,
                 resolver: Resolver = os.path.realpath, project: str | None = None) -> PathContext:
    """The path context of this process (explicit arguments win over what is read).

    `cwd` is where the agent works (its calls' relative paths resolve
    there); `project` is the project it works on when that is another
    directory (a coding agent in a subdirectory: the writable roots and
    readable secrets are the project's); None: the same as `cwd`.
    `protected_files` are the gate's own files (manifest, receipt log,
    checkpoint file, signing key), relative ones to this process's working
    directory (where they were opened); `None` entries, non-paths and names
    such as `<memory>` (a store without a file) are skipped.
    """
    here = os.path.realpath(cwd if cwd is not None else os.getcwd())
    opened_in = os.getcwd()
    files = tuple(dict.fromkeys(
        os.path.realpath(os.path.join(opened_in, os.fspath(f))) for f in protected_files
        if isinstance(f, (str, os.PathLike)) and os.fspath(f) and not os.fspath(f).startswith("<")))
    return PathContext(cwd=here, home=home if home is not None else os.path.expanduser("~"),
                       case_insensitive=filesystem_folds_case() if case_insensitive is None else case_insensitive,
                       protected_files=files, resolver=resolver,
                       project=os.path.realpath(project) if project is not None else None)


__all__ = ["path_context", "filesystem_folds_case"]
