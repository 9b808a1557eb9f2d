"""The writer lock of an append-only log: taken per append, or held while this process is the only writer.

Writers of one log in several processes serialise on an exclusive `flock`
of the log file. Taking and releasing it around every append costs two
system calls, and the `fstat` that checks nobody else wrote since costs a
third; a process that is the log's only writer needs none of them. So a
writer that finds the lock free after an append, and has heard no other
writer for `QUIET_SECONDS`, keeps it: from then on each append is a single
`write`, and the store knows the end of the file without asking.

How another writer gets in: every writer first tries the lock without
waiting; when it is taken, the writer *knocks* (sets the log's times to now,
an attribute change) and then waits for the lock. The holder watches the
log's attributes (`spinegate.watch`, inotify or kqueue); its watcher thread
hears the knock, takes the store's mutex (so no append of its own is half
done) and releases the lock, then goes back to a lock per append, checking
the end of the file each time (a torn line left by the other writer stops
it, as it always did). It keeps the lock again only after `QUIET_SECONDS`
without a knock. The knocker waits only for the holder's watcher thread to
wake, typically well under a millisecond.

A writer that cannot watch the log (no inotify or kqueue) never keeps the
lock. A writer that does not knock (an older spinegate, or a program that
takes the lock by hand) waits until the holder next releases it: at close,
or on the next knock from anyone. The lock is advisory, as before: a program
that appends without taking it is outside this protocol either way.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from .watch import Watch, watch_file

try:  # POSIX advisory locks; absent on Windows, where one process per log is assumed.
    import fcntl

    def lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # pragma: no cover
    def lock(fd: int) -> None:
        return None

    def try_lock(fd: int) -> bool:
        return True

    def unlock(fd: int) -> None:
        return None

#: Keep the lock only after this long without hearing another writer.
QUIET_SECONDS = 1.0


def knock(fd: int) -> None:
    """Ask the log's holder (if one keeps the lock) to release it: touch the file's times."""
    try:
        os.utime(fd)
    except (OSError, NotImplementedError):
        pass  # cannot touch it: then wait, as for a writer that does not listen


def acquire(fd: int) -> None:
    """Take the log's lock: at once if free, else after knocking."""
    if not try_lock(fd):
        knock(fd)
        lock(fd)


class WriterLock:
    """The lock of one open log descriptor, kept across appends while this process is its only writer.

    `held` is True while the lock is kept (then an append needs no lock and
    no `fstat`). Every change of `held` happens under `mutex`, the store's
    own, which also covers each append.
    """

    def __init__(self, fd: int, path: str, mutex: threading.Lock, *, keep: bool = True) -> None:
        self.fd = fd
        self.mutex = mutex
        self.held = False
        self._heard = -QUIET_SECONDS  # nobody heard yet: keep the lock from the first append on
        self._state = threading.Lock()  # orders a knock (`_heard`) against `end` keeping the lock
        self._watch: Watch | None = watch_file(path, on_change=self._knocked, contents=False) if keep else None

    def begin(self) -> None:
        """Before an append (under `mutex`): take the lock unless it is kept."""
        if not self.held:
            acquire(self.fd)

    def end(self) -> None:
        """After an append (under `mutex`): keep the lock if no other writer was heard lately, else release it."""
        if self.held:
            return
        watch = self._watch
        if watch is not None and watch.active:
            with self._state:
                if time.monotonic() - self._heard >= QUIET_SECONDS:
                    self.held = True
                    return
        unlock(self.fd)

    def _knocked(self) -> None:
        """On the watcher thread: another writer (or anyone) touched the log's attributes.

        The knock and `end`'s decision to keep the lock are ordered by
        `_state` (a knock heard after `end` found the log quiet but before
        it kept the lock would otherwise be lost, and the knocker left
        blocked until the holder's next knock or close). `mutex` is taken
        only to let a kept lock go: an append then never waits for the
        file lock, so the watcher thread, which serves every watch of the
        process, is never held up behind another process's lock.
        """
        with self._state:
            self._heard = time.monotonic()
            held = self.held
        if held:
            with self.mutex:
                if self.held:
                    self.held = False
                    unlock(self.fd)

    def forget(self) -> None:
        """Stop listening (the store closes its descriptor, which releases the lock)."""
        self.held = False
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()

    def __repr__(self) -> str:
        state: Any = "kept" if self.held else "per append"
        return f"WriterLock(fd={self.fd}, {state})"
