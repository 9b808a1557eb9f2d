"""Watching files without a system call per check: a flag a background thread raises when a file changes.

One daemon thread per process (`spinegate-watch`) waits on the kernel's file
notifications, inotify on Linux (through ctypes: libc's three calls) and
kqueue on macOS (`select.kqueue`), and raises the `changed` flag of every
`Watch` whose file was touched. Readers check the flag, a plain attribute:
no system call, no lock. Where neither exists (another platform, the
inotify watch limit reached, a network or FUSE filesystem whose changes
made elsewhere inotify never hears of) `watch_file` returns None and the
caller falls back to a `stat` per check.

The window: the kernel queues a notification before the write that causes
it returns; the flag is raised once the watcher thread has read it, which
needs the GIL, so within one thread switch (microseconds when the main
thread is waiting on I/O, as a gate appending a receipt is; at most
`sys.getswitchinterval()`, 5 ms by default, when it runs Python without
pause). A check that starts inside the window decides on the file as it was
last verified, exactly as a check that started just before the write would.

What a watch covers: the file itself (written, truncated, its attributes,
moved or deleted); its directory, for an entry of that name created,
deleted or moved (an atomic replace); every directory above it, moved or
deleted; and for any symbolic link on the way, the link itself replaced.
A forked child gets a fresh watcher: every watch made before the fork
reports a change there, so its owner checks once and watches again.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import re
import select
import struct
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

_log = logging.getLogger("spinegate")

__all__ = ["Watch", "watch_file", "watcher_kind"]


class Watch:
    """One watched file. `changed` turns True (and stays so) when the file or its path may have changed.

    `on_change`, if given, runs on the watcher thread each time (keep it short:
    it holds up every other watch).
    """

    __slots__ = ("__weakref__", "_ids", "_owner", "changed", "on_change", "path")

    def __init__(self, path: str, on_change: Callable[[], None] | None) -> None:
        self.path = path
        self.changed = False
        self.on_change = on_change
        self._ids: list[Any] = []
        self._owner: _Watcher | None = None

    def fire(self) -> None:
        self.changed = True
        callback = self.on_change
        if callback is not None:
            callback()

    @property
    def active(self) -> bool:
        """True while a watcher thread listens for this watch (False once closed, or if the watcher stopped)."""
        return self._owner is not None

    def close(self) -> None:
        """Stop watching (idempotent)."""
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.remove(self)


# --------------------------------------------------------------------------
# What to watch for a path: (path, what, entry name or None).

_FILE, _FILE_ATTRIBUTES, _DIR_ENTRY, _DIR_SELF = "file", "attributes", "entry", "self"


def _targets(path: str, *, contents: bool) -> list[tuple[str, str, str | None]]:
    """The watches that together notice any change to what `path` names (`contents` False: its attributes only)."""
    if not contents:
        return [(os.path.abspath(path), _FILE_ATTRIBUTES, None)]
    targets: list[tuple[str, str, str | None]] = []
    seen: set[tuple[str, str, str | None]] = set()

    def add(target: tuple[str, str, str | None]) -> None:
        if target not in seen:
            seen.add(target)
            targets.append(target)

    for spelling in dict.fromkeys((os.path.abspath(path), os.path.realpath(path))):
        add((spelling, _FILE, None))
        parent, name = os.path.split(spelling)
        add((parent, _DIR_ENTRY, name))
        # every directory above: moved or deleted; a symbolic link on the way: replaced in its directory
        current = spelling
        while True:
            up, part = os.path.split(current)
            if not part:
                break
            if current != spelling and os.path.islink(current):
                add((up, _DIR_ENTRY, part))
            add((up, _DIR_SELF, None))
            current = up
    return targets


# --------------------------------------------------------------------------
# The watcher thread and its two kernels.


class _Watcher:
    """The process's watcher: one kernel handle, one thread, the watches it serves."""

    kind = "none"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._watches: dict[Any, list[tuple[Watch, str, str | None]]] = {}
        self._stopped = False  # the thread has ended: no further event will be seen

    def add(self, watch: Watch, *, contents: bool) -> bool:
        """Watch what `watch.path` names; False when the kernel refused (the caller then stats per check)."""
        with self._lock:
            if self._stopped:
                return False
            ids: list[Any] = []
            try:
                for target, what, name in _targets(watch.path, contents=contents):
                    key = self._add_kernel_watch(target, what)
                    ids.append(key)
                    self._watches.setdefault(key, []).append((watch, what, name))
            except OSError:
                self._drop(watch, ids)
                return False
            watch._ids = ids
            watch._owner = self
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="spinegate-watch", daemon=True)
                self._thread.start()
            return True

    def _serve(self) -> None:
        """Run the kernel loop; if it ever ends (the handle failed, a callback raised), fail safe.

        A watch whose watcher stopped would otherwise keep saying "unchanged"
        forever: every watch is fired (its owner verifies the file again and
        falls back to a `stat` per check) and no new watch is accepted.
        """
        try:
            self._run()
        except Exception:  # noqa: BLE001 - any end of the loop is handled alike, and logged
            _log.exception("the file watcher stopped; watched files are checked with a stat on every check from now on")
        finally:
            with self._lock:
                self._stopped = True
            self._fire_all(stopping=True)

    def remove(self, watch: Watch) -> None:
        with self._lock:
            self._drop(watch, watch._ids)
            watch._ids = []

    def _drop(self, watch: Watch, ids: list[Any]) -> None:
        for key in set(ids):
            entries = [e for e in self._watches.get(key, []) if e[0] is not watch]
            if entries:
                self._watches[key] = entries
            else:
                self._watches.pop(key, None)
                self._remove_kernel_watch(key)

    def _dispatch(self, key: Any, name: str | None, mask: int | None = None) -> None:
        """Fire the watches on `key` that care about an event (`mask` None: any event counts)."""
        with self._lock:
            entries = list(self._watches.get(key, ()))
        for watch, what, wanted in entries:
            if mask is None or self._wants(what, wanted, name, mask):
                watch.fire()

    def _wants(self, what: str, wanted: str | None, name: str | None, mask: int) -> bool:
        return True

    def _fire_all(self, *, stopping: bool = False) -> None:
        with self._lock:
            watches = {id(w): w for entries in self._watches.values() for w, _, _ in entries}
        for watch in watches.values():  # every flag first: a raising callback must not leave one down
            watch.changed = True
            if stopping:
                watch._owner = None
        for watch in watches.values():
            with contextlib.suppress(Exception):
                watch.fire()

    # kernel specifics
    def _add_kernel_watch(self, path: str, what: str) -> Any:  # pragma: no cover - overridden
        raise OSError(errno.ENOSYS, "no file watcher on this platform")

    def _remove_kernel_watch(self, key: Any) -> None:  # pragma: no cover - overridden
        pass

    def _run(self) -> None:  # pragma: no cover - overridden
        pass


class _Inotify(_Watcher):
    """Linux: inotify, through libc's inotify_init1, inotify_add_watch and inotify_rm_watch."""

    kind = "inotify"
    IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
    IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
    IN_DELETE_SELF, IN_MOVE_SELF, IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED = 0x400, 0x800, 0x2000, 0x4000, 0x8000
    IN_MASK_ADD = 0x20000000
    MASKS: ClassVar[dict[str, int]] = {
        _FILE: IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF,
        _FILE_ATTRIBUTES: IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF,
        _DIR_ENTRY: IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF,
        _DIR_SELF: IN_DELETE_SELF | IN_MOVE_SELF,
    }
    SELF_EVENTS = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT
    _EVENT = struct.Struct("iIII")

    def __init__(self) -> None:
        super().__init__()
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        self._init1 = libc.inotify_init1
        self._add_watch = libc.inotify_add_watch
        self._add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._rm_watch = libc.inotify_rm_watch
        self._rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        fd = self._init1(os.O_CLOEXEC)
        if fd < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        self._fd: int = fd

    def _add_kernel_watch(self, path: str, what: str) -> Any:
        wd = self._add_watch(self._fd, os.fsencode(path), self.MASKS[what] | self.IN_MASK_ADD)
        if wd < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), path)
        return wd

    def _remove_kernel_watch(self, key: Any) -> None:
        self._rm_watch(self._fd, key)

    def _wants(self, what: str, wanted: str | None, name: str | None, mask: int) -> bool:
        """One inode may be watched for several reasons (its kernel mask is their union): filter per reason."""
        if mask & self.SELF_EVENTS:
            return True
        if not mask & self.MASKS[what]:
            return False
        return what != _DIR_ENTRY or name == wanted

    def _run(self) -> None:
        size = self._EVENT.size
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except InterruptedError:
                continue
            except OSError:
                return
            pos = 0
            while pos + size <= len(data):
                wd, mask, _cookie, length = self._EVENT.unpack_from(data, pos)
                raw_name = data[pos + size:pos + size + length].rstrip(b"\0")
                pos += size + length
                if mask & self.IN_Q_OVERFLOW:
                    self._fire_all()  # events were lost: everything may have changed
                    continue
                self._dispatch(wd, os.fsdecode(raw_name) if raw_name else None, mask)


class _Kqueue(_Watcher):
    """macOS (and the BSDs): kqueue vnode events on a descriptor per watched file or directory."""

    kind = "kqueue"

    def __init__(self) -> None:
        super().__init__()
        kernel: Any = select  # select.kqueue exists on macOS and the BSDs only
        self._kq = kernel.kqueue()
        self._fds: dict[str, int] = {}

    def _add_kernel_watch(self, path: str, what: str) -> Any:
        # A directory reports entry changes only as NOTE_WRITE, without the name: every entry counts.
        key = path
        if key in self._fds:
            return key
        flags = getattr(os, "O_EVTONLY", os.O_RDONLY) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
        k: Any = select
        fflags = k.KQ_NOTE_DELETE | k.KQ_NOTE_ATTRIB | k.KQ_NOTE_LINK | k.KQ_NOTE_RENAME | k.KQ_NOTE_REVOKE
        if what != _FILE_ATTRIBUTES:  # a log's own appends must not wake the watcher
            fflags |= k.KQ_NOTE_WRITE | k.KQ_NOTE_EXTEND
        event = k.kevent(fd, filter=k.KQ_FILTER_VNODE, flags=k.KQ_EV_ADD | k.KQ_EV_CLEAR, fflags=fflags)
        try:
            self._kq.control([event], 0, 0)
        except OSError:
            os.close(fd)
            raise
        self._fds[key] = fd
        return key

    def _remove_kernel_watch(self, key: Any) -> None:
        fd = self._fds.pop(key, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor removes its kqueue events

    def _run(self) -> None:
        paths_by_fd: dict[int, str] = {}
        while True:
            try:
                events = self._kq.control(None, 64, None)
            except InterruptedError:
                continue
            except OSError:
                return
            with self._lock:
                paths_by_fd = {fd: path for path, fd in self._fds.items()}
            for event in events:
                path = paths_by_fd.get(event.ident)
                if path is not None:
                    self._dispatch(path, None)


def _make_watcher() -> _Watcher | None:
    platform: str = sys.platform
    try:
        if platform.startswith("linux"):
            return _Inotify()
        if hasattr(select, "kqueue"):
            return _Kqueue()
    except (OSError, AttributeError):
        return None
    return None


_state: dict[str, Any] = {"watcher": None, "made": False}
_state_lock = threading.Lock()
_made: weakref.WeakSet[Watch] = weakref.WeakSet()  # every live watch of this process (see the fork handler)


def _watcher() -> _Watcher | None:
    if not _state["made"]:
        with _state_lock:
            if not _state["made"]:
                _state["watcher"] = _make_watcher()
                _state["made"] = True
    watcher: _Watcher | None = _state["watcher"]
    return watcher


def watcher_kind() -> str:
    """"inotify", "kqueue", or "none" (then every check stats the file)."""
    watcher = _watcher()
    return watcher.kind if watcher is not None else "none"


#: Linux filesystems whose changes all pass through this kernel, so that inotify sees each one. A
#: network or FUSE filesystem (nfs, cifs, 9p, virtiofs, fuse.*, ...) changed from another machine or
#: by its server reports nothing here: a watch there would keep saying "unchanged" forever, so such
#: files (and any filesystem not listed) get no watch and are checked with a `stat` every time.
LOCAL_FILESYSTEMS = frozenset({
    "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "zfs", "f2fs", "bcachefs", "jfs", "reiserfs",
    "overlay", "vfat", "exfat", "ntfs3", "hfsplus", "nilfs2",
})


def _mount_table() -> list[tuple[str, str]]:
    """(mount point, filesystem type) of each mount this process sees (Linux: /proc/self/mountinfo)."""
    mounts: list[tuple[str, str]] = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        for row in fh:
            fields = row.split()
            try:
                fstype = fields[fields.index("-", 6) + 1]
            except (ValueError, IndexError):
                continue
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])  # \040 is a space
            mounts.append((point, fstype))
    return mounts


def _on_local_filesystem(path: str) -> bool:
    """True when every change to `path` is seen by this kernel's inotify (Linux); True elsewhere (kqueue)."""
    if not sys.platform.startswith("linux"):
        return True
    try:
        mounts = _mount_table()
    except OSError:
        return False
    for spelling in {os.path.abspath(path), os.path.realpath(path)}:
        best, fstype = -1, None
        for point, kind in mounts:  # the last mount on the longest matching point is the one in effect
            inside = spelling == point or spelling.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= best:
                best, fstype = len(point), kind
        if fstype not in LOCAL_FILESYSTEMS:
            return False
    return True


def watch_file(path: str | os.PathLike[str], *, on_change: Callable[[], None] | None = None,
               contents: bool = True) -> Watch | None:
    """Watch `path` (and the path to it); None where this process cannot watch files.

    `contents` False watches only the file's attributes and its name (a
    JSONL log, whose own appends must not wake the watcher: a knock on it is
    an attribute change). Established before the caller reads the file, a
    watch misses nothing that happens after the read.
    """
    watcher = _watcher()
    if watcher is None or not _on_local_filesystem(os.fspath(path)):
        return None
    watch = Watch(os.fspath(path), on_change)
    if not watcher.add(watch, contents=contents):
        return None
    _made.add(watch)
    return watch


def _after_fork_in_child() -> None:
    """The parent's watcher thread does not exist here: start afresh, and tell every old watch to re-check."""
    _state["watcher"], _state["made"] = None, False
    for watch in list(_made):
        watch._owner = None
        watch.changed = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
