"""Coding-agent hosts: one module per host's hook protocol, one service that gates them all.

    host = host_named("claude-code")
    event = host.parse(stdin_bytes)            # a HookEvent: before/after a tool, a prompt
    reply = HookService(project).handle(host, event)   # a HookReply: stdout, stderr, exit code

| host | module | settings `init` writes |
|---|---|---|
| Claude Code | `claude_code` | `.claude/settings.json` (`--local`: `settings.local.json`) |
| OpenAI Codex CLI | `codex` | `.codex/hooks.json` |
| Gemini CLI | `gemini` | `.gemini/settings.json` |
| Cursor | `cursor` | `.cursor/hooks.json` |

The host modules are pure (payload in, answer out); `service` holds the
gates; `spinegate.helper` keeps the service resident behind a Unix socket.
"""

from __future__ import annotations

from .base import Host, HookWiring
from .events import EXIT_BLOCK, EventKind, HookEvent, HookInputError, HookReply

HOST_NAMES = ("claude-code", "codex", "gemini", "cursor")
DEFAULT_HOST = "claude-code"


def host_named(name: str) -> Host:
    """The host module for `name` (one of HOST_NAMES); ValueError naming the choices otherwise."""
    if name == "claude-code":
        from .claude_code import HOST
    elif name == "codex":
        from .codex import HOST
    elif name == "gemini":
        from .gemini import HOST
    elif name == "cursor":
        from .cursor import HOST
    else:
        raise ValueError(f"unknown host {name!r}: choose one of {', '.join(HOST_NAMES)}")
    return HOST


__all__ = ["DEFAULT_HOST", "EXIT_BLOCK", "EventKind", "HOST_NAMES", "HookEvent", "HookInputError", "HookReply",
           "HookWiring", "Host", "host_named"]
