"""Signed checkpoints: tamper evidence for a receipt log beyond the v1.0.0 hash chain.

A v1.0.0 chain only proves that a log is self-consistent: whoever can write
the file can rewrite any receipt and recompute every hash, or cut off the
tail. A gate given an Ed25519 signing key therefore writes *checkpoints* to a
sidecar file next to the log (``<log>.checkpoints.jsonl``), one canonical
JSON object per line, after a session's first receipt, every N receipts
and when it closes. Each checkpoint signs, for one session:

- ``session_id``, ``index`` (1, 2, ... per session) and ``previous_checkpoint``
  (SHA-256 of the previous checkpoint line of the session, or null), so the
  checkpoints form a chain of their own;
- ``sequence_number`` of the last receipt covered, ``count`` of receipts
  covered, ``head_receipt_hash``, ``timestamp``, ``key_id`` (SHA-256 of the raw
  public key) and ``every`` (the checkpoint interval);
- a commitment to *every* receipt so far, in order, twice over:
  ``digest`` is a running hash ``d_n = SHA-256(d_(n-1) || leaf_n)`` with
  ``d_0`` 32 zero bytes, and ``tree_head`` is the RFC 6962 Merkle tree hash
  over the same leaves (so one receipt's inclusion can be proven with
  `inclusion_proof` without handing over the log). ``leaf_n`` is the 65 bytes
  ``receipt_hash || 0x01 || previous_receipt_hash`` (``0x00`` and 32 zero
  bytes when the link is null), with
  ``receipt_hash`` *recomputed* from the receipt's content: so the leaf
  covers every field, the link to the previous receipt included.

``signature`` is base64 Ed25519 over the canonical JSON of all other fields.
Only the canonical spelling of a line (and of its base64 signature) is
accepted, so a checkpoint has exactly one valid form. `verify_checkpoints`
re-reads the log in one streaming pass and names what it finds with the
stable reason codes below.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import stat
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence, Union

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import canonical_json, receipt_hash
from .errors import KeyFileError, ReceiptLogError
from .receipts import format_timestamp
from .store import JsonlReceiptStore, find_torn_tail
from .verify import Failure

log = logging.getLogger("spinegate.signing")

#: A signing key: a PEM file (as `spinegate keygen` writes it) or a loaded key.
SigningKey = Union[str, "os.PathLike[str]", Ed25519PrivateKey]

CHECKPOINT_TYPE = "spinegate.checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_SUFFIX = ".checkpoints.jsonl"
DEFAULT_CHECKPOINT_EVERY = 100
ZERO32 = bytes(32)

# Failure reasons (stable codes).
CHECKPOINT_FILE_MISSING = "CHECKPOINT_FILE_MISSING"      # a public key was given but there is no checkpoint file
CHECKPOINT_MALFORMED = "CHECKPOINT_MALFORMED"            # not JSON, or fields missing / of the wrong type
CHECKPOINT_TORN = "CHECKPOINT_TORN"                      # the checkpoint file ends in a partial line
CHECKPOINT_KEY_MISMATCH = "CHECKPOINT_KEY_MISMATCH"      # signed by another key (or the wrong key was given)
CHECKPOINT_SIGNATURE_INVALID = "CHECKPOINT_SIGNATURE_INVALID"  # forged or edited checkpoint
CHECKPOINT_MISSING = "CHECKPOINT_MISSING"                # a checkpoint of the chain was deleted
CHECKPOINT_REORDERED = "CHECKPOINT_REORDERED"            # checkpoints out of order
CHECKPOINT_CHAIN_BROKEN = "CHECKPOINT_CHAIN_BROKEN"      # previous_checkpoint does not match
RECEIPT_REWRITTEN = "RECEIPT_REWRITTEN"                  # receipts differ from what a checkpoint signed
RECEIPTS_DELETED = "RECEIPTS_DELETED"                    # fewer receipts than a checkpoint signed
RECEIPTS_INSERTED = "RECEIPTS_INSERTED"                  # more receipts than a checkpoint signed
RECEIPT_NOT_CANONICAL = "RECEIPT_NOT_CANONICAL"          # a receipt line is not the canonical JSON the gate wrote
TAIL_TRUNCATED = "TAIL_TRUNCATED"                        # the log ends before the last checkpoint
NO_CHECKPOINTS = "NO_CHECKPOINTS"                        # receipts exist, but no checkpoint covers any
CHECKPOINT_FILE_INVALID = "CHECKPOINT_FILE_INVALID"      # the checkpoint path is not a regular file
SESSION_UNSIGNED = "SESSION_UNSIGNED"                    # a session with receipts but no checkpoint at all

#: Largest key file read (a PEM Ed25519 key is about 120 bytes): a device or huge file is refused, not read.
MAX_KEY_FILE_BYTES = 16 * 1024
SIGNATURE_BYTES = 64

_UNSIGNED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "type": str, "version": int, "session_id": str, "index": int, "sequence_number": int, "count": int,
    "timestamp": str, "key_id": str, "previous_checkpoint": (str, type(None)), "head_receipt_hash": str,
    "digest": str, "tree_head": str, "every": int, "final": bool,
}


# --------------------------------------------------------------------------
# Keys


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, lowercase hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_keypair(out: str | os.PathLike[str]) -> tuple[str, str, str]:
    """Create OUT (private key, PEM PKCS#8, mode 0600) and OUT.pub (public key, PEM).

    Both are created with O_EXCL: an existing file is never overwritten
    (FileExistsError). Returns (private path, public path, key id).
    """
    priv_path, pub_path = os.fspath(out), os.fspath(out) + ".pub"
    for p in (priv_path, pub_path):
        if os.path.lexists(p):
            raise FileExistsError(p)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    _write_new(priv_path, pem, 0o600)
    try:
        _write_new(pub_path, public_key_pem(key.public_key()), 0o644)
    except BaseException:
        os.unlink(priv_path)  # the key we just made and never handed out
        raise
    return priv_path, pub_path, key_id(key.public_key())


def _write_new(path: str, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # exact mode, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def load_private_key(path: str | os.PathLike[str] | Ed25519PrivateKey) -> Ed25519PrivateKey:
    """Read an unencrypted Ed25519 private key (PEM). Refuses files others can read (POSIX)."""
    if isinstance(path, Ed25519PrivateKey):
        return path
    p = os.fspath(path)
    data = _read_key_file(p, "signing key", owner_only=True)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{p}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{p}: not an Ed25519 private key ({type(key).__name__})")
    return key


def load_public_key(path: str | os.PathLike[str] | Ed25519PublicKey) -> Ed25519PublicKey:
    """Read an Ed25519 public key (PEM, as `spinegate keygen` writes NAME.pub)."""
    if isinstance(path, Ed25519PublicKey):
        return path
    p = os.fspath(path)
    data = _read_key_file(p, "public key")
    if b"PRIVATE KEY-----" in data:
        raise KeyFileError(f"{p}: this is a private key; verify with the public key (NAME.pub from "
                           "`spinegate keygen`), and keep the private key off the verifying host")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{p}: not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{p}: not an Ed25519 public key ({type(key).__name__})")
    return key


def _read_key_file(p: str, what: str, *, owner_only: bool = False) -> bytes:
    """A key file's bytes. A FIFO, device, directory or oversized file is refused, never read (no hang).

    Opened non-blocking and checked with fstat, so a path swapped for a pipe
    between a check and the open cannot block the caller. `owner_only`
    refuses a file that group or others can read (POSIX).
    """
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise KeyFileError(f"{p}: cannot read the {what}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"{p}: cannot read the {what}: not a regular file (a directory, device or pipe)")
        if owner_only and os.name == "posix" and stat.S_IMODE(st.st_mode) & 0o077:
            raise KeyFileError(f"{p}: the private key is readable by other users; run `chmod 600 {p}`")
        if st.st_size > MAX_KEY_FILE_BYTES:
            raise KeyFileError(f"{p}: not a PEM {what}: {st.st_size} bytes, larger than any key file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"{p}: cannot read the {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _is_regular(p: str) -> bool:
    """True for a regular file (after following symlinks); False for anything else, including nothing."""
    try:
        return stat.S_ISREG(os.stat(p).st_mode)
    except OSError:
        return False


# --------------------------------------------------------------------------
# RFC 6962 Merkle tree


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleAccumulator:
    """RFC 6962 tree head over leaves appended one by one, in O(log n) memory.

    Keeps the roots of the perfect subtrees in the binary decomposition of
    the size (largest first); the head folds them from the right.
    """

    __slots__ = ("size", "_peaks")

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[tuple[int, bytes]] = []  # (subtree size, root)

    def append_leaf_hash(self, h: bytes) -> None:
        size, node = 1, h
        while self._peaks and self._peaks[-1][0] == size:
            left_size, left = self._peaks.pop()
            node = node_hash(left, node)
            size += left_size
        self._peaks.append((size, node))
        self.size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return hashlib.sha256(b"").digest()
        node = self._peaks[-1][1]
        for _, left in reversed(self._peaks[:-1]):
            node = node_hash(left, node)
        return node


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 over leaf hashes (already `leaf_hash`ed)."""
    acc = MerkleAccumulator()
    for h in leaf_hashes:
        acc.append_leaf_hash(h)
    return acc.root()


def _split(n: int) -> int:
    """Largest power of two smaller than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 audit path PATH(index, D[n]) for the leaf at 0-based `index`."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise IndexError(f"leaf {index} is not in a tree of {n}")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    frames: list[bytes] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            frames.append(merkle_root(leaf_hashes[lo + k:hi]))
            hi = lo + k
        else:
            frames.append(merkle_root(leaf_hashes[lo:lo + k]))
            lo, m = lo + k, m - k
    path.extend(reversed(frames))  # audit paths list siblings from the leaf upwards
    return path


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Check an RFC 6962 audit path (the RFC 9162 section 2.1.3.2 algorithm)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --------------------------------------------------------------------------
# What a checkpoint commits to


def receipt_leaf(receipt_hash_hex: str, previous_hash_hex: str | None) -> bytes:
    """The 65 leaf bytes of a receipt: its hash, then 0x01 and the link, or 0x00 and 32 zero bytes for null."""
    if previous_hash_hex is None:
        return bytes.fromhex(receipt_hash_hex) + b"\x00" + ZERO32
    return bytes.fromhex(receipt_hash_hex) + b"\x01" + bytes.fromhex(previous_hash_hex)


def recompute_receipt_hash(data: dict[str, Any], line: str | None = None) -> str:
    """The receipt's hash recomputed from its content (fast when the stored line is canonical)."""
    fast = _canonical_line_hash(data, line) if line is not None else None
    return fast if fast is not None else receipt_hash(data)


def _canonical_line_hash(data: dict[str, Any], line: str) -> str | None:
    """The receipt's hash straight from its stored line, or None if that shortcut does not apply.

    Cutting the two hash members out of a canonical line leaves exactly the
    bytes the hash covers. When the result hashes to the stored value, the
    line is that canonical body plus the two members (so it parses to the
    same object in any JSON reader); otherwise the caller re-serialises.
    """
    stored, prev = data.get("receipt_hash"), data.get("previous_receipt_hash")
    if isinstance(stored, str) and (prev is None or isinstance(prev, str)):
        prev_member = '"previous_receipt_hash":' + ("null" if prev is None else json.dumps(prev)) + ","
        hash_member = '"receipt_hash":' + json.dumps(stored) + ","
        if line.count(prev_member) == 1 and line.count(hash_member) == 1:
            body = line.replace(prev_member, "", 1).replace(hash_member, "", 1)
            if body.isascii():
                digest = hashlib.sha256(body.encode("ascii")).hexdigest()
                if digest == stored:
                    return digest
    return None


class Commitment:
    """Running digest and Merkle accumulator over one session's receipts."""

    __slots__ = ("count", "sequence_number", "head", "digest", "tree")

    def __init__(self) -> None:
        self.count = 0
        self.sequence_number = 0
        self.head = ""
        self.digest = ZERO32
        self.tree = MerkleAccumulator()

    def add(self, computed_hash: str, previous_hash: str | None, sequence_number: int) -> None:
        leaf = receipt_leaf(computed_hash, previous_hash)
        self.digest = hashlib.sha256(self.digest + leaf).digest()
        self.tree.append_leaf_hash(leaf_hash(leaf))
        self.count += 1
        self.sequence_number = sequence_number
        self.head = computed_hash

    def matches(self, cp: dict[str, Any]) -> bool:
        return (self.digest.hex() == cp["digest"] and self.tree.root().hex() == cp["tree_head"]
                and self.head == cp["head_receipt_hash"] and self.count == cp["count"])


# --------------------------------------------------------------------------
# Checkpoint records


def checkpoint_path_for(log_path: str | os.PathLike[str]) -> str:
    """The sidecar checkpoint file of a JSONL log."""
    return os.fspath(log_path) + CHECKPOINT_SUFFIX


def unsigned_bytes(cp: dict[str, Any]) -> bytes:
    """The bytes a checkpoint's signature covers: canonical JSON of every field but `signature`."""
    return canonical_json({k: v for k, v in cp.items() if k != "signature"}).encode("ascii")


def checkpoint_hash(cp: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the whole checkpoint (signature included)."""
    return hashlib.sha256(canonical_json(cp).encode("ascii")).hexdigest()


def sign_checkpoint(key: Ed25519PrivateKey, unsigned: dict[str, Any]) -> dict[str, Any]:
    cp = dict(unsigned)
    cp["signature"] = base64.b64encode(key.sign(unsigned_bytes(cp))).decode("ascii")
    return cp


def _well_formed(cp: Any) -> str | None:
    """Why `cp` is not a checkpoint record, or None."""
    if not isinstance(cp, dict):
        return "not a JSON object"
    expected = set(_UNSIGNED_FIELDS) | {"signature"}
    if set(cp) != expected:
        missing, extra = expected - set(cp), set(cp) - expected
        return f"fields missing {sorted(missing)} / unexpected {sorted(extra)}"
    for name, kind in _UNSIGNED_FIELDS.items():
        value = cp[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"field {name} has the wrong type"
    if cp["type"] != CHECKPOINT_TYPE or cp["version"] != CHECKPOINT_VERSION:
        return f"type/version {cp['type']!r}/{cp['version']!r} not understood"
    if not isinstance(cp["signature"], str):
        return "field signature has the wrong type"
    return None


def signature_ok(public_key: Ed25519PublicKey, cp: dict[str, Any]) -> bool:
    """Whether `cp` carries a valid signature by `public_key`, in its one canonical encoding.

    Base64 leaves spare bits in the last character, so several strings decode
    to the same 64 bytes; only the canonical one is accepted, so that a
    checkpoint line (and the hash the next checkpoint links to) has exactly
    one valid form. Ed25519 verification itself rejects non-canonical S values.
    """
    try:
        encoded = cp["signature"]
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) != SIGNATURE_BYTES or base64.b64encode(raw).decode("ascii") != encoded:
            return False
        public_key.verify(raw, unsigned_bytes(cp))
        return True
    except (InvalidSignature, ValueError, TypeError, KeyError):
        return False


# --------------------------------------------------------------------------
# Writing checkpoints (used by the gate)


class Checkpointer:
    """Signs checkpoints for one session and appends them to the sidecar file.

    The gate calls `add` for every receipt it writes (under its lock) and
    `close` when it closes. A checkpoint that cannot be written is retried
    with the next receipt; `close` raises if the final one fails.
    """

    def __init__(self, key: SigningKey, path: str | os.PathLike[str], *,
                 session_id: str, every: int = DEFAULT_CHECKPOINT_EVERY, durability: str = "flush",
                 clock: Callable[[], datetime] | None = None,
                 before_write: Callable[[], None] | None = None) -> None:
        if every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, not {every}")
        self.key = load_private_key(key)
        self.key_id = key_id(self.key.public_key())
        self.path = os.fspath(path)
        self.session_id = session_id
        self.every = every
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.before_write = before_write  # makes the receipts durable before a checkpoint covers them
        self.commitment = Commitment()
        self.index = 0
        self.previous: str | None = None
        self.since = 0  # receipts added since the last checkpoint written
        self.last_error: BaseException | None = None
        self.written = 0
        self._owed = False  # an opening / reopening checkpoint must be signed before (or with) the next receipt
        self._sink = JsonlReceiptStore(self.path, durability=durability, group_commit=False,  # type: ignore[arg-type]
                                       follow_symlinks=False)

    def resume(self, log_path: str | os.PathLike[str]) -> None:
        """Continue an existing session: rebuild the commitment from the log, check it, continue the chain.

        Raises ReceiptLogError if the log no longer matches the session's last
        checkpoint (the gate must not sign over a tampered log) or if that
        checkpoint does not verify under this key.
        """
        last: dict[str, Any] | None = None
        if os.path.exists(self.path):
            for _, cp in _iter_checkpoints(self.path):
                if isinstance(cp, dict) and cp.get("session_id") == self.session_id and _well_formed(cp) is None:
                    if last is None or cp["index"] > last["index"]:
                        last = cp
        if last is not None:
            if last["key_id"] != self.key_id or not signature_ok(self.key.public_key(), last):
                raise ReceiptLogError(f"the last checkpoint of session {self.session_id} does not verify under "
                                      "this signing key", path=self.path,
                                      fix="run `spinegate verify LOG --public-key KEY.pub` and investigate")
            self.index, self.previous = last["index"], checkpoint_hash(last)
        checked = last is None
        for _, data, line in _iter_session(os.fspath(log_path), self.session_id):
            self.commitment.add(recompute_receipt_hash(data, line), data.get("previous_receipt_hash"),
                                data["sequence_number"])
            if last is not None and self.commitment.sequence_number == last["sequence_number"]:
                if not self.commitment.matches(last):
                    raise ReceiptLogError(
                        f"session {self.session_id}: the receipts up to sequence {last['sequence_number']} no "
                        f"longer match checkpoint {last['index']}", path=os.fspath(log_path),
                        fix="run `spinegate verify LOG --public-key KEY.pub` and investigate")
                checked = True
        if last is not None and last["count"] == 0:
            checked = True  # only the opening checkpoint: it committed to nothing
        if last is None and self.commitment.count:
            # A signed session has a checkpoint from before its first receipt: these receipts were never
            # signed, or their checkpoints were deleted. Signing now would vouch for whatever is there.
            raise ReceiptLogError(f"session {self.session_id}: {self.commitment.count} receipts in the log and no "
                                  "checkpoint of it; refusing to sign over receipts no key vouched for",
                                  path=self.path, fix="start a new session (no session_id), or run `spinegate "
                                  "verify LOG --public-key KEY.pub` and investigate")
        if not checked:
            raise ReceiptLogError(f"session {self.session_id}: the log ends before its last checkpoint "
                                  f"(sequence {last['sequence_number'] if last else '?'})", path=os.fspath(log_path))
        self.since = self.commitment.sequence_number - (last["sequence_number"] if last else 0)
        # Reopening a closed session: sign that it goes on, so receipts after a final checkpoint are never honest.
        self._owed = last is not None and last["final"]
        if self._owed and self.since > 0:
            raise ReceiptLogError(f"session {self.session_id}: {self.since} receipt(s) follow its final checkpoint "
                                  f"(sequence {last['sequence_number']}); refusing to sign over them",
                                  path=os.fspath(log_path),
                                  fix="run `spinegate verify LOG --public-key KEY.pub` and investigate")
        if self.since >= self.every:
            self._try_checkpoint(final=False)
        elif self._owed:
            self._settle("reopening")

    def open_session(self) -> None:
        """Sign the opening checkpoint of a new session (count 0), before its first receipt is written.

        So every signed session that has a receipt has a checkpoint, and a
        session fabricated in the log (with none) is caught
        (`SESSION_UNSIGNED`). If it cannot be written, `add` retries after
        the first receipt.
        """
        if self.index == 0 and self.commitment.count == 0:
            self._owed = True
            self._settle("opening")

    def _settle(self, what: str) -> None:
        """Write the owed opening / reopening checkpoint, keeping the every-N cadence; on failure, retry later."""
        since = self.since
        try:
            self._write_checkpoint(final=False)
        except (ReceiptLogError, OSError) as exc:
            self.last_error = exc
            log.warning("spinegate: could not write the %s checkpoint (retrying with the next receipt): %s",
                        what, exc)
        self.since = since

    def add(self, sequence_number: int, computed_hash: str, previous_hash: str | None) -> None:
        """Fold one written receipt into the commitment; sign a checkpoint every N (and any owed one)."""
        self.commitment.add(computed_hash, previous_hash, sequence_number)
        self.since += 1
        if self.since >= self.every:
            self._try_checkpoint(final=False)
        elif self._owed:  # the opening / reopening checkpoint could not be written: the session still needs it
            self._settle("owed")

    def checkpoint(self, *, final: bool = False) -> dict[str, Any] | None:
        """Sign and append a checkpoint of everything so far (None for an empty session)."""
        if self.commitment.count == 0:
            return None
        return self._write_checkpoint(final=final)

    def _write_checkpoint(self, *, final: bool) -> dict[str, Any]:
        c = self.commitment
        if self.before_write is not None:
            self.before_write()
        unsigned = {
            "type": CHECKPOINT_TYPE, "version": CHECKPOINT_VERSION, "session_id": self.session_id,
            "index": self.index + 1, "sequence_number": c.sequence_number, "count": c.count,
            "timestamp": format_timestamp(self.clock()), "key_id": self.key_id,
            "previous_checkpoint": self.previous, "head_receipt_hash": c.head, "digest": c.digest.hex(),
            "tree_head": c.tree.root().hex(), "every": self.every, "final": final,
        }
        cp = sign_checkpoint(self.key, unsigned)
        self._sink.append(canonical_json(cp))
        self.index += 1
        self.previous = checkpoint_hash(cp)
        self.since = 0
        self.written += 1
        self.last_error = None
        self._owed = False
        return cp

    def _try_checkpoint(self, *, final: bool) -> None:
        try:
            self.checkpoint(final=final)
        except (ReceiptLogError, OSError) as exc:
            self.last_error = exc
            log.warning("spinegate: could not write a checkpoint (retrying with the next receipt): %s", exc)

    def close(self) -> None:
        """Write the final checkpoint and close the sidecar. Raises if it cannot be written."""
        try:
            if self.commitment.count:
                self.checkpoint(final=True)
            elif self.index:  # a session that never wrote a receipt: close its chain all the same
                self._write_checkpoint(final=True)
        finally:
            self._sink.close()


# --------------------------------------------------------------------------
# Reading


#: Longest checkpoint line read (a real one is about 700 bytes plus the session id).
MAX_CHECKPOINT_LINE = 64 * 1024


def _iter_checkpoints(path: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON, or None when the line is not canonical JSON) per complete line.

    The gate writes each checkpoint as canonical JSON, so any other spelling
    (whitespace, key order, escapes, duplicate keys that a first-wins parser
    would read differently) is not what the gate wrote and is rejected.
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


def _iter_session(log_path: str, session_id: str) -> Iterator[tuple[int, dict[str, Any], str]]:
    needle = f'"session_id":{json.dumps(session_id)}'.encode()
    try:
        fh = open(log_path, "rb")
    except FileNotFoundError:
        return
    with fh:
        for n, raw in enumerate(fh, start=1):
            if needle not in raw or not raw.endswith(b"\n"):
                continue
            line = raw[:-1].decode("utf-8", errors="replace")
            try:
                data = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(data, dict) and data.get("session_id") == session_id and _receipt_like(data):
                yield n, data, line


def _receipt_like(data: dict[str, Any]) -> bool:
    seq, h, prev = data.get("sequence_number"), data.get("receipt_hash"), data.get("previous_receipt_hash")
    return (isinstance(seq, int) and not isinstance(seq, bool) and isinstance(h, str) and _is_hex64(h)
            and (prev is None or (isinstance(prev, str) and _is_hex64(prev))))


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _is_hex64(s: str) -> bool:
    return _HEX64.fullmatch(s) is not None


# --------------------------------------------------------------------------
# Verifying


@dataclass
class CheckpointReport:
    """What checking a log against its signed checkpoints found."""

    path: str
    checkpoints_path: str
    key_id: str
    checkpoints: int = 0
    verified_checkpoints: int = 0
    sessions: int = 0
    covered_receipts: int = 0
    uncovered: dict[str, int] = field(default_factory=dict)  # session -> receipts after its last checkpoint
    unclosed: list[str] = field(default_factory=list)  # sessions whose last checkpoint is not final
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failure_count(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        n = self.failure_count
        state = "valid" if self.ok else f"INVALID ({n} problem{'s' if n != 1 else ''})"
        tail = sum(self.uncovered.values())
        text = (f"checkpoints {self.checkpoints_path}: {state}: {self.verified_checkpoints} of {self.checkpoints} "
                f"checkpoints verify under key {self.key_id}, covering {self.covered_receipts} receipts in "
                f"{self.sessions} sessions")
        if tail:
            text += f"; {tail} receipts after the last checkpoint of their session are protected by the chain only"
        if self.unclosed:
            k = len(self.unclosed)
            text += (f"; {k} session{'s' if k != 1 else ''} without a final checkpoint (still open, crashed, or "
                     "cut back together with their last checkpoints: compare with a copy kept elsewhere)")
        return text


class _SessionCheck:
    __slots__ = ("commitment", "anchors", "checkpoints", "last_line", "content_failed")

    def __init__(self) -> None:
        self.commitment = Commitment()
        self.anchors: deque[tuple[int, dict[str, Any]]] = deque()  # (checkpoint file line, checkpoint)
        self.checkpoints: list[tuple[int, dict[str, Any]]] = []
        self.last_line: int | None = None
        self.content_failed = False


def verify_checkpoints(log_path: str | os.PathLike[str], public_key: Ed25519PublicKey | str | os.PathLike[str],
                       checkpoints_path: str | os.PathLike[str] | None = None) -> CheckpointReport:
    """Check a JSONL log against its signed checkpoints, in one streaming pass over the log.

    Run it together with the chain verification (`verify_path`): this pass
    checks what the chain cannot, namely that the log still holds exactly the
    receipts the key holder signed, up to each session's last checkpoint.
    """
    log_path = os.fspath(log_path)
    pub = load_public_key(public_key)
    kid = key_id(pub)
    cpath = os.fspath(checkpoints_path) if checkpoints_path is not None else checkpoint_path_for(log_path)
    report = CheckpointReport(log_path, cpath, kid)

    def fail(reason: str, detail: str, *, file: str = cpath, line: int | None = None,
             session: str | None = None, seq: int | None = None) -> None:
        report.failures.append(Failure(reason, detail, file, line, None, session, seq))

    sessions: dict[str, _SessionCheck] = {}
    wrong_key_sessions: set[str] = set()
    if not os.path.exists(cpath):
        fail(CHECKPOINT_FILE_MISSING, "no checkpoint file next to the log: nothing signed to check against")
    elif not _is_regular(cpath):
        # A pipe or device (/dev/zero, say) planted there would hang or exhaust the verifier.
        fail(CHECKPOINT_FILE_INVALID, "the checkpoint path is not a regular file (a directory, device or pipe): "
             "not read")
    else:
        torn = find_torn_tail(cpath)
        if torn is not None:
            with open(cpath, "rb") as fh:
                lines = fh.read(torn).count(b"\n")
            fail(CHECKPOINT_TORN, "the checkpoint file ends in a partial line (an interrupted write); "
                 "`spinegate recover` moves it aside", line=lines + 1)
        _load_checkpoints(cpath, pub, kid, report, sessions, fail, wrong_key_sessions)

    # One streaming pass over the log.
    seen_any = False
    with open(log_path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                break  # a torn last line: the chain verification names it
            line = raw[:-1].decode("utf-8", errors="replace").rstrip("\r")
            try:
                data = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if not isinstance(data, dict) or not _receipt_like(data) or not isinstance(data.get("session_id"), str):
                continue
            try:
                computed = _canonical_line_hash(data, line)
                if computed is None:
                    computed = receipt_hash(data)
                    if canonical_json(data) != line:
                        # Same object to Python, but duplicate keys can read differently elsewhere.
                        fail(RECEIPT_NOT_CANONICAL, "the line is not the canonical JSON the gate writes "
                             "(duplicate keys, whitespace, key order or escapes): readers other than this one "
                             "may see different content", file=log_path, line=n,
                             session=data["session_id"], seq=data["sequence_number"])
            except (ValueError, TypeError, RecursionError):
                continue  # not serialisable as a receipt: missing from the commitment, so reported below
            seen_any = True
            sid = data["session_id"]
            st = sessions.get(sid)
            if st is None:
                st = sessions[sid] = _SessionCheck()
            c = st.commitment
            seq = data["sequence_number"]
            # A checkpoint whose sequence number the log skipped past: its receipt is gone.
            while st.anchors and seq > st.anchors[0][1]["sequence_number"]:
                cl, cp = st.anchors.popleft()
                _deleted(cp, cl, c, sid, fail, log_path, n)
                st.content_failed = True
            c.add(computed, data["previous_receipt_hash"], seq)
            st.last_line = n
            while st.anchors and seq == st.anchors[0][1]["sequence_number"]:
                cl, cp = st.anchors.popleft()
                _compare(cp, cl, c, st, sid, fail, log_path, n)

    for sid, st in sessions.items():
        c = st.commitment
        if st.anchors:  # checkpoints the log never reached
            cl, cp = st.anchors[-1]
            fail(TAIL_TRUNCATED, f"checkpoint {cp['index']} (line {cl}) covers {cp['count']} receipts up to "
                 f"sequence {cp['sequence_number']}, but the log ends at sequence {c.sequence_number} "
                 f"after {c.count} receipts of this session ({len(st.anchors)} checkpoint(s) not reached): "
                 "its tail was cut off", file=log_path,
                 line=st.last_line, session=sid, seq=cp["sequence_number"])
        if st.checkpoints:
            report.sessions += 1
            last = max(st.checkpoints, key=lambda t: t[1]["index"])[1]
            report.covered_receipts += min(c.count, last["count"])
            after = c.count - last["count"]
            if after > 0 and last["final"]:
                # A closed gate writes nothing more; a resumed one signs a checkpoint before going on.
                fail(RECEIPTS_INSERTED, f"{after} receipt(s) follow the session's final checkpoint "
                     f"({last['index']}, sequence {last['sequence_number']}): appended after it was closed",
                     file=log_path, line=st.last_line, session=sid, seq=last["sequence_number"] + 1)
            if after > 0:
                report.uncovered[sid] = after
                # A writer that dies between a receipt and its checkpoint leaves exactly `every`.
                if after > last["every"]:
                    fail(CHECKPOINT_MISSING, f"{after} receipts follow the session's last checkpoint "
                         f"({last['index']}, sequence {last['sequence_number']}), which was written every "
                         f"{last['every']}: later checkpoints were deleted", session=sid,
                         seq=last["sequence_number"] + last["every"])
            if not last["final"]:
                report.unclosed.append(sid)
        elif c.count:
            report.uncovered[sid] = c.count
            if report.verified_checkpoints and sid not in wrong_key_sessions:
                # The gate signs an opening checkpoint before a session's first receipt.
                fail(SESSION_UNSIGNED, f"{c.count} receipt(s) of this session, and no checkpoint of it (a signing "
                     "gate writes one before a session's first receipt): a session added to the log, or one "
                     "whose checkpoints were all deleted", file=log_path, line=st.last_line, session=sid)
    if seen_any and report.verified_checkpoints == 0 and not any(
            f.reason in (CHECKPOINT_FILE_MISSING, CHECKPOINT_KEY_MISMATCH) for f in report.failures):
        fail(NO_CHECKPOINTS, "the log holds receipts but no checkpoint verifies under this key")
    return report


def _load_checkpoints(cpath: str, pub: Ed25519PublicKey, kid: str, report: CheckpointReport,
                      sessions: dict[str, _SessionCheck], fail: Callable[..., None],
                      wrong_key_reported: set[str]) -> None:
    """Read and authenticate every checkpoint, check each session's checkpoint chain, queue the anchors.

    Sessions with checkpoints by another key are added to `wrong_key_reported`.
    """
    for n, cp in _iter_checkpoints(cpath):
        report.checkpoints += 1
        problem = "not canonical JSON (whitespace, key order, escapes or duplicate keys)" if cp is None \
            else _well_formed(cp)
        if problem:
            fail(CHECKPOINT_MALFORMED, f"not a checkpoint: {problem}", line=n)
            continue
        sid = cp["session_id"]
        if cp["key_id"] != kid:
            if signature_ok(pub, cp):
                fail(CHECKPOINT_SIGNATURE_INVALID, "the key_id field was edited", line=n, session=sid,
                     seq=cp["sequence_number"])
            elif sid not in wrong_key_reported:
                wrong_key_reported.add(sid)
                fail(CHECKPOINT_KEY_MISMATCH, f"signed by key {cp['key_id'][:16]}..., not by the given key "
                     f"{kid[:16]}... (wrong public key, or checkpoints from another signer)", line=n,
                     session=sid, seq=cp["sequence_number"])
            continue
        if not signature_ok(pub, cp):
            fail(CHECKPOINT_SIGNATURE_INVALID, f"checkpoint {cp['index']}: the signature does not verify: "
                 "forged or edited", line=n, session=sid, seq=cp["sequence_number"])
            continue
        report.verified_checkpoints += 1
        st = sessions.get(sid)
        if st is None:
            st = sessions[sid] = _SessionCheck()
        st.checkpoints.append((n, cp))
    for sid, st in sessions.items():
        _check_chain(sid, st.checkpoints, fail)
        st.anchors = deque(sorted(st.checkpoints, key=lambda t: (t[1]["sequence_number"], t[1]["index"])))
        while st.anchors and st.anchors[0][1]["count"] == 0:  # opening (or empty final) checkpoints
            line, cp = st.anchors.popleft()
            if cp["sequence_number"] != 0 or not Commitment().matches(cp):
                fail(CHECKPOINT_MALFORMED, f"checkpoint {cp['index']} covers no receipts but does not commit to "
                     "an empty session", line=line, session=sid, seq=cp["sequence_number"])


def _check_chain(sid: str, cps: list[tuple[int, dict[str, Any]]], fail: Callable[..., None]) -> None:
    """One session's authentic checkpoints, in file order: indexes 1..k, in order, each linked to the one before."""
    if not cps:
        return
    for (_, a), (line, b) in zip(cps, cps[1:]):
        if b["index"] < a["index"]:
            fail(CHECKPOINT_REORDERED, f"checkpoint {b['index']} comes after checkpoint {a['index']} in the file: "
                 "out of order", line=line, session=sid, seq=b["sequence_number"])
            break
    by_index: dict[int, tuple[int, dict[str, Any]]] = {}
    for line, cp in cps:
        if cp["index"] in by_index:
            fail(CHECKPOINT_CHAIN_BROKEN, f"two checkpoints claim index {cp['index']} (lines "
                 f"{by_index[cp['index']][0]} and {line}): duplicated or forked", line=line, session=sid,
                 seq=cp["sequence_number"])
            continue
        by_index[cp["index"]] = (line, cp)
    last = max(by_index)
    missing = [i for i in range(1, last + 1) if i not in by_index]
    if missing:
        first_after = next(i for i in range(missing[0], last + 1) if i in by_index)
        line, cp = by_index[first_after]
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        fail(CHECKPOINT_MISSING, f"checkpoint{'s' if len(missing) > 1 else ''} {shown} of the session "
             f"{'are' if len(missing) > 1 else 'is'} missing (the chain runs to checkpoint {last}): deleted",
             line=line, session=sid, seq=cp["sequence_number"])
    for i, (line, cp) in sorted(by_index.items()):
        before = by_index.get(i - 1)
        if i == 1:
            expected = None
        elif before is None:
            continue  # already reported as missing
        else:
            expected = checkpoint_hash(before[1])
        if cp["previous_checkpoint"] != expected:
            fail(CHECKPOINT_CHAIN_BROKEN, f"checkpoint {i}: previous_checkpoint does not match checkpoint "
                 f"{i - 1}" if i > 1 else "checkpoint 1: previous_checkpoint must be null", line=line,
                 session=sid, seq=cp["sequence_number"])


def _compare(cp: dict[str, Any], cl: int, c: Commitment, st: _SessionCheck, sid: str,
             fail: Callable[..., None], log_path: str, n: int) -> None:
    if c.count < cp["count"]:
        fail(RECEIPTS_DELETED, f"checkpoint {cp['index']} (line {cl}) signed {cp['count']} receipts up to "
             f"sequence {cp['sequence_number']}; the log holds {c.count}: {cp['count'] - c.count} deleted",
             file=log_path, line=n, session=sid, seq=cp["sequence_number"])
        st.content_failed = True
    elif c.count > cp["count"]:
        fail(RECEIPTS_INSERTED, f"checkpoint {cp['index']} (line {cl}) signed {cp['count']} receipts up to "
             f"sequence {cp['sequence_number']}; the log holds {c.count}", file=log_path, line=n,
             session=sid, seq=cp["sequence_number"])
        st.content_failed = True
    elif not st.content_failed and not c.matches(cp):
        lo = _previous_anchor_seq(st, cp)
        fail(RECEIPT_REWRITTEN, f"the receipts do not match what checkpoint {cp['index']} (line {cl}) signed: "
             f"at least one receipt with sequence {lo + 1}..{cp['sequence_number']} was rewritten "
             "(hashes recomputed or not)", file=log_path, line=n, session=sid, seq=cp["sequence_number"])
        st.content_failed = True


def _previous_anchor_seq(st: _SessionCheck, cp: dict[str, Any]) -> int:
    before = [t[1]["sequence_number"] for t in st.checkpoints if t[1]["sequence_number"] < cp["sequence_number"]]
    return max(before, default=0)


def _deleted(cp: dict[str, Any], cl: int, c: Commitment, sid: str, fail: Callable[..., None],
             log_path: str, n: int) -> None:
    fail(RECEIPTS_DELETED, f"checkpoint {cp['index']} (line {cl}) covers sequence {cp['sequence_number']}, "
         f"but the log has no such receipt (it goes from {c.sequence_number} on): receipts deleted",
         file=log_path, line=n, session=sid, seq=cp["sequence_number"])


# --------------------------------------------------------------------------
# Inclusion proofs over a log


def session_leaves(log_path: str | os.PathLike[str], session_id: str) -> list[tuple[dict[str, Any], bytes]]:
    """(receipt, RFC 6962 leaf hash) for every receipt of a session, in log order."""
    out = []
    for _, data, line in _iter_session(os.fspath(log_path), session_id):
        out.append((data, leaf_hash(receipt_leaf(recompute_receipt_hash(data, line),
                                                 data["previous_receipt_hash"]))))
    return out


def prove_receipt(log_path: str | os.PathLike[str], checkpoint: dict[str, Any], receipt_id: str) -> dict[str, Any]:
    """An inclusion proof of one receipt under a checkpoint's tree head (hex strings, JSON-ready)."""
    leaves = session_leaves(log_path, checkpoint["session_id"])[: checkpoint["count"]]
    for i, (data, _) in enumerate(leaves):
        if data["receipt_id"] == receipt_id:
            proof = inclusion_proof([h for _, h in leaves], i)
            return {"receipt_id": receipt_id, "leaf_index": i, "tree_size": len(leaves),
                    "audit_path": [p.hex() for p in proof], "tree_head": checkpoint["tree_head"]}
    raise KeyError(f"receipt {receipt_id} is not among the {len(leaves)} receipts the checkpoint covers")


def verify_receipt_proof(receipt: dict[str, Any], proof: dict[str, Any], checkpoint: dict[str, Any],
                         public_key: Ed25519PublicKey | str | os.PathLike[str]) -> bool:
    """Check one receipt against a signed checkpoint and an inclusion proof, without the log."""
    pub = load_public_key(public_key)
    if _well_formed(checkpoint) or checkpoint["key_id"] != key_id(pub) or not signature_ok(pub, checkpoint):
        return False
    try:  # a hostile receipt or proof is a failed proof, never a crash
        if proof.get("tree_size") != checkpoint["count"] or proof.get("tree_head") != checkpoint["tree_head"]:
            return False
        index = proof["leaf_index"]
        if not isinstance(index, int) or isinstance(index, bool) or receipt.get("session_id") != \
                checkpoint["session_id"]:
            return False
        leaf = leaf_hash(receipt_leaf(receipt_hash(receipt), receipt.get("previous_receipt_hash")))
        path = [bytes.fromhex(p) for p in proof["audit_path"]]
        if any(len(p) != 32 for p in path):
            return False
        return verify_inclusion(leaf, index, checkpoint["count"], path, bytes.fromhex(checkpoint["tree_head"]))
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return False


def iter_checkpoints(path: str | os.PathLike[str]) -> Iterable[dict[str, Any]]:
    """The parsed checkpoint records of a sidecar file (malformed lines skipped)."""
    for _, cp in _iter_checkpoints(os.fspath(path)):
        if isinstance(cp, dict):
            yield cp
