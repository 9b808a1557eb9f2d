"""The file watcher: what raises a watch's flag, what does not, and how long it takes."""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import spinegate.watch as watch_module
from spinegate.watch import Watch, watch_file, watcher_kind


@pytest.fixture(autouse=True)
def _watching() -> None:
    if watcher_kind() == "none":
        pytest.skip("no file watcher on this platform")


def flagged(watch: Watch, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if watch.changed:
            return True
        time.sleep(0.001)
    return False


def quiet(watch: Watch, seconds: float = 0.2) -> bool:
    return not flagged(watch, seconds)


@pytest.fixture
def target(tmp_path: Path) -> Path:
    d = tmp_path / "conf"
    d.mkdir()
    path = d / "manifest.json"
    path.write_text("{}", encoding="utf-8")
    return path


CHANGES: dict[str, Callable[[Path], None]] = {
    "written": lambda p: p.write_text('{"a": 1}', encoding="utf-8"),
    "appended": lambda p: p.open("a", encoding="utf-8").write(" "),
    "truncated": lambda p: os.truncate(p, 0),
    "chmod": lambda p: p.chmod(0o600),
    "touched": lambda p: os.utime(p),
    "deleted": lambda p: p.unlink(),
    "replaced": lambda p: (p.with_name("new").write_text("{}", encoding="utf-8"), os.replace(p.with_name("new"), p)),
    "moved away": lambda p: os.rename(p, p.with_name("elsewhere")),
    "directory moved": lambda p: os.rename(p.parent, p.parent.with_name("conf-old")),
    "directory above moved": lambda p: os.rename(p.parent.parent, p.parent.parent.with_name("moved")),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_raises_the_flag(target: Path, change: str) -> None:
    watch = watch_file(target)
    assert watch is not None and quiet(watch, 0.05)
    CHANGES[change](target)
    assert flagged(watch), change
    watch.close()


def test_a_symlink_on_the_way_retargeted_raises_the_flag(tmp_path: Path) -> None:
    real, other = tmp_path / "real", tmp_path / "other"
    for d in (real, other):
        d.mkdir()
        (d / "manifest.json").write_text("{}", encoding="utf-8")
    link = tmp_path / "current"
    link.symlink_to(real)
    watch = watch_file(link / "manifest.json")
    assert watch is not None and quiet(watch, 0.05)
    tmp = tmp_path / "current.new"
    tmp.symlink_to(other)
    os.replace(tmp, link)
    assert flagged(watch)


def test_neighbours_do_not_raise_the_flag(target: Path) -> None:
    watch = watch_file(target)
    assert watch is not None
    (target.parent / "other.json").write_text("x", encoding="utf-8")
    (target.parent.parent / "sibling").mkdir()
    target.read_text(encoding="utf-8")
    assert quiet(watch)


def test_an_attribute_watch_ignores_appends_and_hears_a_knock(target: Path) -> None:
    heard: list[int] = []
    watch = watch_file(target, contents=False, on_change=lambda: heard.append(1))
    assert watch is not None
    with open(target, "ab") as fh:
        for _ in range(100):
            fh.write(b"line\n")
            fh.flush()
    assert quiet(watch) and not heard
    os.utime(target)
    assert flagged(watch) and heard


def test_a_closed_watch_stays_quiet(target: Path) -> None:
    watch = watch_file(target)
    assert watch is not None
    watch.close()
    target.write_text("changed", encoding="utf-8")
    assert quiet(watch)
    watch.close()  # idempotent


def test_the_flag_is_raised_within_milliseconds(target: Path) -> None:
    """The documented window: the watcher thread's wake-up (here, with this thread sleeping meanwhile)."""
    windows = []
    for _ in range(20):
        watch = watch_file(target)
        assert watch is not None
        start = time.perf_counter()
        target.write_text("x", encoding="utf-8")
        assert flagged(watch)
        windows.append(time.perf_counter() - start)
        watch.close()
    assert sorted(windows)[len(windows) // 2] < 0.05


def test_a_forked_child_sees_its_watches_as_changed(target: Path) -> None:
    watch = watch_file(target)
    assert watch is not None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, b"1" if watch.changed else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1" and not watch.changed


def test_a_watcher_whose_loop_ends_raises_every_flag_and_takes_no_new_watch(target: Path,
                                                                             tmp_path: Path) -> None:
    """A kernel handle that fails (or a callback that raises) ends the loop: the watches must not stay quiet."""
    from spinegate import watch as watch_module

    watcher = watch_module._make_watcher()
    assert watcher is not None
    failing = threading.Event()

    def loop_that_fails() -> None:
        failing.wait(5)
        raise OSError(errno.EBADF, "the kernel handle went away")

    watcher._run = loop_that_fails  # type: ignore[method-assign]
    watch = Watch(os.fspath(target), None)
    assert watcher.add(watch, contents=True)
    assert quiet(watch)
    failing.set()
    assert flagged(watch)  # its owner verifies the file again and falls back to a stat per check
    assert not watch.active  # nothing listens for it any more: a writer lock must not be kept on its word
    other = tmp_path / "other.json"
    other.write_text("{}", encoding="utf-8")
    assert not watcher.add(Watch(os.fspath(other), None), contents=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mount types are read from /proc (Linux)")
@pytest.mark.parametrize("fstype, watched", [("nfs4", False), ("cifs", False), ("fuse.sshfs", False),
                                             ("9p", False), ("virtiofs", False), ("ext4", True), ("tmpfs", True)])
def test_a_file_on_a_network_or_fuse_filesystem_is_not_watched(target: Path, monkeypatch: pytest.MonkeyPatch,
                                                               fstype: str, watched: bool) -> None:
    """inotify hears no change made by another machine or a FUSE server: such a file is stat'ed per check."""
    monkeypatch.setattr(watch_module, "_mount_table", lambda: [("/", "ext4"), (str(target.parent), fstype)])
    watch = watch_file(target)
    assert (watch is not None) is watched
    if watch is not None:
        watch.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mount types are read from /proc (Linux)")
def test_the_mount_table_of_this_process_is_read(target: Path) -> None:
    table = watch_module._mount_table()
    assert any(point == "/" for point, _ in table)
    assert watch_module._on_local_filesystem("/proc/self/status") is False  # proc: not a local disk
