"""OpenAI Codex CLI's hook protocol (https://developers.openai.com/codex/hooks and the generated schemas in
openai/codex, codex-rs/hooks/schema/generated/pre-tool-use.command.output.schema.json). Pure.

In: Claude Code's payload shape (`hook_event_name`, `session_id`, `cwd`,
`tool_name`, `tool_input`, `tool_use_id`, `tool_response`); the shell tool
is `Bash` with `{"command": ...}`, file edits are `apply_patch` with the
patch text as `command`, MCP tools `mcp__<server>__<tool>`. Hooks live in
`<project>/.codex/hooks.json` (loaded when the project is trusted) and run
in the session's working directory.

Out, for PreToolUse: allow is exit 0 with nothing printed (Codex reports a
bare ``permissionDecision: "allow"`` as unsupported); deny is exit 0 with
``hookSpecificOutput.permissionDecision: "deny"`` and a non-empty
``permissionDecisionReason``; "ask" is not supported, so a call that needs
a person is refused (APPROVAL_REQUIRED). Any exit code but 0 and 2 lets the
tool run, so `init` ends the command with ``|| exit 2``.
"""

from __future__ import annotations

import re
from typing import Any

from ..decision import Decision
from .base import ClaudeLikeHost, HookWiring
from .events import EventKind, HookEvent, HookReply

# The file lines of Codex's patch format: every path a patch adds, changes, deletes or moves to.
_PATCH_PATH = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$", re.MULTILINE)


def patch_paths(patch: str) -> list[str]:
    """The paths an `apply_patch` patch writes (added, updated, deleted, or moved to)."""
    return [m.group(1) for m in _PATCH_PATH.finditer(patch)]


class Codex(ClaudeLikeHost):
    name = "codex"
    framework = "codex"
    can_ask = False
    source = ("https://developers.openai.com/codex/hooks; openai/codex codex-rs/hooks (output_parser.rs, "
              "schema/generated/*.json)")
    wiring = HookWiring(
        settings=".codex/hooks.json",
        events=(("PreToolUse", EventKind.BEFORE_TOOL), ("PostToolUse", EventKind.AFTER_TOOL),
                ("UserPromptSubmit", EventKind.PROMPT)),
        project_variable=None,
    )

    def arguments(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if name == "apply_patch":
            patch = arguments.get("command", arguments.get("patch", arguments.get("input")))
            if isinstance(patch, list):  # argv form: ["apply_patch", "<patch>"]
                patch = "\n".join(p for p in patch if isinstance(p, str))
            if isinstance(patch, str):
                return {**arguments, "patch": patch, "paths": patch_paths(patch)}
        return arguments

    def allow(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        return HookReply(extra={"decision": "allow"})

    def deny(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        return HookReply.json({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                                      "permissionDecisionReason": reason}}, decision="deny")

    def warning(self, event: HookEvent | None, text: str) -> HookReply:
        return HookReply.json({"systemMessage": text})


HOST = Codex()
