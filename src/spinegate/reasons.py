"""Every reason code spinegate writes or reports, each with a line of meaning. Pure data.

Three families, each a stable vocabulary that receipts, reports and the
conformance vectors carry:

- `DECISION_REASONS`: why a call was not approved (a decision receipt's
  `result.blocked_by`, `Decision.reason`), the .NET port's codes where it has
  them. docs/policy.md lists them from here (a test keeps the two equal).
- `CHAIN_FAILURES`: why a log fails the v1.0.0 chain verification.
- `CHECKPOINT_FAILURES`: why a log fails its signed checkpoints (or its witness).
- `VERIFY_WARNINGS`: what verification reports without failing the log
  (`spinegate verify --strict` makes them failures).

A code is defined once, here; every other module imports it.
"""

from __future__ import annotations

# -- decisions: the SPEC.md decision table (.NET port's codes) ---------------------------------------------

TOOL_NOT_IN_MANIFEST = "TOOL_NOT_IN_MANIFEST"
EFFECT_CLASS_UNKNOWN = "EFFECT_CLASS_UNKNOWN"
RESTRICTED_WRITE_FORBIDDEN = "RESTRICTED_WRITE_FORBIDDEN"
MANIFEST_DENIED = "MANIFEST_DENIED"
ELEVATED_BLOCKS_NETWORK = "ELEVATED_BLOCKS_NETWORK"
LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY = "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY"
EVALUATION_EXCEPTION = "EVALUATION_EXCEPTION"
MANIFEST_INTEGRITY_FAILURE = "MANIFEST_INTEGRITY_FAILURE"

# -- decisions: spinegate's own policy rules -----------------------------------------------------------------

WRITE_OUTSIDE_ALLOWED_ROOTS = "WRITE_OUTSIDE_ALLOWED_ROOTS"
COMMAND_DENIED = "COMMAND_DENIED"
EFFECT_EXCEEDS_DECLARED = "EFFECT_EXCEEDS_DECLARED"
MAX_CALLS_EXCEEDED = "MAX_CALLS_EXCEEDED"
BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"
APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
APPROVAL_DENIED = "APPROVAL_DENIED"
APPROVAL_TIMEOUT = "APPROVAL_TIMEOUT"
APPROVER_ERROR = "APPROVER_ERROR"

# -- decisions: the gate itself ------------------------------------------------------------------------------

RECEIPT_WRITE_FAILED = "RECEIPT_WRITE_FAILED"
GATE_CLOSED = "GATE_CLOSED"

# -- decisions: refusals an adapter records before policy runs (`Gate.deny`) --------------------------------

MALFORMED_TOOL_CALL = "MALFORMED_TOOL_CALL"
INVALID_ARGUMENTS_JSON = "INVALID_ARGUMENTS_JSON"
ARGUMENTS_NOT_OBJECT = "ARGUMENTS_NOT_OBJECT"
ARGUMENTS_SCHEMA_MISMATCH = "ARGUMENTS_SCHEMA_MISMATCH"
NO_CALLABLE_FOR_TOOL = "NO_CALLABLE_FOR_TOOL"
UNSUPPORTED_TOOL_CALL_TYPE = "UNSUPPORTED_TOOL_CALL_TYPE"
TOOL_DEFINITION_CHANGED = "TOOL_DEFINITION_CHANGED"
TOOL_NOT_OFFERED = "TOOL_NOT_OFFERED"

DECISION_REASONS: dict[str, str] = {
    TOOL_NOT_IN_MANIFEST: "the tool is not declared in the manifest",
    EFFECT_CLASS_UNKNOWN: "the call's effect could not be classified (a bad or missing argument)",
    RESTRICTED_WRITE_FORBIDDEN: "the call writes secrets, credentials or system files: always denied",
    MANIFEST_DENIED: "the manifest entry has `allowed: false` and gives no reason of its own",
    ELEVATED_BLOCKS_NETWORK: "posture ELEVATED refuses network access",
    LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY: "posture LOCKDOWN allows read-only (SHELL_SAFE) calls only",
    EVALUATION_EXCEPTION: "an exception while classifying or evaluating (written `EVALUATION_EXCEPTION: <Type>: "
                          "<message>`)",
    MANIFEST_INTEGRITY_FAILURE: "the manifest changed after it was loaded (file or memory); sticky until a "
                                "verified reload",
    WRITE_OUTSIDE_ALLOWED_ROOTS: "the call writes outside the writable roots",
    COMMAND_DENIED: "the command line runs a program on the manifest's shell deny list",
    EFFECT_EXCEEDS_DECLARED: "the arguments show a more restrictive effect than the entry declares "
                             "(`exceed_declared: \"deny\"`)",
    MAX_CALLS_EXCEEDED: "the entry's `max_calls_per_session` is used up",
    BUDGET_EXHAUSTED: "the session's step, command or write budget is used up",
    APPROVAL_REQUIRED: "a person must confirm the call: no approver answered in the gate, or the host asks "
                       "in its own prompt (an `escalation` receipt)",
    APPROVAL_DENIED: "the approver (or the person the host asked) refused the call",
    APPROVAL_TIMEOUT: "the approver did not answer within the approval timeout",
    APPROVER_ERROR: "the approver raised, or answered with something other than a bool or `Approval`",
    RECEIPT_WRITE_FAILED: "the receipt could not be written or made durable, so the call may not run",
    GATE_CLOSED: "the gate was closed, so no receipt can be written and the call may not run",
    MALFORMED_TOOL_CALL: "the framework handed over a call in a shape the adapter cannot read",
    INVALID_ARGUMENTS_JSON: "the model's argument text is not valid JSON",
    ARGUMENTS_NOT_OBJECT: "the model's arguments are JSON, but not an object",
    ARGUMENTS_SCHEMA_MISMATCH: "the arguments do not fit the tool's parameters",
    NO_CALLABLE_FOR_TOOL: "the manifest declares the tool, but no function is registered to run it",
    UNSUPPORTED_TOOL_CALL_TYPE: "a tool call of a kind the adapter cannot gate and run (not a function call)",
    TOOL_DEFINITION_CHANGED: "an MCP tool's definition (name, description, input schema) differs from its pin",
    TOOL_NOT_OFFERED: "the MCP server does not list the tool (or its list could not be read), so its "
                      "definition cannot be checked",
}

# -- verification of the v1.0.0 chain ------------------------------------------------------------------------

INVALID_JSON = "INVALID_JSON"
SCHEMA_VIOLATION = "SCHEMA_VIOLATION"
HASH_MISMATCH = "HASH_MISMATCH"
BAD_GENESIS = "BAD_GENESIS"
SEQUENCE_GAP = "SEQUENCE_GAP"
SEQUENCE_REGRESSION = "SEQUENCE_REGRESSION"
CHAIN_BROKEN = "CHAIN_BROKEN"
TORN_LINE = "TORN_LINE"
FILENAME_MISMATCH = "FILENAME_MISMATCH"
DUPLICATE_RECEIPT_ID = "DUPLICATE_RECEIPT_ID"

CHAIN_FAILURES: dict[str, str] = {
    INVALID_JSON: "a stored receipt is not UTF-8 JSON",
    SCHEMA_VIOLATION: "a receipt does not fit the twelve-field schema",
    HASH_MISMATCH: "the recomputed receipt hash differs from the stored one",
    BAD_GENESIS: "a session's first receipt is not sequence 1 with a null previous_receipt_hash",
    SEQUENCE_GAP: "a session's sequence skips numbers",
    SEQUENCE_REGRESSION: "a session's sequence repeats or goes back",
    CHAIN_BROKEN: "previous_receipt_hash does not match the previous receipt's hash",
    TORN_LINE: "the log ends in a partial line (an interrupted write)",
    FILENAME_MISMATCH: "a per-session directory file's name names another receipt",
    DUPLICATE_RECEIPT_ID: "a receipt_id appears twice in the log",
}

# -- verification against signed checkpoints ----------------------------------------------------------------

CHECKPOINT_FILE_MISSING = "CHECKPOINT_FILE_MISSING"
CHECKPOINT_MALFORMED = "CHECKPOINT_MALFORMED"
CHECKPOINT_TORN = "CHECKPOINT_TORN"
CHECKPOINT_KEY_MISMATCH = "CHECKPOINT_KEY_MISMATCH"
CHECKPOINT_SIGNATURE_INVALID = "CHECKPOINT_SIGNATURE_INVALID"
CHECKPOINT_MISSING = "CHECKPOINT_MISSING"
CHECKPOINT_REORDERED = "CHECKPOINT_REORDERED"
CHECKPOINT_CHAIN_BROKEN = "CHECKPOINT_CHAIN_BROKEN"
RECEIPT_REWRITTEN = "RECEIPT_REWRITTEN"
RECEIPTS_DELETED = "RECEIPTS_DELETED"
RECEIPTS_INSERTED = "RECEIPTS_INSERTED"
RECEIPT_NOT_CANONICAL = "RECEIPT_NOT_CANONICAL"
TAIL_TRUNCATED = "TAIL_TRUNCATED"
NO_CHECKPOINTS = "NO_CHECKPOINTS"
CHECKPOINT_FILE_INVALID = "CHECKPOINT_FILE_INVALID"
SESSION_UNSIGNED = "SESSION_UNSIGNED"
WITNESS_ROLLBACK = "WITNESS_ROLLBACK"
WITNESS_SESSION_MISSING = "WITNESS_SESSION_MISSING"
WITNESS_MISMATCH = "WITNESS_MISMATCH"
WITNESS_UNREADABLE = "WITNESS_UNREADABLE"

CHECKPOINT_FAILURES: dict[str, str] = {
    CHECKPOINT_FILE_MISSING: "a public key was given but there is no checkpoint file",
    CHECKPOINT_MALFORMED: "a checkpoint line is not JSON, not canonical, or has missing or mistyped fields",
    CHECKPOINT_TORN: "the checkpoint file ends in a partial line",
    CHECKPOINT_KEY_MISMATCH: "signed by another key, or the wrong public key was given",
    CHECKPOINT_SIGNATURE_INVALID: "a forged or edited checkpoint",
    CHECKPOINT_MISSING: "a checkpoint of a session's chain was deleted",
    CHECKPOINT_REORDERED: "checkpoints out of order",
    CHECKPOINT_CHAIN_BROKEN: "previous_checkpoint does not match the checkpoint before",
    RECEIPT_REWRITTEN: "the receipts differ from what a checkpoint signed",
    RECEIPTS_DELETED: "fewer receipts than a checkpoint signed",
    RECEIPTS_INSERTED: "more receipts than a checkpoint signed, or receipts after a final checkpoint",
    RECEIPT_NOT_CANONICAL: "a receipt line is not the canonical JSON the gate wrote",
    TAIL_TRUNCATED: "the log ends before a checkpoint that covers more of it",
    NO_CHECKPOINTS: "no checkpoint verifies under the given keys (an unsigned log, or emptied files)",
    CHECKPOINT_FILE_INVALID: "the checkpoint path is not a regular file (not read)",
    SESSION_UNSIGNED: "a session with receipts and no checkpoint at all",
    WITNESS_ROLLBACK: "the log is behind a checkpoint its witness holds (rolled back to an older copy)",
    WITNESS_SESSION_MISSING: "a session the witness saw is not in the log at all",
    WITNESS_MISMATCH: "the log's receipts or checkpoints differ from what the witness holds",
    WITNESS_UNREADABLE: "a witness line is not a checkpoint, or not signed by a given key",
}

# -- warnings: reported, not failures (`spinegate verify --strict` makes them failures) --------------------

LINE_ENDS_CRLF = "LINE_ENDS_CRLF"
BYTE_ORDER_MARK = "BYTE_ORDER_MARK"

VERIFY_WARNINGS: dict[str, str] = {
    LINE_ENDS_CRLF: "a receipt line ends in CR LF (as on Windows); its values and hash are unchanged",
    BYTE_ORDER_MARK: "the log starts with a UTF-8 byte-order mark; the first receipt is read after it",
}


def meaning(code: str) -> str | None:
    """The line of meaning of any reason code (an `EVALUATION_EXCEPTION: ...` text by its prefix), or None."""
    head = code.split(":", 1)[0]
    for family in (DECISION_REASONS, CHAIN_FAILURES, CHECKPOINT_FAILURES, VERIFY_WARNINGS):
        if head in family:
            return family[head]
    return None
