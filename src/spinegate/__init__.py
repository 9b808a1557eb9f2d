"""spinegate: decide every AI agent tool call before it runs, and leave evidence.

    from spinegate import Gate, ToolCall

    gate = Gate.open("manifest.json", receipts="receipts.jsonl")
    decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"}))
"""

from .classifier import Classification, EffectClassifier
from .decision import Decision, ToolCall, Verdict
from .effects import EffectClass, Posture
from .errors import (
    GovernanceVeto, KeyFileError, ManifestError, ManifestHashMismatch, ManifestUnreadable, ReceiptFormatError, ReceiptLogError,
    ReceiptWriteError, SpinegateError, TornLogError,
)
from .gate import Approval, ApprovalRequest, Gate, ReceiptEmitter
from .manifest import FunctionEntry, Manifest, load_manifest, seal_manifest
from .policy import Limits, PolicyEvaluator
from .receipts import Receipt
from .signing import CheckpointReport, prove_receipt, verify_checkpoints, verify_receipt_proof, write_keypair
from .store import JsonlReceiptStore, MemoryReceiptStore, ReceiptStore
from .verify import VerifyReport, verify_path

__all__ = [
    "Gate", "ToolCall", "Decision", "Verdict", "GovernanceVeto",
    "EffectClass", "Posture", "EffectClassifier", "Classification", "PolicyEvaluator", "Limits",
    "ReceiptEmitter", "Receipt", "Approval", "ApprovalRequest",
    "Manifest", "FunctionEntry", "load_manifest", "seal_manifest",
    "write_keypair", "verify_checkpoints", "CheckpointReport", "prove_receipt", "verify_receipt_proof",
    "ReceiptStore", "JsonlReceiptStore", "MemoryReceiptStore", "VerifyReport", "verify_path",
    "SpinegateError", "ManifestError", "ManifestHashMismatch", "ManifestUnreadable", "ReceiptLogError", "ReceiptWriteError",
    "TornLogError", "ReceiptFormatError", "KeyFileError",
]
__version__ = "0.1.0"
