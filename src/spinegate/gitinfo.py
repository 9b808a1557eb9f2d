"""The receipt's git_context, read from the .git directory (no subprocess)."""

from __future__ import annotations

import os
import re
from pathlib import Path

_SHA = re.compile(r"^[0-9a-f]{40}$")


def _find_git_dir(start: Path) -> Path | None:
    for d in (start, *start.parents):
        candidate = d / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # worktree or submodule: "gitdir: <path>"
            text = candidate.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[7:].strip())
                return target if target.is_absolute() else (d / target).resolve()
    return None


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    for base in (git_dir, _common_dir(git_dir)):
        loose = base / ref
        if loose.is_file():
            value = loose.read_text(encoding="ascii", errors="replace").strip()
            return value if _SHA.match(value) else None
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split(" ", 1)
                if len(parts) == 2 and parts[1] == ref and _SHA.match(parts[0]):
                    return parts[0]
    return None


def _common_dir(git_dir: Path) -> Path:
    common = git_dir / "commondir"
    if common.is_file():
        target = Path(common.read_text(encoding="utf-8").strip())
        return target if target.is_absolute() else (git_dir / target).resolve()
    return git_dir


def git_context(start: str | os.PathLike[str] | None = None) -> dict[str, str | None]:
    """{"branch", "commit_before", "commit_after"} for the repository holding `start`.

    Outside a repository: branch "" and null commits. A detached HEAD gives
    branch "HEAD". commit_after is null: the gate decides before anything runs.
    """
    empty: dict[str, str | None] = {"branch": "", "commit_before": None, "commit_after": None}
    try:
        git_dir = _find_git_dir(Path(start or os.getcwd()).resolve())
        if git_dir is None:
            return empty
        head = (git_dir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return empty
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
        try:
            commit = _resolve_ref(git_dir, ref)
        except OSError:
            commit = None
        return {"branch": branch, "commit_before": commit, "commit_after": None}
    return {"branch": "HEAD", "commit_before": head if _SHA.match(head) else None, "commit_after": None}
