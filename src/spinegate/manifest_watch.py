"""Watching the manifest a gate runs on: has the file or the object changed since it was verified?

`ManifestWatch.problem()` runs before every decision of the general path.
The object is compared with its snapshot (`Manifest.unchanged`), and the
file's fingerprint (device, inode, size, mtime, ctime) with the one recorded
when its content was last verified; the file is re-read and re-hashed when
it moved or changed so recently that an equal fingerprint proves nothing
(git's "racy clean" rule).

The lean path (`spinegate.lean`) makes no system call for the file: once the
file is settled (its last change older than the racy window), a file watcher
(`spinegate.watch`: inotify on Linux, kqueue on macOS) stands in for the
`stat`. The watch is set up before the `stat` that finds the file settled,
so no change falls between the two; `file_quiet()` is True while it has
reported nothing. The window between a write to a settled manifest and the
watcher's flag (during which a lean check still decides by the verified
manifest) is described in `spinegate.watch`; a raised flag sends the next
check down the general path, which finds the change. Where no watcher
exists, every check takes the general path's `stat`.

A problem, once found, stays: a manifest that changed under a running gate
denies every call (MANIFEST_INTEGRITY_FAILURE) until a person looks, and
the gate reloads a correctly sealed file (`Gate.reload`, which starts a new
watch) or is reopened.
"""

from __future__ import annotations

import os

from .canonical import manifest_hash
from .errors import ManifestError
from .manifest import Manifest, parse_raw_manifest
from .manifest_file import Fingerprint, decode_manifest, file_fingerprint, fingerprint_is_racy, read_manifest_bytes
from .watch import Watch, watch_file


class ManifestWatch:
    """The integrity check of one verified manifest (and its file, if it came from one).

    Called under no lock: the check is idempotent. A gate swaps a whole new
    watch in on a verified reload.
    """

    def __init__(self, manifest: Manifest, path: str | None) -> None:
        self.manifest = manifest
        self.path = path
        self.sealed_hash = manifest.manifest_hash
        # None: the first check reads and hashes the file, so a change between loading the
        # manifest and opening the gate (a Manifest object loaded earlier) is caught too.
        self._fingerprint: Fingerprint | None = None
        self._settled = False  # True once the unchanged file is older than the racy window
        self._text: bytes | None = None  # the file's bytes when last verified
        self._problem: str | None = None
        self._watch: Watch | None = None  # armed once settled: the file then needs no stat per check
        self._can_watch = True  # False once the watcher refused this file (then a stat per check)

    def problem(self) -> str | None:
        """Why the manifest may no longer be trusted, or None. Sticky once found."""
        if self._problem:
            return self._problem
        problem: str | None = None
        if not self.manifest.unchanged():
            problem = "the manifest held by the gate was modified after it was loaded"
        elif self.path is not None:
            # The general path stats the file on every check (the lean path trusts the watcher's flag
            # alone): an edit is caught by the very next check here, with no window.
            self.file_quiet()  # a raised flag: forget the watch, so the file is verified again below
            fp = file_fingerprint(self.path)
            if fp is not None and fp == self._fingerprint and self._settled:
                return None  # unchanged since it was verified, and too old to change unseen
            problem = self._file_problem(self.path, fp)
        if problem:
            self._problem = problem  # sticky: reload (or reopen the gate) after a review
        return problem

    def file_quiet(self) -> bool:
        """True when the file is known unchanged since it was verified without a system call (watched, no event)."""
        watch = self._watch
        if watch is None:
            return False
        if not watch.changed:
            return True
        watch.close()  # something happened: verify again (`problem`), and watch again once settled
        self._watch = None
        self._settled = False
        return False

    @property
    def found(self) -> str | None:
        """The problem found so far (sticky), without checking again."""
        return self._problem

    @property
    def watched(self) -> bool:
        """True while a file watcher stands in for the per-check `stat` of the manifest file."""
        return self._watch is not None

    def fail(self, problem: str) -> None:
        """Distrust the manifest from now on, for `problem` (a reload whose file did not verify)."""
        self._problem = self._problem or problem

    def close(self) -> None:
        """Stop watching the file (idempotent)."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()

    def _file_problem(self, path: str, fp: Fingerprint | None) -> str | None:
        """The file's problem, if any, given its fingerprint now (it is not known to be settled)."""
        if fp is not None and fp == self._fingerprint and not fingerprint_is_racy(fp):
            self._settle(path, fp)
            return None
        # Re-read the file: it moved, changed, or changed so recently that an equal fingerprint
        # proves nothing. Text identical to the last verified text needs no re-hash (keeps
        # checks cheap in the seconds after a manifest is written).
        try:
            text = read_manifest_bytes(path)
            if text == self._text:
                stored: object = self.sealed_hash
                current = self.sealed_hash
            else:  # hash exactly the bytes that will be remembered as verified
                raw = parse_raw_manifest(decode_manifest(text, source=path), source=path)
                current, stored = manifest_hash(raw), raw.get("manifest_hash")
        except ManifestError as exc:
            return f"the manifest file can no longer be read: {exc}"
        if current != self.sealed_hash:
            return (f"the manifest file {path} changed after load "
                    f"(content hash {current}, loaded {self.sealed_hash})")
        if stored != self.sealed_hash:
            return f"the manifest file {path} no longer carries the loaded manifest_hash"
        self._fingerprint = fp
        self._text = text
        self._settled = False
        return None

    def _settle(self, path: str, fp: Fingerprint) -> None:
        """The verified file is settled: watch it from now on, if this process can.

        The watch is made before the file is looked at again, and kept only
        if the file still has the verified fingerprint: a change before the
        watch shows in the fingerprint, one after it in the watch.
        """
        self._settled = True
        if not self._can_watch or self._watch is not None:
            return
        watch = watch_file(path)
        if watch is None:
            self._can_watch = False
            return
        if file_fingerprint(path) != fp:
            watch.close()
            self._settled = False  # changed meanwhile: the next check re-reads it
            return
        self._watch = watch


def manifest_path_of(manifest: Manifest) -> str | None:
    """The file a loaded manifest came from, if it still names an existing path (None for one built in memory)."""
    source = manifest.source
    return source if source != "<memory>" and os.path.exists(source) else None
