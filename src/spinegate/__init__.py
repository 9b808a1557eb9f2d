"""spinegate: decide every AI agent tool call before it runs, and leave evidence.

    from spinegate import Gate, ToolCall

    gate = Gate.open("manifest.json", receipts="receipts.jsonl")
    decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"}))

The module map (what each module owns, which are pure) is docs/architecture.md.
"""

from .approvals import Approval, ApprovalRequest
from .checkpoint_verify import CheckpointReport, prove_receipt, verify_checkpoints, verify_receipt_proof
from .classifier import Classification, EffectClassifier
from .decision import Decision, ToolCall, Verdict
from .effects import EffectClass, Posture
from .emitter import ReceiptEmitter
from .errors import (
    GovernanceVeto,
    KeyFileError,
    ManifestError,
    ManifestHashMismatch,
    ManifestUnreadable,
    ReceiptFormatError,
    ReceiptLogError,
    ReceiptWriteError,
    SpinegateError,
    TornLogError,
)
from .gate import Gate
from .jsonl_store import JsonlReceiptStore
from .keys import write_keypair
from .manifest import FunctionEntry, Manifest
from .manifest_file import load_manifest, seal_manifest
from .memory_store import MemoryReceiptStore
from .policy import Limits, PolicyEvaluator
from .receipts import Receipt
from .store import ReceiptStore, StoredRecord
from .verify import VerifyReport, verify_path

__all__ = [
    "Gate", "ToolCall", "Decision", "Verdict", "GovernanceVeto",
    "EffectClass", "Posture", "EffectClassifier", "Classification", "PolicyEvaluator", "Limits",
    "ReceiptEmitter", "Receipt", "Approval", "ApprovalRequest",
    "Manifest", "FunctionEntry", "load_manifest", "seal_manifest",
    "write_keypair", "verify_checkpoints", "CheckpointReport", "prove_receipt", "verify_receipt_proof",
    "ReceiptStore", "StoredRecord", "JsonlReceiptStore", "MemoryReceiptStore", "VerifyReport", "verify_path",
    "SpinegateError", "ManifestError", "ManifestHashMismatch", "ManifestUnreadable", "ReceiptLogError",
    "ReceiptWriteError", "TornLogError", "ReceiptFormatError", "KeyFileError",
]
__version__ = "0.2.0"
