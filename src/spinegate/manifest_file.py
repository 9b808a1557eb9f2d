"""Manifest files: read one (never hanging on a FIFO or device), seal one atomically, fingerprint one.

The I/O edge of `manifest`: everything here touches the file system or the
clock; what it reads is validated and hashed by the pure `manifest` module.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from pathlib import Path

from .errors import ManifestUnreadable
from .manifest import Manifest, compute_text_hash, manifest_from_raw, parse_raw_manifest, sealed_text

#: Largest manifest file read (real ones are a few KB): a huge file is refused, not read.
MAX_MANIFEST_BYTES = 16 << 20

#: (device, inode, size, mtime_ns, ctime_ns) of a file.
Fingerprint = tuple[int, int, int, int, int]


def read_manifest_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes. A FIFO, device, directory or oversized file is refused before it is read.

    Opened non-blocking and checked with fstat, so a path swapped for a pipe
    between a check and the open cannot block the caller.
    """
    source = os.fspath(path)
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ManifestUnreadable(f"cannot read the manifest: {exc.strerror or exc}", source=source,
                                 fix="check the path and its permissions") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ManifestUnreadable("cannot read the manifest: not a regular file (a directory, device or pipe)",
                                     source=source, fix="point at the manifest file itself")
        if st.st_size > MAX_MANIFEST_BYTES:
            raise ManifestUnreadable(f"cannot read the manifest: {st.st_size} bytes, more than any manifest",
                                     source=source, fix="point at the manifest file itself")
        # Plain reads, no file object: the gate re-reads a freshly written manifest on every check.
        chunks = [os.read(fd, max(st.st_size, 4096) + 1)]
        while chunks[-1] and sum(map(len, chunks)) <= MAX_MANIFEST_BYTES:
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks)
    except OSError as exc:
        raise ManifestUnreadable(f"cannot read the manifest: {exc.strerror or exc}", source=source,
                                 fix="check the path and its permissions") from None
    finally:
        os.close(fd)


def decode_manifest(data: bytes, *, source: str) -> str:
    """Manifest bytes as text (UTF-8, a byte-order mark allowed)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestUnreadable(f"not UTF-8 text ({exc.reason} at byte {exc.start})", source=source,
                                 fix="save the manifest as UTF-8") from None


def read_manifest_text(path: str | os.PathLike[str]) -> str:
    """The manifest file's text; ManifestUnreadable (naming the file and the fix) if it cannot be read."""
    return decode_manifest(read_manifest_bytes(path), source=os.fspath(path))


def load_manifest(path: str | os.PathLike[str], *, verify_hash: bool = True) -> Manifest:
    """Read, validate and hash-verify the manifest at `path`."""
    source = os.fspath(path)
    return manifest_from_raw(parse_raw_manifest(read_manifest_text(path), source=source),
                             source=source, verify_hash=verify_hash)


def compute_file_hash(path: str | os.PathLike[str]) -> str:
    """The manifest hash the file's content should carry."""
    return compute_text_hash(read_manifest_text(path), source=os.fspath(path))


def seal_manifest(path: str | os.PathLike[str]) -> str:
    """Write the correct `manifest_hash` into the file (atomically) and return it.

    The content is validated first, so a broken manifest is never sealed.
    Key order and number spelling are kept; the file is re-indented. The
    file is replaced by a rename, so a reader sees the old or the new text.
    """
    digest, text = sealed_text(read_manifest_text(path), source=os.fspath(path))
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return digest


def file_fingerprint(path: str) -> Fingerprint | None:
    """(device, inode, size, mtime_ns, ctime_ns) of a file, or None when it cannot be read.

    ctime is included because `touch -d` / `os.utime` can put an old mtime
    back after an edit, but cannot set ctime.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


#: A file changed less than this long ago may be changed again within the same
#: file-system timestamp tick, leaving its fingerprint identical; the gate
#: re-reads such a file on every check (git's "racy clean" rule).
RACY_WINDOW_NS = 2_000_000_000


def fingerprint_is_racy(fp: Fingerprint, now_ns: int | None = None) -> bool:
    """True when the file changed so recently that an equal fingerprint proves nothing."""
    now = time.time_ns() if now_ns is None else now_ns
    return now - max(fp[3], fp[4]) < RACY_WINDOW_NS
