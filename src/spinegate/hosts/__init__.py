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

import importlib

from .base import HookWiring, Host
from .events import EXIT_BLOCK, EventKind, HookEvent, HookInputError, HookReply

HOST_NAMES = ("claude-code", "codex", "gemini", "cursor")
DEFAULT_HOST = "claude-code"


def host_named(name: str) -> Host:
    """The host module for `name` (one of HOST_NAMES), imported on first use; ValueError naming the choices."""
    if name not in HOST_NAMES:
        raise ValueError(f"unknown host {name!r}: choose one of {', '.join(HOST_NAMES)}")
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    host = module.HOST
    assert isinstance(host, Host)
    return host


__all__ = ["DEFAULT_HOST", "EXIT_BLOCK", "EventKind", "HOST_NAMES", "HookEvent", "HookInputError", "HookReply",
           "HookWiring", "Host", "host_named"]
