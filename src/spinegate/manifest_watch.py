"""Watching the manifest a gate runs on: has the file or the object changed since it was verified?

`ManifestWatch.problem()` runs before every decision. It is cheap when
nothing changed: the object is compared with its snapshot, and the file's
fingerprint (device, inode, size, mtime, ctime) with the one recorded when
its content was last verified. The file is re-read and re-hashed only when
the fingerprint moved, or so recently that an equal one proves nothing
(git's "racy clean" rule). A problem, once found, stays: a manifest that
changed under a running gate denies every call (MANIFEST_INTEGRITY_FAILURE)
until a person looks, and the gate reloads a correctly sealed file
(`Gate.reload`, which starts a new watch) or is reopened.
"""

from __future__ import annotations

import os

from .canonical import manifest_hash
from .errors import ManifestError
from .manifest import Manifest, parse_raw_manifest
from .manifest_file import Fingerprint, decode_manifest, file_fingerprint, fingerprint_is_racy, read_manifest_bytes


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

    def problem(self) -> str | None:
        """Why the manifest may no longer be trusted, or None. Sticky once found."""
        if self._problem:
            return self._problem
        problem: str | None = None
        if not self.manifest.unchanged():
            problem = "the manifest held by the gate was modified after it was loaded"
        elif self.path is not None:
            fp = file_fingerprint(self.path)
            if fp is not None and fp == self._fingerprint and self._settled:
                return None  # unchanged since it was verified, and too old to change unseen
            problem = self._file_problem(self.path, fp)
        if problem:
            self._problem = problem  # sticky: reload (or reopen the gate) after a review
        return problem

    @property
    def found(self) -> str | None:
        """The problem found so far (sticky), without checking again."""
        return self._problem

    def fail(self, problem: str) -> None:
        """Distrust the manifest from now on, for `problem` (a reload whose file did not verify)."""
        self._problem = self._problem or problem

    def _file_problem(self, path: str, fp: Fingerprint | None) -> str | None:
        """The file's problem, if any, given its fingerprint now (it is not known to be settled)."""
        if fp is not None and fp == self._fingerprint and not fingerprint_is_racy(fp):
            self._settled = True
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


def manifest_path_of(manifest: Manifest) -> str | None:
    """The file a loaded manifest came from, if it still names an existing path (None for one built in memory)."""
    source = manifest.source
    return source if source != "<memory>" and os.path.exists(source) else None
