"""A receipt hashed the .NET port's way is invalid, and the verifier says which spelling explains it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from spinegate.canonical import canonical_json
from spinegate.reasons import HASH_MISMATCH
from spinegate.receipt_hash import HASH_EXCLUDED_KEYS, dotnet_variant
from spinegate.verify import verify_jsonl

SIBLING = Path(__file__).resolve().parents[2] / "fixtures" / "interop" / "m87_spine_lite_receipts.jsonl"


def first_receipt() -> dict:
    return json.loads(SIBLING.read_text().splitlines()[0])


def rehash(receipt: dict, text_of_body) -> dict:
    body = {k: v for k, v in receipt.items() if k not in HASH_EXCLUDED_KEYS}
    receipt["receipt_hash"] = hashlib.sha256(text_of_body(body).encode("utf-8")).hexdigest()
    return receipt


def raw_utf8(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def capital_exponent(body: dict) -> str:
    return canonical_json(body).replace("1e-05", "1E-05")


@pytest.mark.parametrize(("edit", "spelling", "name"), [
    (lambda r: r["action"].__setitem__("description", "Lecture du fichier \u00e9t\u00e9 \u2713"), raw_utf8,
     "non-ASCII text written raw"),
    (lambda r: r["action"].__setitem__("risk_delta", 1e-05), capital_exponent, "exponents written with a capital E"),
])
def test_dotnet_spelling_is_named_but_never_valid(tmp_path: Path, edit, spelling, name: str) -> None:
    receipt = first_receipt()
    edit(receipt)
    rehash(receipt, spelling)
    assert dotnet_variant(receipt) == name
    log = tmp_path / "dotnet.jsonl"
    log.write_text(json.dumps(receipt) + "\n")
    report = verify_jsonl(log)
    assert not report.ok
    failure = report.first_failure
    assert failure.reason == HASH_MISMATCH and ".NET port" in failure.detail and name in failure.detail


def test_an_ordinary_mismatch_names_no_variant(tmp_path: Path) -> None:
    receipt = first_receipt()
    receipt["action"]["description"] = "edited"
    assert dotnet_variant(receipt) is None
    log = tmp_path / "edited.jsonl"
    log.write_text(json.dumps(receipt) + "\n")
    failure = verify_jsonl(log).first_failure
    assert failure.reason == HASH_MISMATCH and ".NET" not in failure.detail
