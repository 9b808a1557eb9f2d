"""RFC 6962 Merkle tree heads and inclusion proofs, against the Certificate Transparency reference vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tamper_support import lines

from spinegate.checkpoint_verify import iter_checkpoints, prove_receipt, verify_receipt_proof
from spinegate.jsonl_store import checkpoint_path_for
from spinegate.merkle import MerkleAccumulator, inclusion_proof, leaf_hash, merkle_root, verify_inclusion

# The RFC 6962 test leaves and tree heads used by certificate-transparency-go and others.
CT_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"]]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PROOFS = [  # (0-based leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


def test_tree_heads_match_the_rfc_6962_reference() -> None:
    hashes = [leaf_hash(x) for x in CT_LEAVES]
    acc = MerkleAccumulator()
    assert acc.root().hex() == CT_ROOTS[0]
    for n in range(1, 9):
        acc.append_leaf_hash(hashes[n - 1])
        assert acc.root().hex() == CT_ROOTS[n]
        assert merkle_root(hashes[:n]).hex() == CT_ROOTS[n]


@pytest.mark.parametrize("index,size,path", CT_PROOFS)
def test_inclusion_proofs_match_the_reference(index: int, size: int, path: list[str]) -> None:
    hashes = [leaf_hash(x) for x in CT_LEAVES]
    proof = inclusion_proof(hashes[:size], index)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(hashes[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(size=st.integers(1, 70), data=st.data())
def test_every_proof_verifies_and_any_change_fails(size: int, data: Any) -> None:
    hashes = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    root = merkle_root(hashes)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(hashes, index)
    assert verify_inclusion(hashes[index], index, size, proof, root)
    assert not verify_inclusion(hashes[(index + 1) % size], index, size, proof, root) or size == 1
    if proof:
        broken = list(proof)
        k = data.draw(st.integers(0, len(proof) - 1))
        broken[k] = bytes(32)
        assert not verify_inclusion(hashes[index], index, size, broken, root)
        assert not verify_inclusion(hashes[index], index, size, proof[:-1], root)


def test_one_receipt_is_proven_against_a_signed_checkpoint_without_the_log(
        signed_log: Callable[..., Path], keypair: Any) -> None:
    log = signed_log(7, every=100)
    final = list(iter_checkpoints(checkpoint_path_for(log)))[-1]
    receipts = lines(log)
    for r in receipts:
        proof = prove_receipt(log, final, r["receipt_id"])
        assert verify_receipt_proof(r, proof, final, keypair[1])
    forged = dict(receipts[3], proposal_id="forged")
    assert not verify_receipt_proof(forged, prove_receipt(log, final, receipts[3]["receipt_id"]), final, keypair[1])
    edited = dict(final, count=final["count"] + 1)
    assert not verify_receipt_proof(receipts[3], prove_receipt(log, final, receipts[3]["receipt_id"]), edited,
                                    keypair[1])
