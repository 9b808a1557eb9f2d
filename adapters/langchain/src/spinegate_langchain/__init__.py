"""LangChain and LangGraph adapter for spinegate.

    from spinegate_langchain import govern_tool, SpineMiddleware
    tools = [govern_tool(t, gate) for t in tools]                       # governed tools
    agent = create_agent(model, tools, middleware=[SpineMiddleware(gate)])  # or: govern the agent

Use one of the two per tool: a governed tool inside a governed agent is
decided twice (two decision receipts for one call).
"""

from .middleware import APPROVAL_INTERRUPT, SpineMiddleware, approval_from_resume
from ._common import MALFORMED_TOOL_CALL
from .tools import GovernedTool, govern_tool, govern_tools

__all__ = [
    "govern_tool", "govern_tools", "GovernedTool", "SpineMiddleware",
    "approval_from_resume", "APPROVAL_INTERRUPT", "MALFORMED_TOOL_CALL",
]
__version__ = "0.1.0"
