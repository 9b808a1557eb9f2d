"""Where a project's spinegate files live, and the locks that keep one writer per log.

    PROJECT/.spinegate/manifest.json      the sealed policy (committed)
    PROJECT/.spinegate/receipts.jsonl     the receipt log (ignored by git)
    PROJECT/.spinegate/run/               the helper's private directory (0700, ignored by git):
        helper.sock  helper.lock  helper.pid  helper.log  index/

The names come from `spinegate.hook_client`, which must not import this
package. `helper.lock` is held by whoever writes the log for the project's
hooks: the resident helper for its whole life, else one in-process hook or
`spinegate posture set` at a time.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from dataclasses import dataclass

from .. import hook_client as wire


@dataclass(frozen=True, slots=True)
class ProjectLayout:
    """The files of one project set up by `spinegate init`."""

    project: str

    @classmethod
    def of(cls, project: str | os.PathLike[str]) -> ProjectLayout:
        return cls(os.path.realpath(os.fspath(project)))

    @classmethod
    def find(cls, start: str | os.PathLike[str]) -> ProjectLayout | None:
        """The project at or above `start` (the nearest directory holding `.spinegate/manifest.json`)."""
        found = wire.find_project(os.fspath(start))
        return cls.of(found) if found is not None else None

    @property
    def state_dir(self) -> str:
        return os.path.join(self.project, wire.STATE_DIR)

    @property
    def manifest(self) -> str:
        return os.path.join(self.state_dir, wire.MANIFEST_NAME)

    @property
    def receipts(self) -> str:
        return os.path.join(self.state_dir, wire.RECEIPTS_NAME)

    @property
    def run_dir(self) -> str:
        return wire.run_dir(self.project)

    @property
    def socket(self) -> str:
        return os.path.join(self.run_dir, wire.SOCKET_NAME)

    @property
    def lock(self) -> str:
        return os.path.join(self.run_dir, wire.LOCK_NAME)

    @property
    def pid_file(self) -> str:
        return os.path.join(self.run_dir, "helper.pid")

    @property
    def index_dir(self) -> str:
        return os.path.join(self.run_dir, "index")

    def make_run_dir(self) -> None:
        """Create the helper's directory, readable by this user only (the socket inherits that protection)."""
        os.makedirs(self.run_dir, mode=0o700, exist_ok=True)
        if os.stat(self.run_dir).st_mode & 0o077:
            os.chmod(self.run_dir, 0o700)


class LockBusy(Exception):
    """The lock is held by another process (a running helper, another hook)."""


class WriterLock:
    """An exclusive `flock` on a file, held until `release` (or the process ends: never left stale)."""

    def __init__(self, path: str, *, wait: float = 0.0) -> None:
        """Take the lock, waiting up to `wait` seconds; LockBusy if another process keeps it."""
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(self._fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(self._fd)
                    raise LockBusy(path) from None
                time.sleep(0.01)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = -1

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


__all__ = ["LockBusy", "ProjectLayout", "WriterLock"]
