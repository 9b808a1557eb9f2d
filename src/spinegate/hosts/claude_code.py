"""Claude Code's hook protocol (hooks reference: https://code.claude.com/docs/en/hooks), checked against the
real CLI (`@anthropic-ai/claude-code` 2.1.x) by tests/hosts/test_claude_code_cli.py. Pure.

In: JSON on standard input with `hook_event_name`, `session_id`, `cwd`,
and for tool events `tool_name`, `tool_input`, `tool_use_id` (PostToolUse
adds `tool_response`, PostToolUseFailure `error`; MCP tools are named
`mcp__<server>__<tool>` and carry `mcp_server.name`).

Out, for PreToolUse: exit 0 and
``{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision":
"allow" | "deny" | "ask", "permissionDecisionReason": "..."}}``. The reason
of a deny is what the model reads; of an ask, what the person reads in
Claude Code's own prompt. Exit 2 (reason on standard error) blocks a call
whatever else happens; any other failure would let the tool run, which is
why `init` ends the hook command with ``|| exit 2``. PostToolUse and
UserPromptSubmit print nothing (on UserPromptSubmit anything printed
would be added to the model's context).
"""

from __future__ import annotations

from typing import Any

from ..decision import Decision
from .base import ClaudeLikeHost, HookWiring
from .events import EventKind, HookEvent, HookReply


class ClaudeCode(ClaudeLikeHost):
    name = "claude-code"
    framework = "claude-code"
    can_ask = True
    source = "https://code.claude.com/docs/en/hooks (PreToolUse decision control), verified with the CLI 2.1.x"
    wiring = HookWiring(
        settings=".claude/settings.json",
        events=(("PreToolUse", EventKind.BEFORE_TOOL), ("PostToolUse", EventKind.AFTER_TOOL),
                ("PostToolUseFailure", EventKind.TOOL_FAILED), ("UserPromptSubmit", EventKind.PROMPT)),
        project_variable="CLAUDE_PROJECT_DIR",
    )

    def _decision(self, value: str, reason: str, system_message: str | None = None) -> HookReply:
        payload: dict[str, Any] = {"hookSpecificOutput": {
            "hookEventName": "PreToolUse", "permissionDecision": value, "permissionDecisionReason": reason}}
        if system_message:
            payload["systemMessage"] = system_message
        return HookReply.json(payload, decision=value)

    def allow(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        return self._decision("allow", reason)

    def deny(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        short = (f"spinegate refused {decision.tool_name}: {decision.reason} (receipt {decision.receipt_id})"
                 if decision is not None else None)
        return self._decision("deny", reason, short)

    def ask(self, event: HookEvent, reason: str, decision: Decision) -> HookReply:
        return self._decision("ask", reason)

    def warning(self, event: HookEvent | None, text: str) -> HookReply:
        # exit 0 with a systemMessage: shown to the person, nothing added to the model's context
        return HookReply.json({"systemMessage": text})


HOST = ClaudeCode()
