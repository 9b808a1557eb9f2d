"""What a coding agent's hook says (`HookEvent`) and what the hook answers (`HookReply`). Pure.

Each host module turns its own payload into a `HookEvent` and a decision
into a `HookReply`; everything between (which gate, which session, which
receipt) is the same for every host (`spinegate.hosts.service`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..decision import ToolCall

#: Exit code that makes every supported host block the call it is asked about.
EXIT_BLOCK = 2
#: A session id spinegate continues a chain for (what the JSONL log and the index can hold safely).
SESSION_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
#: Largest hook payload read (a Write of a big file, a long tool output); beyond it the call is blocked.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


class HookInputError(ValueError):
    """The hook's standard input is not an event this host sends (the call is blocked, never allowed)."""


class EventKind(str, Enum):
    """Where in the agent's loop the hook runs."""

    BEFORE_TOOL = "before_tool"      # decide the call (Claude Code PreToolUse, Gemini BeforeTool, ...)
    AFTER_TOOL = "after_tool"        # record what ran (PostToolUse, AfterTool, ...)
    TOOL_FAILED = "tool_failed"      # record that it ran and failed (Claude Code PostToolUseFailure)
    PROMPT = "prompt"                # a person's new prompt (UserPromptSubmit, BeforeAgent, ...)
    OTHER = "other"                  # anything else: answered with "go on", nothing recorded

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class HookEvent:
    """One hook invocation in host-neutral terms.

    `call` is the tool call (None for a prompt); `session_id` the host's
    session (the receipt chain); `cwd` the directory the agent works in
    (relative paths in the call resolve against it); `tool_use_id` ties a
    call's decision to its outcome; `output` / `error` are what the tool
    returned (after a tool); `mcp_server` is the MCP server's name for
    `mcp__<server>__<tool>` calls, `mcp_source` where the host says its
    definition came from (Claude Code: `project` for `.mcp.json`).
    """

    kind: EventKind
    session_id: str | None
    cwd: str | None = None
    call: ToolCall | None = None
    tool_use_id: str | None = None
    output: Any = None
    error: str | None = None
    mcp_server: str | None = None
    mcp_tool: str | None = None
    raw_name: str | None = None
    mcp_source: str | None = None


@dataclass(frozen=True, slots=True)
class HookReply:
    """What the hook process prints and how it exits."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # facts for tests and logs, never printed

    @classmethod
    def json(cls, payload: dict[str, Any], **extra: Any) -> HookReply:
        return cls(stdout=json.dumps(payload, ensure_ascii=False) + "\n", extra=extra)

    @classmethod
    def block(cls, message: str, **extra: Any) -> HookReply:
        """Exit 2 with the reason on standard error: every host blocks the call then."""
        return cls(stderr=message.rstrip("\n") + "\n", exit_code=EXIT_BLOCK, extra=extra)


def load_payload(raw: bytes | str) -> dict[str, Any]:
    """The hook's standard input as a JSON object; HookInputError for anything else."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise HookInputError(f"standard input is larger than {MAX_PAYLOAD_BYTES} bytes")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HookInputError(f"standard input is not UTF-8: {exc}") from None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise HookInputError("standard input is not JSON: nested too deeply to parse") from None
    except ValueError as exc:
        raise HookInputError(f"standard input is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HookInputError("standard input must be a JSON object")
    return data


def text_field(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    """A string field of the payload (None when absent); HookInputError when it has another type."""
    value = data.get(key)
    if value is None:
        if required:
            raise HookInputError(f"{key} is missing")
        return None
    if not isinstance(value, str):
        raise HookInputError(f"{key} must be a string, not {type(value).__name__}")
    if required and not value:
        raise HookInputError(f"{key} is empty")
    return value


def cwd_field(data: dict[str, Any], key: str = "cwd") -> str | None:
    """Where the agent works (None when absent); HookInputError for what cannot be a directory's path."""
    value = text_field(data, key)
    if value is not None and ("\x00" in value or len(value) > 4096):
        raise HookInputError(f"{key} is not a directory's path (a NUL byte, or longer than 4096 characters)")
    return value


def session_field(data: dict[str, Any], key: str = "session_id") -> str | None:
    """The session id, checked: the chain a session continues is named by it."""
    session = text_field(data, key)
    if session is not None and not SESSION_PATTERN.match(session):
        raise HookInputError(f"{key} must be 1-128 letters, digits or _.:-")
    return session


def object_field(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A JSON-object field (an empty one when absent); HookInputError for another type."""
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise HookInputError(f"{key} must be a JSON object, not {type(value).__name__}")
    return value


def split_mcp_name(name: str, prefix: str = "mcp__", separator: str = "__") -> tuple[str, str] | None:
    """(server, tool) of an MCP tool name such as ``mcp__<server>__<tool>``, else None.

    The server is what lies between the prefix and the first separator after
    it; the rest is the tool (which may itself contain the separator).
    """
    if not name.startswith(prefix):
        return None
    server, sep, tool = name[len(prefix):].partition(separator)
    if not sep or not server or not tool:
        return None
    return server, tool


__all__ = ["EXIT_BLOCK", "EventKind", "HookEvent", "HookInputError", "HookReply", "MAX_PAYLOAD_BYTES",
           "load_payload", "object_field", "session_field", "split_mcp_name", "text_field"]
