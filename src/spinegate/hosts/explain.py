"""The words a coding agent's model (or person) reads when spinegate refuses or asks. Pure.

A refusal says what was refused, the reason code and what it means, which
rule decided, the receipt that records it, and what would be allowed
instead where that is known, so the model can change course rather than
retry blindly. An "ask" tells the person what is asked about and why.
"""

from __future__ import annotations

from ..decision import Decision
from ..reasons import meaning

#: Longest rule or command quoted (a host shows these in a terminal line or a tool result).
QUOTE_LIMIT = 400

# What the model can do instead, by reason code, where a rule of thumb exists.
_INSTEAD = {
    "TOOL_NOT_IN_MANIFEST": "use one of the tools the project's policy declares, or ask the user to add this one "
                            "to .spinegate/manifest.json (and seal it again)",
    "RESTRICTED_WRITE_FORBIDDEN": "leave secrets, credentials, the gate's own files and the agent's settings alone; "
                                  "if the user wants them changed, ask the user to do it",
    "WRITE_OUTSIDE_ALLOWED_ROOTS": "write inside the project's writable directories only",
    "COMMAND_DENIED": "do without that program: the policy refuses it wherever it appears",
    "EFFECT_EXCEEDS_DECLARED": "use a read-only command, or ask the user to run this one",
    "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY": "only read-only calls run until the user sends a new prompt; explain what you "
                                       "wanted to do and ask the user",
    "ELEVATED_BLOCKS_NETWORK": "network access is refused until the user sends a new prompt; ask the user",
    "APPROVAL_REQUIRED": "a person must approve this call and this agent cannot ask one here; ask the user to run it "
                         "or to approve it another way",
    "APPROVAL_DENIED": "the person said no: do not retry it; ask what to do instead",
    "MAX_CALLS_EXCEEDED": "this tool has been used as often as the policy allows in this session",
    "BUDGET_EXHAUSTED": "this session has used its budget of calls; ask the user before going on",
    "MANIFEST_INTEGRITY_FAILURE": "the policy file changed while spinegate was running; every call is refused until "
                                  "it is reloaded (`spinegate serve --reload`); tell the user",
    "RECEIPT_WRITE_FAILED": "the receipt log cannot be written, so nothing may run; tell the user",
    "EFFECT_CLASS_UNKNOWN": "give the call's arguments in a form the policy understands (a plain command line, "
                            "a plain path)",
}


def _quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def reason_code(decision: Decision) -> str:
    """The decision's reason code (the part before any detail, such as an exception's text)."""
    reason = decision.reason or "DENIED"
    return reason.split(":", 1)[0].strip() or "DENIED"


def what(decision: Decision) -> str:
    """The call in a few words: the tool and, for a command line, the command."""
    command = decision.receipt["action"].get("command") if decision.receipt is not None else None
    if isinstance(command, str) and command:
        return f"{decision.tool_name} `{_quote(command, 200)}`"
    if decision.target_paths:
        return f"{decision.tool_name} on {', '.join(_quote(p, 120) for p in decision.target_paths[:3])}"
    return decision.tool_name


def refusal_text(decision: Decision, *, ran: str = "The call did not run.") -> str:
    """What the model reads when a call is refused: what, the reason code and its meaning, why, receipt, instead."""
    code = reason_code(decision)
    plain = meaning(code)
    parts = [f"spinegate refused {what(decision)}: {decision.reason or code}"
             + (f" ({plain})." if plain else ".")]
    parts.append(f"Why: {_quote(decision.rule)}.")
    parts.append(ran)
    parts.append(f"Receipt: {decision.receipt_id or 'none (the refusal could not be recorded)'}.")
    instead = _INSTEAD.get(code)
    if "secret pattern" in decision.rule:  # a read of a secret: being read-only does not make it allowed
        instead = ("do not read secret files; ask the user for what you need from it (a person may list the path "
                   "in the manifest's readable_secrets)")
    if instead:
        parts.append(f"Instead: {instead}.")
    return " ".join(parts)


def ask_text(decision: Decision) -> str:
    """What the person reads in the host's own prompt when spinegate asks them to decide."""
    return (f"spinegate asks a person to approve {what(decision)}: {_quote(decision.rule)} "
            f"(effect {decision.effect_class.value}; escalation receipt {decision.receipt_id}).")


__all__ = ["ask_text", "reason_code", "refusal_text", "what"]
