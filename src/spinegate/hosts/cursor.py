"""Cursor's agent hook protocol (https://cursor.com/docs/agent/hooks). Pure.

In: `hook_event_name` (preToolUse, postToolUse, postToolUseFailure,
beforeSubmitPrompt, ...), `conversation_id` (the session), `cwd` or
`workspace_roots`, `tool_name` (Shell, Read, Write, ..., MCP tools as
``MCP:<server>:<tool>``), `tool_input` (an object, or a JSON string for MCP
calls), `tool_use_id`; postToolUse adds `tool_output`. Hooks live in
`<project>/.cursor/hooks.json` (``{"version": 1, "hooks": {...}}``).

Out: JSON, always: preToolUse ``{"permission": "allow"}`` or
``{"permission": "deny", "user_message": ..., "agent_message": ...}``
(``"ask"`` is accepted by the schema but not enforced for preToolUse, so a
call that needs a person is refused); beforeSubmitPrompt
``{"continue": true}``; others ``{}``. `failClosed: true` in hooks.json and
``|| exit 2`` make a hook that cannot run block the call.
"""

from __future__ import annotations

import json
from typing import Any

from ..decision import Decision
from .base import ClaudeLikeHost, HookWiring
from .events import EventKind, HookEvent, HookInputError, HookReply, session_field, split_mcp_name, text_field


class Cursor(ClaudeLikeHost):
    name = "cursor"
    framework = "cursor"
    can_ask = False
    source = "https://cursor.com/docs/agent/hooks"
    before_tool = "preToolUse"
    after_tool = "postToolUse"
    tool_failed = "postToolUseFailure"
    prompt = "beforeSubmitPrompt"
    wiring = HookWiring(
        settings=".cursor/hooks.json",
        events=(("preToolUse", EventKind.BEFORE_TOOL), ("postToolUse", EventKind.AFTER_TOOL),
                ("postToolUseFailure", EventKind.TOOL_FAILED), ("beforeSubmitPrompt", EventKind.PROMPT)),
        project_variable=None,
        timeout_field=None,
        extra_fields=(("failClosed", True),),
        matcher=None,
        top_level=(("version", 1),),
    )

    def event(self, data: dict[str, Any]) -> HookEvent:
        data = dict(data)
        if "session_id" not in data and "conversation_id" in data:
            data["session_id"] = data["conversation_id"]
        session_field(data)
        if isinstance(data.get("tool_input"), str):  # MCP calls carry their arguments as a JSON string
            try:
                data["tool_input"] = json.loads(data["tool_input"])
            except ValueError as exc:
                raise HookInputError(f"tool_input is a string that is not JSON: {exc}") from None
        if text_field(data, "cwd") is None:
            roots = data.get("workspace_roots")
            if isinstance(roots, list) and roots and isinstance(roots[0], str):
                data["cwd"] = roots[0]
        if data.get("hook_event_name") == "postToolUse" and "tool_response" not in data:
            data["tool_response"] = data.get("tool_output")
        return super().event(data)

    def mcp_name(self, name: str) -> tuple[str, str] | None:
        if name.startswith("MCP:"):
            server, sep, tool = name[4:].partition(":")
            return (server, tool) if sep and server and tool else None
        return split_mcp_name(name)

    def allow(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        return HookReply.json({"permission": "allow"}, decision="allow")

    def deny(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        short = (f"spinegate refused {decision.tool_name}: {decision.reason} (receipt {decision.receipt_id})"
                 if decision is not None else reason)
        return HookReply.json({"permission": "deny", "user_message": short, "agent_message": reason},
                              decision="deny")

    def acknowledged(self, event: HookEvent) -> HookReply:
        return HookReply.json({"continue": True} if event.kind is EventKind.PROMPT else {})

    def warning(self, event: HookEvent | None, text: str) -> HookReply:
        if event is not None and event.kind is EventKind.PROMPT:
            return HookReply.json({"continue": True, "user_message": text})
        return HookReply.json({"user_message": text})


HOST = Cursor()
