"""A command-line hook: gate one tool call proposed by an agent that runs tools
through a subprocess hook (Claude Code's PreToolUse hooks and the like).

The proposed call arrives as JSON on standard input:

    {"tool_name": "Bash", "tool_input": {"command": "ls"},
     "session_id": "...", "tool_use_id": "..."}

`plugin` may be given too; `proposal_id` is taken as a synonym of
`tool_use_id`. The decision is printed as JSON on standard output; the exit
code is 0 to allow and 2 to block, with the reason on standard error (the
convention such hooks use to tell the agent why).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from .decision import Decision, ToolCall
from .gate import Gate

_SESSION = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
#: Seconds a hook process waits for another one (same log) before it blocks its call.
LOCK_TIMEOUT = 30.0


class HookInputError(ValueError):
    """The hook's standard input is not a proposed tool call."""


@dataclass(frozen=True, slots=True)
class HookCall:
    call: ToolCall
    session_id: str | None


def parse_hook_input(text: str) -> HookCall:
    """The proposed call (and the caller's session, if named) from the hook's standard input."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise HookInputError("standard input is not JSON: nested too deeply to parse") from None
    except ValueError as exc:
        raise HookInputError(f"standard input is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HookInputError("standard input must be a JSON object with tool_name and tool_input")
    name = data.get("tool_name")
    if not isinstance(name, str) or not name:
        raise HookInputError("tool_name is missing or not a string")
    arguments = data.get("tool_input", {})
    if not isinstance(arguments, dict):
        raise HookInputError("tool_input must be a JSON object")
    plugin = data.get("plugin")
    if plugin is not None and not isinstance(plugin, str):
        raise HookInputError("plugin must be a string or null")
    proposal = data.get("tool_use_id") or data.get("proposal_id")
    session = data.get("session_id")
    if session is not None and (not isinstance(session, str) or not _SESSION.match(session)):
        raise HookInputError("session_id must be 1-128 letters, digits or _.:-")
    return HookCall(
        ToolCall(function=name, plugin=plugin, arguments=arguments,
                 proposal_id=str(proposal) if proposal is not None else None, framework="hook",
                 model=str(data["model"]) if isinstance(data.get("model"), str) else None),
        session,
    )


def run_hook(manifest: Path, receipts: Path, text: str, **options: Any) -> Decision:
    """Gate the call in `text`, continuing the caller's session chain when it names one.

    Agents may run hooks for parallel tool calls at once; a lock file beside
    the log serialises the read-last-receipt-then-append step so that two
    hook processes never fork a session's chain.
    """
    hook = parse_hook_input(text)
    # Bounded wait: a hook that hangs may be treated by the agent as a mere error (the tool
    # then runs); filelock.Timeout reaches the CLI, which blocks the call (exit 2).
    with FileLock(f"{receipts}.hook.lock", timeout=LOCK_TIMEOUT):
        with Gate.open(manifest, receipts=receipts, session_id=hook.session_id, **options) as gate:
            return gate.check(hook.call)


def decision_json(decision: Decision) -> str:
    """The decision as the one line of JSON the hook prints on standard output."""
    return json.dumps({
        "decision": "allow" if decision.approved else "block",
        "reason": decision.reason,
        "effect_class": decision.effect_class.value,
        "rule": decision.rule,
        "receipt_id": decision.receipt_id,
        "session_id": decision.receipt["session_id"] if decision.receipt is not None else None,
    })
