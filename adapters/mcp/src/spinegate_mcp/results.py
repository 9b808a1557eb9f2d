"""What the proxy and the in-process wrapper answer, and what they record, as MCP `CallToolResult`s.

A refusal is a tool result with `isError: true` (not a JSON-RPC error), because
that is what a client hands to the model: the text says which rule refused what
and why, that the server never received the call, and which receipt records it,
so the model can explain, ask the person, or try something the policy allows.
The same facts are in `_meta["spinegate/decision"]` for programs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from spinegate import Decision, Gate

log = logging.getLogger("spinegate_mcp")

#: `_meta` key of a refusal's machine-readable facts.
META_KEY = "spinegate/decision"
#: Longest detail (a schema error, an upstream message) quoted in a result.
DETAIL_LIMIT = 500

# What the model can do about some refusals (by reason code, as SPEC.md spells them), beyond the rule.
_HINTS = {
    "APPROVAL_REQUIRED": "A person must approve this call, and this MCP client cannot ask one here "
                       "(it does not support elicitation); ask the user to approve it another way.",
    "MANIFEST_INTEGRITY_FAILURE": "The policy file changed while the proxy was running; every call is refused "
                                "until an operator reloads it (SIGHUP to the proxy).",
}


def _short(text: str, limit: int = DETAIL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text_result(text: str, *, is_error: bool, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A `CallToolResult` as JSON with one text block."""
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": is_error}
    if meta:
        result["_meta"] = dict(meta)
    return result


def refusal_result(decision: Decision) -> dict[str, Any]:
    """The result a refused call gets: reason code, what and why, the receipt id; `isError: true`."""
    reason = decision.reason or "DENIED"
    receipt = decision.receipt_id or "none (the refusal could not be recorded)"
    text = (f"spinegate refused the call to {decision.tool_name}: {reason}. Why: {_short(decision.rule)}. "
            f"The MCP server never received this call; nothing ran. Receipt: {receipt}.")
    hint = _HINTS.get(reason)
    if hint:
        text = f"{text} {hint}"
    meta = {META_KEY: {"verdict": "deny", "reason": reason, "rule": _short(decision.rule),
                       "tool": decision.tool_name, "receipt_id": decision.receipt_id}}
    return text_result(text, is_error=True, meta=meta)


def output_text(result: Mapping[str, Any]) -> str:
    """The text an outcome receipt records for a tool result: its text blocks, else its canonical JSON."""
    content = result.get("content")
    if isinstance(content, list) and content and "structuredContent" not in result and all(
            isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)
            for block in content):
        return "\n".join(block["text"] for block in content)
    return json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def outcome_of_result(result: Any) -> dict[str, Any]:
    """`Gate.record_outcome` keyword arguments for a `CallToolResult` (as JSON) the server returned."""
    if not isinstance(result, Mapping):
        return {"output": json.dumps(result, default=str), "status": "failed"}
    failed = result.get("isError") is True
    return {"output": output_text(result), "status": "failed" if failed else "success"}


def outcome_of_error(code: Any, message: Any) -> dict[str, Any]:
    """`Gate.record_outcome` keyword arguments for a JSON-RPC error the server answered a call with."""
    return {"error": f"the server answered with JSON-RPC error {code}: {_short(str(message))}"}


def record_outcome(gate: Gate, decision: Decision, outcome: Mapping[str, Any]) -> None:
    """Write the outcome receipt of a call that ran (or may have); a failure is logged, not raised.

    The call already happened, so raising would only hide its result from the
    client; the next decision fails closed if the log stays unwritable.
    """
    try:
        gate.record_outcome(decision, **outcome)
    except Exception:
        log.exception("spinegate-mcp: the outcome receipt for decision %s could not be written", decision.receipt_id)
