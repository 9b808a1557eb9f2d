"""Gemini CLI's hook protocol (https://geminicli.com/docs/hooks/reference; google-gemini/gemini-cli
packages/core/src/hooks/types.ts). Pure.

In: `hook_event_name` (BeforeTool, AfterTool, BeforeAgent, ...), `session_id`,
`cwd`, `tool_name`, `tool_input`, for MCP tools `mcp_context.server_name` and
`mcp_context.tool_name` (names `mcp__<server>__<tool>`); AfterTool adds
`tool_response` (`llmContent`, `returnDisplay`, `error`). There is no tool
call id: a call's outcome is tied to its decision by session, tool and
arguments. Hooks live in `<project>/.gemini/settings.json`; commands get
`GEMINI_PROJECT_DIR`.

Out: JSON on standard output, always (the CLI parses it): BeforeTool
``{"decision": "allow"}`` or ``{"decision": "deny", "reason": "..."}`` (the
reason is sent to the model as the tool's error); other events ``{}``.
Exit 2 blocks with standard error as the reason; any other failure is a
warning and the tool runs, so `init` ends the command with ``|| exit 2``.
The "ask" decision is not documented for BeforeTool: a call that needs a
person is refused (APPROVAL_REQUIRED).
"""

from __future__ import annotations

from typing import Any

from ..decision import Decision
from .base import ClaudeLikeHost, HookWiring
from .events import EventKind, HookEvent, HookReply


class Gemini(ClaudeLikeHost):
    name = "gemini"
    framework = "gemini-cli"
    can_ask = False
    source = "https://geminicli.com/docs/hooks/reference; gemini-cli packages/core/src/hooks/types.ts"
    before_tool = "BeforeTool"
    after_tool = "AfterTool"
    tool_failed = "AfterToolFailure"  # not a Gemini event: failures arrive as AfterTool with an error
    prompt = "BeforeAgent"
    wiring = HookWiring(
        settings=".gemini/settings.json",
        events=(("BeforeTool", EventKind.BEFORE_TOOL), ("AfterTool", EventKind.AFTER_TOOL),
                ("BeforeAgent", EventKind.PROMPT)),
        project_variable="GEMINI_PROJECT_DIR",
        timeout_value=30000,  # milliseconds here
        extra_fields=(("name", "spinegate"),),
        matcher=".*",
        top_level=(("hooksConfig", {"enabled": True}),),
    )

    def event(self, data: dict[str, Any]) -> HookEvent:
        base = super().event(data)
        context = data.get("mcp_context")
        if base.call is not None and isinstance(context, dict):
            server, tool = context.get("server_name"), context.get("tool_name")
            if isinstance(server, str) and server and isinstance(tool, str) and tool:
                call = base.call
                base = HookEvent(base.kind, base.session_id, base.cwd,
                                 type(call)(function=tool, plugin=server, arguments=call.arguments,
                                            proposal_id=call.proposal_id, framework=call.framework, model=call.model),
                                 base.tool_use_id, base.output, base.error, server, tool, base.raw_name)
        if base.kind is EventKind.AFTER_TOOL and isinstance(base.output, dict) and base.output.get("error"):
            error = base.output.get("error")
            base = HookEvent(EventKind.TOOL_FAILED, base.session_id, base.cwd, base.call, base.tool_use_id,
                             base.output, str(error.get("message") if isinstance(error, dict) else error),
                             base.mcp_server, base.mcp_tool, base.raw_name)
        return base

    def allow(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        return HookReply.json({"decision": "allow"}, decision="allow")

    def deny(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        return HookReply.json({"decision": "deny", "reason": reason}, decision="deny")

    def acknowledged(self, event: HookEvent) -> HookReply:
        return HookReply.json({})

    def warning(self, event: HookEvent | None, text: str) -> HookReply:
        return HookReply.json({"systemMessage": text})


HOST = Gemini()
