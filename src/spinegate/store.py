"""Append-only receipt persistence.

The default store is a JSONL file, one canonical receipt per line. Every
line goes to the operating system in a single `write` before the gate lets
the call proceed (with ``durability="fsync"``, to the disk; concurrent
writers in one process then share fsyncs, see `JsonlReceiptStore`). Writers
in one process are serialised by the emitter; writers in several processes
by an exclusive `flock` on the log itself, so lines never interleave. The log is
never truncated or rewritten: a torn last line left by a crash stops all
writing until `recover_torn_tail` (``spinegate recover``) has moved the
fragment to a side file.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import datetime, timezone
from typing import Any, Iterator, Literal, Protocol

from .errors import ReceiptLogError, ReceiptWriteError, TornLogError

try:  # POSIX advisory locks; absent on Windows, where one process per log is assumed.
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # pragma: no cover
    def _lock(fd: int) -> None:
        return None

    def _unlock(fd: int) -> None:
        return None

Durability = Literal["flush", "fsync"]
RECOVER_HINT = "run `spinegate recover {path}` to move the fragment to a side file, then retry"


class ReceiptStore(Protocol):
    """Where receipts go. `append` must be durable to the chosen level when it returns."""

    location: str

    def append(self, line: str) -> None: ...

    def last_receipt(self, session_id: str) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


class MemoryReceiptStore:
    """Keeps receipts in a list. For tests and benchmarks, never for audit."""

    location = "<memory>"

    def __init__(self) -> None:
        self.lines: list[str] = []

    def append(self, line: str) -> None:
        self.lines.append(line)

    def last_receipt(self, session_id: str) -> dict[str, Any] | None:
        for line in reversed(self.lines):
            data = json.loads(line)
            if data.get("session_id") == session_id:
                return data
        return None

    def receipts(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def session_receipts(self, session_id: str) -> Iterator[dict[str, Any]]:
        """Every receipt of `session_id`, in order (to resume a continued session's counters)."""
        for line in list(self.lines):
            data = json.loads(line)
            if data.get("session_id") == session_id:
                yield data

    def close(self) -> None:
        pass


def find_torn_tail(path: str | os.PathLike[str]) -> int | None:
    """Offset of a partial last line (no trailing newline), or None if the log is whole."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return None
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return None
            # Walk back to the previous newline to find where the fragment starts.
            pos = size
            chunk = 65536
            while pos > 0:
                start = max(0, pos - chunk)
                fh.seek(start)
                block = fh.read(pos - start)
                nl = block.rfind(b"\n")
                if nl != -1:
                    return start + nl + 1
                pos = start
            return 0
    except FileNotFoundError:
        return None


def count_lines_before(path: str | os.PathLike[str], offset: int) -> int:
    n = 0
    with open(path, "rb") as fh:
        remaining = offset
        while remaining > 0:
            block = fh.read(min(1 << 20, remaining))
            if not block:
                break
            n += block.count(b"\n")
            remaining -= len(block)
    return n


def recover_torn_tail(path: str | os.PathLike[str], *, now: datetime | None = None) -> tuple[str, int] | None:
    """Move a torn last line to `<log>.torn-<UTC time>` and cut it from the log.

    The fragment is written and fsynced to the side file before the log is
    shortened, so no byte is ever lost. Returns (side file, fragment length),
    or None when the log was whole.
    """
    path = str(path)
    with open(path, "r+b") as fh:
        _lock(fh.fileno())
        try:
            offset = find_torn_tail(path)
            if offset is None:
                return None
            fh.seek(offset)
            fragment = fh.read()
            stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
            side = f"{path}.torn-{stamp}"
            fd = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, fragment)
                os.fsync(fd)
            finally:
                os.close(fd)
            fh.truncate(offset)
            fh.flush()
            os.fsync(fh.fileno())
            return side, len(fragment)
        finally:
            _unlock(fh.fileno())


class _Batch:
    """Callers waiting for one fsync, each blocked on its own pre-acquired lock.

    One lock per waiter, released by the leader, wakes each caller once and
    leaves no shared lock for the woken callers to queue on. `leader` is the
    lock of the caller that starts this fsync, released when the one before ends.
    """

    __slots__ = ("waiters", "leader")

    def __init__(self, leader: "threading.Lock | None" = None) -> None:
        self.waiters: list[threading.Lock] = []
        self.leader = leader


class JsonlReceiptStore:
    """Append-only JSONL receipt log, safe across threads and processes.

    With ``durability="fsync"`` and ``group_commit=True`` (the default),
    concurrent writers in one process share fsyncs: `write` puts a line in
    the log and returns a ticket, `sync(ticket)` returns once that line is on
    disk, and one caller (the leader) fsyncs for every line written before it
    started while the others wait. `append` is `write` then `sync`.
    ``group_commit=False`` fsyncs each line under the lock (one fsync per
    receipt; kept for comparison in benchmarks). `fsync_count` counts the
    fsyncs this store has made.
    """

    def __init__(self, path: str | os.PathLike[str], *, durability: Durability = "flush",
                 group_commit: bool = True, follow_symlinks: bool = True) -> None:
        if durability not in ("flush", "fsync"):
            raise ValueError(f"durability must be 'flush' or 'fsync', not {durability!r}")
        self.location = str(path)
        self.durability = durability
        self.group_commit = group_commit
        # False for files the store names itself (the checkpoint sidecar): a symlink planted there
        # must not make the writer append to whatever file it points at.
        nofollow = 0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)
        self._open_flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | nofollow
        self.fsync_count = 0
        self._fd: int | None = None
        self._expected_end = -1
        self._broken: str | None = None
        self._mutex = threading.Lock()
        # Group commit state: tickets count the lines this store has written (`_written`, changed only
        # under `_mutex`, after the line is in the file); `_synced` is the highest ticket known on disk
        # and only grows. The rest is guarded by `_sync_lock`; see `sync`.
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        self._syncing = False
        self._running: _Batch | None = None  # waiters the running fsync covers (made on demand)
        self._running_target = 0  # the ticket the running fsync covers up to
        self._next: _Batch | None = None  # waiters that need the fsync after it; its creator leads it
        self._sync_error: ReceiptWriteError | None = None
        try:
            self._open()
        except ReceiptWriteError:
            pass  # reported, and the call refused, on the first append
        torn = self._torn_tail()
        if torn is not None:
            self.close()
            raise TornLogError(
                "the log ends in a torn (partial) line, left by an interrupted write",
                path=self.location, offset=torn, line=count_lines_before(self.location, torn) + 1,
                fix=RECOVER_HINT.format(path=self.location),
            )

    def _torn_tail(self) -> int | None:
        """`find_torn_tail`, under the file lock: another process's line being written is not taken for torn."""
        fd = self._fd
        try:
            if fd is None:  # unopenable: read only a regular file (a pipe would block the reader)
                return find_torn_tail(self.location) if stat.S_ISREG(os.stat(self.location).st_mode) else None
            _lock(fd)
            try:
                return find_torn_tail(self.location)
            finally:
                _unlock(fd)
        except OSError:
            return None  # not a readable file (a directory, say): the first append fails, closed

    def _open(self) -> int:
        if self._fd is None:
            try:
                fd = os.open(self.location, self._open_flags, 0o640)
            except OSError as exc:
                raise ReceiptWriteError(
                    f"cannot open the receipt log: {exc.strerror or exc}", path=self.location,
                    fix="make sure the directory exists and is writable",
                ) from exc
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                # A pipe would block the writer once full, a device would swallow the receipts.
                os.close(fd)
                raise ReceiptWriteError("the receipt log is not a regular file (a pipe or device)",
                                        path=self.location, fix="point the log at a regular file")
            self._fd = fd
        return self._fd

    def append(self, line: str) -> None:
        """Write one receipt line and return once it is as durable as the store promises."""
        self.sync(self.write(line))

    def write(self, line: str) -> int:
        """Write one line to the log (one `write`, under the file lock) and return its ticket.

        With fsync durability and group commit, the line is not yet on disk:
        pass the ticket to `sync` before letting the call proceed.
        """
        data = (line + "\n").encode("ascii")
        with self._mutex:
            if self._sync_error is not None:
                raise self._sync_error
            if self._broken:
                raise TornLogError(self._broken, path=self.location, fix=RECOVER_HINT.format(path=self.location))
            fd = self._open()
            _lock(fd)
            try:
                end = os.fstat(fd).st_size
                if end != self._expected_end and end > 0 and os.pread(fd, 1, end - 1) != b"\n":
                    self._broken = "another writer left a torn line at the end of the log"
                    raise TornLogError(self._broken, path=self.location, offset=end,
                                       fix=RECOVER_HINT.format(path=self.location))
                self._write_all(fd, data, end)
                inline = self.durability == "fsync" and not self.group_commit
                if inline:
                    self._fsync(fd)
                self._expected_end = end + len(data)
            finally:
                _unlock(fd)
            # Only here, under `_mutex` and after the line is in the file: a leader that reads
            # `_written` covers every line up to it.
            self._written += 1
            ticket = self._written
            if inline:
                self._synced = ticket
            return ticket

    def sync(self, ticket: int) -> None:
        """Return once the line with `ticket` is on disk (a no-op for flush durability).

        Group commit without a thundering herd: a caller whose line is
        already covered returns at once; if no fsync is running, the caller
        leads one itself, covering every line written so far; otherwise it
        waits only for the fsync that covers its line: the running one if it
        started after the line was written, else the next one, which the
        first such waiter leads once the running one ends. Each finished
        fsync wakes just the callers it covers and the next leader. A failed
        fsync fails every waiter and stops the store.
        """
        if self.durability != "fsync" or self._synced >= ticket:  # `_synced` only grows
            return
        lock = self._sync_lock
        while True:
            with lock:
                if self._sync_error is not None:
                    raise self._sync_error
                if self._synced >= ticket:
                    return
                if self._syncing:
                    parked = threading.Lock()
                    parked.acquire()
                    if ticket <= self._running_target:  # the running fsync covers this line
                        if self._running is None:
                            self._running = _Batch()
                        self._running.waiters.append(parked)
                    elif self._next is None:  # the first to need the next fsync leads it
                        self._next = _Batch(leader=parked)
                    else:
                        self._next.waiters.append(parked)
                else:
                    # Lead: one fsync for every line written so far, and for the waiters queued for it.
                    self._syncing = True
                    self._running, self._next = self._next, None
                    target = self._running_target = self._written
                    fd = self._fd
                    parked = None
            if parked is None:
                self._lead(fd, target)
                return
            parked.acquire()  # released by a leader: re-check

    def _lead(self, fd: int | None, target: int) -> None:
        """Run one fsync covering tickets up to `target`, then wake whom it covers and the next leader."""
        error: OSError | None = None
        try:
            if fd is not None:
                self._fsync(fd)
        except OSError as exc:
            error = exc
        with self._sync_lock:
            self._syncing = False
            if error is None:
                if target > self._synced:
                    self._synced = target
            else:
                self._broken = f"fsync of the receipt log failed: {error.strerror or error}"
                self._sync_error = ReceiptWriteError(
                    self._broken, path=self.location,
                    fix="check the disk; receipts written since the last good fsync may not be on disk")
            covered, self._running = self._running, None
            following = self._next
            if error is not None:
                self._next = None  # nobody leads it: its callers are all woken below, to fail
        if following is not None and following.leader is not None:
            following.leader.release()  # first, so the next fsync starts while the covered callers wake
            following.leader = None
            if error is not None:
                for parked in following.waiters:
                    parked.release()
        if covered is not None:
            for parked in covered.waiters:
                parked.release()
        if error is not None:
            raise self._sync_error  # type: ignore[misc]

    def sync_all(self) -> None:
        """Return once every line this store has written is on disk (fsync durability)."""
        self.sync(self._written)

    def _fsync(self, fd: int) -> None:
        os.fsync(fd)
        self.fsync_count += 1

    def _write_all(self, fd: int, data: bytes, start: int) -> None:
        written = 0
        try:
            while written < len(data):
                n = os.write(fd, data[written:])
                if n <= 0:
                    raise OSError("write returned no progress")
                written += n
        except OSError as exc:
            if written:
                self._broken = f"a receipt was only partly written ({written} of {len(data)} bytes)"
            raise ReceiptWriteError(
                f"cannot write the receipt: {exc.strerror or exc}", path=self.location, offset=start,
                fix="free disk space or fix permissions; a partial line must be recovered before writing resumes",
            ) from exc

    def last_receipt(self, session_id: str) -> dict[str, Any] | None:
        """The last receipt of `session_id` in the log (for continuing its chain)."""
        needle = f'"session_id":{json.dumps(session_id)}'.encode()
        last: bytes | None = None
        try:
            with open(self.location, "rb") as fh:
                for raw in fh:
                    if needle in raw:
                        last = raw
        except FileNotFoundError:
            return None
        if last is None:
            return None
        try:
            data = json.loads(last)
        except (ValueError, RecursionError) as exc:
            raise ReceiptLogError(f"the last receipt of session {session_id} is not valid JSON: {exc}",
                                  path=self.location) from None
        return data if data.get("session_id") == session_id else None

    def session_receipts(self, session_id: str) -> Iterator[dict[str, Any]]:
        """Every whole receipt of `session_id` in the log, in order (to resume a continued session's counters)."""
        needle = f'"session_id":{json.dumps(session_id)}'.encode()
        try:
            with open(self.location, "rb") as fh:
                for raw in fh:
                    if needle in raw and raw.endswith(b"\n"):
                        try:
                            data = json.loads(raw)
                        except (ValueError, RecursionError):
                            continue
                        if isinstance(data, dict) and data.get("session_id") == session_id:
                            yield data
        except FileNotFoundError:
            return

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None:
                try:
                    if self.durability == "fsync" and self._sync_error is None and self._synced < self._written:
                        self._fsync(self._fd)
                finally:
                    os.close(self._fd)
                    self._fd = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def open_store(receipts: "str | os.PathLike[str] | ReceiptStore", *, durability: Durability = "flush",
               group_commit: bool = True) -> ReceiptStore:
    """A JSONL store for a path; a store object is used as it is."""
    if isinstance(receipts, (str, os.PathLike)):
        return JsonlReceiptStore(receipts, durability=durability, group_commit=group_commit)
    if hasattr(receipts, "append") and hasattr(receipts, "last_receipt"):
        return receipts
    raise TypeError(f"receipts must be a path or a ReceiptStore, not {type(receipts).__name__}")
