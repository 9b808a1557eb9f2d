"""A session index beside a JSONL receipt log, so continuing a session never scans the whole log.

A coding agent's hook continues the agent's session chain on every call,
and a helper that restarts must find each session's last receipt (and its
per-tool counts) again. `JsonlReceiptStore` finds them by reading the whole
log; `IndexedStore` wraps it and answers `last_receipt` and
`session_receipts` from a per-session list of byte offsets, so both cost
the same for ten receipts as for ten million.

The index lives in the helper's directory (`run/index/`):

    watermark          "<device> <inode> <offset>": every line before offset is indexed
    s-<sha256(id)>.idx one line per receipt of that session: its byte offset in the log

Every receipt written through an `IndexedStore` is indexed as it is
written. Lines someone else appended (another program's gate on the same
log) are indexed by `catch_up`, which reads only what lies past the
watermark. An entry is a hint, checked when used: the line at the offset
must be a receipt of that session, or the session is looked up by reading
the log (correct, slower) and its index rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from ..jsonl_store import JsonlReceiptStore
from ..receipts import Receipt
from ..store import StoredRecord

#: Longest receipt line read back through the index (a receipt is a few KiB at most).
MAX_LINE = 1 << 20
#: The top-level session id of a canonical receipt line. In canonical JSON a quote inside a string is
#: escaped, so this unescaped spelling is the key itself; other spellings are parsed in full.
_SESSION_KEY = re.compile(rb'"session_id":"([A-Za-z0-9_.:-]{1,128})"')


def _parsed_session(raw: bytes) -> Any:
    """The session id of a line that is not canonical JSON (another writer's spelling), or None."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data.get("session_id") if isinstance(data, dict) else None


def _session_file(session_id: str) -> str:
    return f"s-{hashlib.sha256(session_id.encode()).hexdigest()[:32]}.idx"


class SessionIndex:
    """The byte offsets of each session's receipts in one log, kept in a directory next to it."""

    def __init__(self, log: str, directory: str) -> None:
        self.log = log
        self.directory = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._lock_fd = os.open(os.path.join(directory, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._watermark_path = os.path.join(directory, "watermark")
        self._mutex = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._mutex:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    # -- the watermark -------------------------------------------------------------------

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.log)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino, st.st_size

    def _read_watermark(self) -> tuple[int, int, int]:
        try:
            with open(self._watermark_path, encoding="ascii") as fh:
                dev, ino, offset = (int(x) for x in fh.read().split())
            return dev, ino, offset
        except (OSError, ValueError):
            return -1, -1, 0

    def _write_watermark(self, dev: int, ino: int, offset: int) -> None:
        tmp = self._watermark_path + ".tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(f"{dev} {ino} {offset}\n")
        os.replace(tmp, self._watermark_path)

    def _reset(self) -> None:
        for name in os.listdir(self.directory):
            if name.startswith("s-") and name.endswith(".idx"):
                os.unlink(os.path.join(self.directory, name))

    def _append(self, session_id: str, offsets: list[int]) -> None:
        path = os.path.join(self.directory, _session_file(session_id))
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, "".join(f"{o}\n" for o in offsets).encode("ascii"))
        finally:
            os.close(fd)

    # -- keeping up ---------------------------------------------------------------------------

    def catch_up(self) -> int:
        """Index every complete line appended since the watermark; the number of lines read.

        A log that was replaced (another inode) or shortened is indexed
        again from its start.
        """
        with self._locked():
            return self._catch_up()

    def _catch_up(self) -> int:
        now = self._identity()
        if now is None:
            return 0
        dev, ino, size = now
        wdev, wino, offset = self._read_watermark()
        if (wdev, wino) != (dev, ino) or offset > size:
            self._reset()
            offset = 0
        if offset == size:
            return 0
        found: dict[str, list[int]] = {}
        lines = 0
        with open(self.log, "rb") as fh:
            fh.seek(offset)
            position = offset
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # a line being written (or torn): indexed once it is whole
                lines += 1
                match = _SESSION_KEY.search(raw)
                session: Any = match.group(1).decode("ascii") if match else _parsed_session(raw)
                if isinstance(session, str):
                    found.setdefault(session, []).append(position)
                position += len(raw)
        for session, offsets in found.items():
            self._append(session, offsets)
        self._write_watermark(dev, ino, position)
        return lines

    def record(self, session_id: str, line_bytes: int) -> None:
        """Index a line of `line_bytes` bytes (newline included) just appended for `session_id`."""
        with self._locked():
            now = self._identity()
            wdev, wino, offset = self._read_watermark()
            if now is not None and (now[0], now[1]) == (wdev, wino) and now[2] == offset + line_bytes:
                self._append(session_id, [offset])
                self._write_watermark(wdev, wino, now[2])
            else:
                self._catch_up()  # someone else wrote too: index everything new, this line included

    def offsets(self, session_id: str) -> list[int]:
        """The byte offsets of `session_id`'s receipts, in log order (after catching up)."""
        with self._locked():
            self._catch_up()
            try:
                with open(os.path.join(self.directory, _session_file(session_id)), encoding="ascii") as fh:
                    return [int(line) for line in fh if line.strip()]
            except FileNotFoundError:
                return []
            except ValueError:
                return [-1]  # a damaged index file: the caller falls back to reading the log

    def invalidate(self) -> None:
        """Forget the watermark: the next catch-up indexes the log again from its start."""
        with self._locked(), contextlib.suppress(FileNotFoundError):
            os.unlink(self._watermark_path)

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


class IndexedStore:
    """A `ReceiptStore` over a `JsonlReceiptStore` that finds a session's receipts through a `SessionIndex`.

    Everything but `last_receipt` and `session_receipts` is the JSONL
    store's own. `close` leaves the log open: the helper shares one store
    among all its gates and closes it with `close_log` when it stops.
    """

    def __init__(self, store: JsonlReceiptStore, index: SessionIndex) -> None:
        self.inner = store
        self.index = index
        self.location = store.location
        self.durability = store.durability
        self.checkpoints_location = store.checkpoints_location
        self._write_lock = threading.Lock()

    def write_receipt(self, receipt: Receipt) -> int:
        line = receipt.to_json()
        with self._write_lock:
            ticket = self.inner.write_receipt(receipt)
            self.index.record(receipt.session_id, len(line) + 1)
        return ticket

    def sync(self, ticket: int) -> None:
        self.inner.sync(ticket)

    def _read_line(self, fd: int, offset: int) -> bytes | None:
        if offset < 0:
            return None
        data = b""
        while b"\n" not in data and len(data) < MAX_LINE:
            chunk = os.pread(fd, 1 << 16, offset + len(data))
            if not chunk:
                return None
            data += chunk
        line, sep, _ = data.partition(b"\n")
        return line if sep else None

    def _indexed(self, session_id: str) -> list[StoredRecord] | None:
        """The session's receipts through the index; None when the index does not match the log."""
        offsets = self.index.offsets(session_id)
        records: list[StoredRecord] = []
        try:
            fd = os.open(self.location, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return [] if not offsets else None
        try:
            for offset in offsets:
                raw = self._read_line(fd, offset)
                if raw is None:
                    return None
                try:
                    data = json.loads(raw)
                except (ValueError, RecursionError):
                    return None
                if not isinstance(data, dict) or data.get("session_id") != session_id:
                    return None
                records.append(StoredRecord(offset, data, raw.decode("utf-8", "replace")))
        finally:
            os.close(fd)
        return records

    def _session(self, session_id: str) -> list[StoredRecord]:
        records = self._indexed(session_id)
        if records is None:  # the index is wrong about this session: read the log, rebuild its entries
            records = list(self.inner.session_receipts(session_id))
            self.index.invalidate()
        return records

    def last_receipt(self, session_id: str) -> dict[str, Any] | None:
        records = self._session(session_id)
        return records[-1].data if records else None

    def session_receipts(self, session_id: str) -> Iterator[StoredRecord]:
        return iter(self._session(session_id))

    def all_receipts(self) -> Iterator[StoredRecord]:
        return self.inner.all_receipts()

    def write_checkpoint(self, checkpoint: Mapping[str, Any], line: str) -> None:
        self.inner.write_checkpoint(checkpoint, line)

    def session_checkpoints(self, session_id: str) -> Iterator[StoredRecord]:
        return self.inner.session_checkpoints(session_id)

    def all_checkpoints(self) -> Iterator[StoredRecord]:
        return self.inner.all_checkpoints()

    def close(self) -> None:
        """Leave the log open: other gates of this helper share it (see `close_log`)."""

    def close_log(self) -> None:
        try:
            self.inner.close()
        finally:
            self.index.close()


def open_indexed(log: str, index_dir: str, *, durability: Any = "flush") -> IndexedStore:
    """An `IndexedStore` on the JSONL log at `log` with its index in `index_dir` (created if missing)."""
    store = JsonlReceiptStore(log, durability=durability)
    try:
        return IndexedStore(store, SessionIndex(log, index_dir))
    except BaseException:
        store.close()
        raise


__all__ = ["IndexedStore", "SessionIndex", "open_indexed"]
