"""RFC 6962 Merkle trees over receipt leaves: tree heads, inclusion proofs, their check. Pure.

A checkpoint's ``tree_head`` is the Merkle tree hash over a session's
receipt leaves, so one receipt can be proven to be in a signed checkpoint
without handing over the log (`inclusion_proof`, `verify_inclusion`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


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

    __slots__ = ("_peaks", "size")

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
