"""Signed checkpoints: what one commits to, how it is signed and checked. Pure (no files, no clock).

A v1.0.0 chain only proves that a log is self-consistent: whoever can write
the file can rewrite any receipt and recompute every hash, or cut off the
tail. A gate given an Ed25519 signing key therefore writes *checkpoints*,
one canonical JSON object each, after a session's first receipt, every N
receipts and when it closes (`checkpoint_writer`). Each checkpoint signs,
for one session:

- ``session_id``, ``index`` (1, 2, ... per session) and ``previous_checkpoint``
  (SHA-256 of the previous checkpoint line of the session, or null), so the
  checkpoints form a chain of their own;
- ``sequence_number`` of the last receipt covered, ``count`` of receipts
  covered, ``head_receipt_hash``, ``timestamp``, ``key_id`` (SHA-256 of the raw
  public key) and ``every`` (the checkpoint interval);
- a commitment to *every* receipt so far, in order, twice over:
  ``digest`` is a running hash ``d_n = SHA-256(d_(n-1) || leaf_n)`` with
  ``d_0`` 32 zero bytes, and ``tree_head`` is the RFC 6962 Merkle tree hash
  over the same leaves (`merkle`). ``leaf_n`` is the 65 bytes
  ``receipt_hash || 0x01 || previous_receipt_hash`` (``0x00`` and 32 zero
  bytes when the link is null), with ``receipt_hash`` *recomputed* from the
  receipt's content: so the leaf covers every field, the link to the
  previous receipt included.

``signature`` is base64 Ed25519 over the canonical JSON of all other fields.
Only the canonical spelling of a line (and of its base64 signature) is
accepted, so a checkpoint has exactly one valid form.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import canonical_json
from .merkle import MerkleAccumulator, leaf_hash

CHECKPOINT_TYPE = "spinegate.checkpoint"
CHECKPOINT_VERSION = 1
DEFAULT_CHECKPOINT_EVERY = 100
ZERO32 = bytes(32)
SIGNATURE_BYTES = 64

#: Every field of a checkpoint but `signature`, with its JSON type.
CHECKPOINT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "type": str, "version": int, "session_id": str, "index": int, "sequence_number": int, "count": int,
    "timestamp": str, "key_id": str, "previous_checkpoint": (str, type(None)), "head_receipt_hash": str,
    "digest": str, "tree_head": str, "every": int, "final": bool,
}


def receipt_leaf(receipt_hash_hex: str, previous_hash_hex: str | None) -> bytes:
    """The 65 leaf bytes of a receipt: its hash, then 0x01 and the link, or 0x00 and 32 zero bytes for null."""
    if previous_hash_hex is None:
        return bytes.fromhex(receipt_hash_hex) + b"\x00" + ZERO32
    return bytes.fromhex(receipt_hash_hex) + b"\x01" + bytes.fromhex(previous_hash_hex)



class Commitment:
    """Running digest and Merkle accumulator over one session's receipts."""

    __slots__ = ("count", "digest", "head", "sequence_number", "tree")

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

    def matches(self, cp: Mapping[str, Any]) -> bool:
        """True when this commitment is exactly what checkpoint `cp` signed."""
        return bool(self.digest.hex() == cp["digest"] and self.tree.root().hex() == cp["tree_head"]
                and self.head == cp["head_receipt_hash"] and self.count == cp["count"])



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


def well_formed(cp: Any) -> str | None:
    """Why `cp` is not a checkpoint record, or None."""
    if not isinstance(cp, dict):
        return "not a JSON object"
    expected = set(CHECKPOINT_FIELDS) | {"signature"}
    if set(cp) != expected:
        missing, extra = expected - set(cp), set(cp) - expected
        return f"fields missing {sorted(missing)} / unexpected {sorted(extra)}"
    for name, kind in CHECKPOINT_FIELDS.items():
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




def receipt_like(data: Mapping[str, Any]) -> bool:
    """True when `data` has a sequence number and hashes a commitment can fold in (checked before anything else)."""
    seq, h, prev = data.get("sequence_number"), data.get("receipt_hash"), data.get("previous_receipt_hash")
    return (isinstance(seq, int) and not isinstance(seq, bool) and isinstance(h, str) and _is_hex64(h)
            and (prev is None or (isinstance(prev, str) and _is_hex64(prev))))


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _is_hex64(s: str) -> bool:
    return _HEX64.fullmatch(s) is not None
