"""LangChain and LangGraph adapter for spinegate.

    from spinegate_langchain import govern_tool, SpineMiddleware
    tools = [govern_tool(t, gate) for t in tools]                       # governed tools
    agent = create_agent(model, tools, middleware=[SpineMiddleware(gate)])  # or: govern the agent

Use one of the two per tool: a governed tool inside a governed agent is
decided twice (two decision receipts for one call).

`govern_tool` needs langchain-core only. `SpineMiddleware` (and the names
that go with it) needs LangChain's agents and LangGraph: install the extra,
``spinegate-langchain[agents]``; they are imported on first use.
"""

from __future__ import annotations

from typing import Any

from spinegate.reasons import MALFORMED_TOOL_CALL

from .tools import GovernedTool, govern_tool, govern_tools

_MIDDLEWARE_NAMES = {"SpineMiddleware", "approval_from_resume", "APPROVAL_INTERRUPT"}

__all__ = [
    "govern_tool", "govern_tools", "GovernedTool", "SpineMiddleware",
    "approval_from_resume", "APPROVAL_INTERRUPT", "MALFORMED_TOOL_CALL",
]
__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    """Import the agent middleware (LangChain agents, LangGraph) only when it is asked for."""
    if name in _MIDDLEWARE_NAMES:
        from . import middleware

        return getattr(middleware, name)
    raise AttributeError(f"module 'spinegate_langchain' has no attribute {name!r}")
