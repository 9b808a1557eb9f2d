"""Helpers for the MCP gateway tests (tests/mcp/) that test modules import by name."""

from __future__ import annotations

from mcp import types


def text_of(result: types.CallToolResult) -> str:
    """The text blocks of a tool result, joined by newlines."""
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))
