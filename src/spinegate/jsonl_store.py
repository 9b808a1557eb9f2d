"""The default receipt store: a JSONL log and its checkpoint sidecar, append-only, safe across processes.

One canonical receipt per line. Every line goes to the operating system in a
single `write` before the gate lets the call proceed (with
``durability="fsync"``, to the disk; concurrent writers in one process then
share fsyncs, see `JsonlFile`). Writers in one process are serialised by the
emitter; writers in several processes by an exclusive `flock` on the file
itself, so lines never interleave. Signed checkpoints go to a sidecar file,
``<log>.checkpoints.jsonl``, written the same way.

Nothing here truncates or rewrites a log: a torn last line left by a crash
stops all writing until `recover_torn_tail` (``spinegate recover``) has
moved the fragment to a side file. Opening a log reads only its tail (the
torn-line check), so it costs the same for ten receipts as for ten million;
continuing a named session reads the whole log (`last_receipt`,
`session_receipts`).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import stat
import threading
import weakref
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from .canonical import canonical_json
from .errors import ReceiptFormatError, ReceiptLogError, ReceiptWriteError, TornLogError
from .log_lock import WriterLock, acquire, unlock
from .receipts import Receipt
from .store import Durability, StoredRecord

RECOVER_HINT = "run `spinegate recover {path}` to move the fragment to a side file, then retry"
CHECKPOINT_SUFFIX = ".checkpoints.jsonl"
#: Longest checkpoint line read (a real one is about 700 bytes plus the session id).
MAX_CHECKPOINT_LINE = 64 * 1024


def checkpoint_path_for(log_path: str | os.PathLike[str]) -> str:
    """The sidecar checkpoint file of a JSONL log."""
    return os.fspath(log_path) + CHECKPOINT_SUFFIX


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
        acquire(fh.fileno())
        try:
            offset = find_torn_tail(path)
            if offset is None:
                return None
            fh.seek(offset)
            fragment = fh.read()
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
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
            unlock(fh.fileno())


class _Batch:
    """Callers waiting for one fsync, each blocked on its own pre-acquired lock.

    One lock per waiter, released by the leader, wakes each caller once and
    leaves no shared lock for the woken callers to queue on. `leader` is the
    lock of the caller that starts this fsync, released when the one before ends.
    """

    __slots__ = ("leader", "waiters")

    def __init__(self, leader: threading.Lock | None = None) -> None:
        self.waiters: list[threading.Lock] = []
        self.leader = leader


#: How long a deferred line may wait for a following line to carry it before the writer thread appends it.
#: Also how often the writer thread wakes while lines keep being deferred: each wake takes the GIL for a
#: moment, so a short period would slow a caller that runs Python without pause (a CPU-bound tool).
DEFER_SECONDS = 0.02
#: The writer thread sleeps (waits for a nudge) after this long without deferred lines.
IDLE_SECONDS = 0.5

log = logging.getLogger("spinegate")


class DeferredWriter:
    """One store's writer thread: appends deferred lines that no following line carried (see `defer_bytes`).

    It wakes every DEFER_SECONDS while lines keep being deferred (so a busy
    caller never pays for waking it: a line deferred between two decisions
    is carried by the second, and the thread finds nothing to do) and
    sleeps on an event after IDLE_SECONDS without any; `nudge` wakes it then.
    """

    def __init__(self, store: JsonlFile) -> None:
        self._store = weakref.ref(store)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.sleeping = False
        self._thread = threading.Thread(target=self._run, name="spinegate-deferred", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        if self.sleeping:
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        idle = 0.0
        while not self._stop.wait(DEFER_SECONDS):
            store = self._store()
            if store is None:
                return
            if store._deferred:
                idle = 0.0
                try:
                    store.flush_deferred()
                    if store.durability == "fsync":
                        store.sync(store._written)
                except Exception as exc:  # noqa: BLE001 - kept queued: the next decision writes them or fails closed
                    log.warning("deferred receipts could not be written to %s: %s", store.location, exc)
            else:
                idle += DEFER_SECONDS
            del store
            if idle >= IDLE_SECONDS:
                self.sleeping = True
                self._wake.clear()
                store = self._store()
                pending = store is not None and bool(store._deferred)
                del store
                if not pending:
                    self._wake.wait()
                self.sleeping = False
                idle = 0.0


class JsonlFile:
    """An append-only JSONL file, safe across threads and processes: one `write` per line, never rewritten.

    With ``durability="fsync"`` and ``group_commit=True`` (the default),
    concurrent writers in one process share fsyncs: `write` puts a line in
    the log and returns a ticket, `sync(ticket)` returns once that line is on
    disk, and one caller (the leader) fsyncs for every line written before it
    started while the others wait. `append` is `write` then `sync`.
    ``group_commit=False`` fsyncs each line under the lock (one fsync per
    receipt; kept for comparison in benchmarks). `fsync_count` counts the
    fsyncs this store has made.

    While this process is the log's only writer the file lock is kept
    between appends and each append is one `write` (`log_lock.WriterLock`:
    how the store knows, and how a second writer gets in);
    ``single_writer=False`` takes the lock for every append.
    """

    def __init__(self, path: str | os.PathLike[str], *, durability: Durability = "flush",
                 group_commit: bool = True, follow_symlinks: bool = True, single_writer: bool = True) -> None:
        if durability not in ("flush", "fsync"):
            raise ValueError(f"durability must be 'flush' or 'fsync', not {durability!r}")
        self.location = str(path)
        self.durability = durability
        self._quick = durability == "flush"  # while True, an only writer appends with one bare `write`
        self.group_commit = group_commit
        # False for files the store names itself (the checkpoint sidecar): a symlink planted there
        # must not make the writer append to whatever file it points at.
        nofollow = 0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)
        self._open_flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | nofollow
        self.fsync_count = 0
        self.single_writer = single_writer
        self._fd: int | None = None
        self._writer: WriterLock | None = None
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
        self._deferred: list[bytes] = []  # lines waiting to be appended (`defer_bytes`), under `_mutex`
        self._flusher: DeferredWriter | None = None
        try:
            self._open()
        except ReceiptWriteError:
            pass  # reported, and the call refused, on the first append
        _open_files.add(self)
        torn = self._torn_tail()
        if torn is not None:
            JsonlFile.close(self)  # this file only: a subclass's close may expect more to be set up
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
            acquire(fd)
            try:
                return find_torn_tail(self.location)
            finally:
                unlock(fd)
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
            self._writer = WriterLock(fd, self.location, self._mutex, keep=self.single_writer)
        return self._fd

    @property
    def only_writer(self) -> bool:
        """True while this store keeps the log's lock between appends (see `log_lock`)."""
        writer = self._writer
        return writer is not None and writer.held

    def append(self, line: str) -> None:
        """Write one receipt line and return once it is as durable as the store promises."""
        self.sync(self.write(line))

    def write(self, line: str) -> int:
        """Write one line to the log (one `write`, under the file lock) and return its ticket.

        With fsync durability and group commit, the line is not yet on disk:
        pass the ticket to `sync` before letting the call proceed.
        """
        return self.write_bytes((line + "\n").encode("ascii"))

    def write_bytes(self, data: bytes) -> int:
        """`write` for a line already encoded, its newline included.

        Lines deferred before it (`defer_bytes`) go first, in the same `write`.
        """
        with self._mutex:
            pending = self._deferred
            writer = self._writer
            if not pending and writer is not None and writer.held and self._quick:
                # The only writer, nothing queued, flush durability, no error: one `write` and done.
                try:
                    n = os.write(writer.fd, data)
                except OSError:
                    return self._append_locked(data, 1)  # nothing written: words (and counts) the failure
                end = self._expected_end
                if n != len(data):  # a short write (a full disk, a signal): finish it, or stop the log
                    self._write_all(writer.fd, data, end, done=n)
                self._expected_end = end + len(data)
                self._written += 1
                return self._written
            if not pending:
                return self._append_locked(data, 1)
            self._deferred = []
            try:
                return self._append_locked(b"".join(pending) + data, len(pending) + 1)
            except BaseException:
                self._deferred = pending + self._deferred  # kept, in order, for the next try
                raise

    def defer_bytes(self, data: bytes) -> int:
        """Queue a line to be appended soon, and return its ticket without waiting for the disk.

        The line is appended with the next line written (in the same
        `write`), by this store's writer thread within DEFER_SECONDS if no
        other line comes first, or by `sync` of its ticket, `sync_all` and
        `close`. Lines keep their order. Raises now if the store already
        refuses to write (a torn line, a failed fsync).
        """
        with self._mutex:
            if self._sync_error is not None:
                raise self._sync_error
            if self._broken:
                raise TornLogError(self._broken, path=self.location, fix=RECOVER_HINT.format(path=self.location))
            self._deferred.append(data)
            ticket = self._written + len(self._deferred)
        self._deferred_writer().nudge()
        return ticket

    def flush_deferred(self) -> None:
        """Append every deferred line now (one `write`)."""
        with self._mutex:
            pending = self._deferred
            if not pending:
                return
            self._deferred = []
            try:
                self._append_locked(b"".join(pending), len(pending))
            except BaseException:
                self._deferred = pending + self._deferred
                raise

    def _deferred_writer(self) -> DeferredWriter:
        writer = self._flusher
        if writer is None:
            with self._mutex:
                writer = self._flusher
                if writer is None:
                    writer = self._flusher = DeferredWriter(self)
        return writer

    def _append_locked(self, data: bytes, lines: int) -> int:
        """Append `lines` whole lines in one `write` (under `_mutex`); the ticket of the last."""
        if self._sync_error is not None:
            raise self._sync_error
        if self._broken:
            raise TornLogError(self._broken, path=self.location, fix=RECOVER_HINT.format(path=self.location))
        writer = self._writer
        if writer is not None and writer.held:  # the only writer: the end of the file is known
            fd = writer.fd
            end = self._expected_end
            self._write_all(fd, data, end)
            inline = self.durability == "fsync" and not self.group_commit
            if inline:
                self._fsync(fd)
            self._expected_end = end + len(data)
        else:
            fd = self._open()
            writer = self._writer
            assert writer is not None  # made by _open
            writer.begin()
            try:
                st = os.fstat(fd)
                if st.st_nlink == 0:  # deleted while open: what is appended now reaches no file anyone reads
                    raise ReceiptWriteError(
                        "the receipt log was deleted while the gate had it open", path=self.location,
                        fix="restore the log from a copy if one exists, then open the gate again")
                end = st.st_size
                if end != self._expected_end and end > 0 and os.pread(fd, 1, end - 1) != b"\n":
                    self._quick = False
                    self._broken = "another writer left a torn line at the end of the log"
                    raise TornLogError(self._broken, path=self.location, offset=end,
                                       fix=RECOVER_HINT.format(path=self.location))
                self._write_all(fd, data, end)
                inline = self.durability == "fsync" and not self.group_commit
                if inline:
                    self._fsync(fd)
                self._expected_end = end + len(data)
            except BaseException:
                unlock(fd)
                raise
            writer.end()
        # Only here, under `_mutex` and after the lines are in the file: a leader that reads
        # `_written` covers every line up to it.
        self._written += lines
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
        if ticket > self._written:  # a deferred line: append it first
            self.flush_deferred()
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
                self._quick = False
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
        if error is not None and self._sync_error is not None:
            raise self._sync_error

    def sync_all(self) -> None:
        """Return once every line this store has written or deferred is in the file, and on disk with fsync."""
        self.flush_deferred()
        self.sync(self._written)

    def _fsync(self, fd: int) -> None:
        os.fsync(fd)
        self.fsync_count += 1

    def _write_all(self, fd: int, data: bytes, start: int, *, done: int = 0) -> None:
        """Write `data` (its first `done` bytes are already in the file); a failure after any byte stops the log."""
        written = done
        try:
            while written < len(data):
                n = os.write(fd, data[written:])
                if n <= 0:
                    raise OSError("write returned no progress")
                written += n
        except OSError as exc:
            if written:
                self._quick = False
                self._broken = f"a receipt was only partly written ({written} of {len(data)} bytes)"
            raise ReceiptWriteError(
                f"cannot write the receipt: {exc.strerror or exc}", path=self.location, offset=start,
                fix="free disk space or fix permissions; a partial line must be recovered before writing resumes",
            ) from exc

    def close(self) -> None:
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.stop()
        try:
            self.flush_deferred()  # deferred lines are in the file before close returns
        except ReceiptWriteError:
            pass  # the store is broken: the failure was reported when it happened
        with self._mutex:
            if self._fd is not None:
                try:
                    if self.durability == "fsync" and self._sync_error is None and self._synced < self._written:
                        self._fsync(self._fd)
                finally:
                    if self._writer is not None:
                        self._writer.forget()
                        self._writer = None
                    os.close(self._fd)  # releases the lock, if kept
                    self._fd = None

    def _after_fork(self) -> None:
        """In a forked child: the inherited descriptor shares the parent's lock, so never write through it.

        Deferred lines belong to the parent (which writes them): the child drops its copy.
        """
        self._mutex = threading.Lock()
        self._deferred = []
        self._flusher = None
        self._sync_lock = threading.Lock()
        fd, self._fd = self._fd, None
        if self._writer is not None:
            self._writer.held = False
            self._writer = None
        self._expected_end = -1
        if fd is not None:
            try:
                os.close(fd)  # the parent's descriptor (and its lock) stay as they are
            except OSError:
                pass

    def __del__(self) -> None:  # pragma: no cover - best effort
        """A store dropped without `close`: its deferred lines are appended (and made durable) before it goes."""
        if getattr(self, "_deferred", None):
            try:
                self.sync_all()
            except Exception as exc:  # noqa: BLE001 - say so: nothing else can be done here
                log.warning("deferred receipts could not be written to %s: %s", self.location, exc)
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


#: Every JSONL file open in this process (see `JsonlFile._after_fork`).
_open_files: weakref.WeakSet[JsonlFile] = weakref.WeakSet()


def flush_deferred(path: str | os.PathLike[str] | None = None) -> None:
    """Append now every deferred line of the JSONL files open in this process (only those of `path`, if given).

    For a reader in the same process that must see every receipt sealed so
    far (a test, a report made while the gate runs); other processes see
    deferred lines within `DEFER_SECONDS` anyway.
    """
    wanted = os.path.realpath(path) if path is not None else None
    for f in list(_open_files):
        if wanted is None or os.path.realpath(f.location) == wanted:
            f.flush_deferred()


def _forked_child() -> None:
    for f in list(_open_files):
        f._after_fork()


def _flush_at_exit() -> None:
    """At interpreter exit: deferred lines of stores never closed reach the file (and the disk, with fsync).

    The writer thread is a daemon, killed at exit without notice; a program
    that records an outcome and returns, raises or calls sys.exit without
    closing its gate would otherwise lose it (os._exit skips this, as it
    skips every exit handler).
    """
    for f in list(_open_files):
        try:
            f.sync_all()
        except Exception as exc:  # noqa: BLE001 - nothing more can be done at exit than to say so
            log.warning("deferred receipts could not be written to %s at exit: %s", f.location, exc)


atexit.register(_flush_at_exit)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked_child)


def _session_needle(session_id: str) -> bytes:
    """The bytes every canonical line of `session_id` contains (a cheap filter before parsing)."""
    return f'"session_id":{json.dumps(session_id)}'.encode()


def _records(path: str, needle: bytes | None = None) -> Iterator[StoredRecord]:
    """Each complete line of `path` (containing `needle`) that parses as a JSON object, with its line number."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    with fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n") or (needle is not None and needle not in raw):
                continue
            text = raw[:-1].decode("utf-8", errors="replace")
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                continue
            if isinstance(data, dict):
                yield StoredRecord(n, data, text)


def session_records(path: str, session_id: str) -> Iterator[StoredRecord]:
    """Each complete line of the log at `path` that parses as a receipt object of `session_id`, in order."""
    for record in _records(path, _session_needle(session_id)):
        if record.data.get("session_id") == session_id:
            yield record


def read_checkpoint_lines(path: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON, or None when the line is not canonical JSON) per complete line.

    The gate writes each checkpoint as canonical JSON, so any other spelling
    (whitespace, key order, escapes, duplicate keys that a first-wins parser
    would read differently) is not what the gate wrote and is rejected. A
    line longer than MAX_CHECKPOINT_LINE is skipped (and reported as None)
    without being read whole.
    """
    with open(path, "rb") as fh:
        n = 0
        while True:
            raw = fh.readline(MAX_CHECKPOINT_LINE + 1)
            if not raw.endswith(b"\n"):
                if len(raw) > MAX_CHECKPOINT_LINE:  # over-long line: skip it, report it
                    n += 1
                    while raw and not raw.endswith(b"\n"):
                        raw = fh.readline(1 << 20)
                    if raw:
                        yield n, None
                        continue
                return
            n += 1
            try:
                parsed = json.loads(raw)
                canonical = canonical_json(parsed).encode("ascii") == raw[:-1]
            except (ValueError, RecursionError, TypeError):
                canonical = False
            yield n, parsed if canonical else None


class JsonlReceiptStore(JsonlFile):
    """The `ReceiptStore` of a JSONL log: receipts in the log, signed checkpoints in its sidecar file.

    `checkpoints` is the sidecar's path (default ``<log>.checkpoints.jsonl``).
    The sidecar is opened for writing on the first checkpoint, or at once with
    `open_checkpoints` (a signing gate: a torn sidecar then stops it at open).
    """

    def __init__(self, path: str | os.PathLike[str], *, durability: Durability = "flush",
                 group_commit: bool = True, checkpoints: str | os.PathLike[str] | None = None,
                 open_checkpoints: bool = False) -> None:
        super().__init__(path, durability=durability, group_commit=group_commit)
        self.checkpoints_location = os.fspath(checkpoints) if checkpoints is not None \
            else checkpoint_path_for(self.location)
        self._checkpoint_file: JsonlFile | None = None
        if open_checkpoints:
            try:
                self._checkpoints()
            except BaseException:
                super().close()
                raise

    # -- receipts ------------------------------------------------------------------

    def write_receipt(self, receipt: Receipt) -> int:
        return self.write_bytes(receipt.line_bytes())

    def defer_receipt(self, receipt: Receipt) -> int:
        """Append a sealed receipt soon, without waiting (see `JsonlFile.defer_bytes`); its ticket."""
        return self.defer_bytes(receipt.line_bytes())

    def last_receipt(self, session_id: str) -> dict[str, Any] | None:
        """The last receipt of `session_id` in the log (for continuing its chain)."""
        needle = _session_needle(session_id)
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
        if not isinstance(data, dict):
            raise ReceiptFormatError(f"a receipt must be a JSON object, got {type(data).__name__}")
        return data if data.get("session_id") == session_id else None

    def session_receipts(self, session_id: str) -> Iterator[StoredRecord]:
        """Every whole receipt of `session_id` in the log, in order (to resume a continued session)."""
        return session_records(self.location, session_id)

    def all_receipts(self) -> Iterator[StoredRecord]:
        return _records(self.location)

    # -- checkpoints ---------------------------------------------------------------------

    def _checkpoints(self) -> JsonlFile:
        if self._checkpoint_file is None:
            self._checkpoint_file = JsonlFile(self.checkpoints_location, durability=self.durability,
                                              group_commit=False, follow_symlinks=False, single_writer=False)
        return self._checkpoint_file

    def write_checkpoint(self, checkpoint: Mapping[str, Any], line: str) -> None:
        self.sync_all()  # the receipts a checkpoint covers reach the disk before it does
        self._checkpoints().append(line)

    def session_checkpoints(self, session_id: str) -> Iterator[StoredRecord]:
        for record in self.all_checkpoints():
            if record.data.get("session_id") == session_id:
                yield record

    def all_checkpoints(self) -> Iterator[StoredRecord]:
        if not os.path.exists(self.checkpoints_location):
            return
        for n, data in read_checkpoint_lines(self.checkpoints_location):
            if isinstance(data, dict):
                yield StoredRecord(n, data, canonical_json(data))

    def close(self) -> None:
        try:
            if self._checkpoint_file is not None:
                self._checkpoint_file.close()
        finally:
            super().close()
