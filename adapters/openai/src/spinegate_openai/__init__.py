"""spinegate adapter for the OpenAI SDK: Chat Completions, Responses and the Agents SDK.

    from spinegate_openai import ToolCallInterceptor
    interceptor = ToolCallInterceptor(gate, tools={"search": search})
    follow_up = interceptor.handle(message_or_response_output)

`govern_agent` (OpenAI Agents SDK, extra ``spinegate-openai[agents]``) is
imported on first use, so the Agents SDK is needed only by those who use it.
"""

from __future__ import annotations

from typing import Any

from spinegate.reasons import (
    ARGUMENTS_NOT_OBJECT,
    ARGUMENTS_SCHEMA_MISMATCH,
    INVALID_ARGUMENTS_JSON,
    MALFORMED_TOOL_CALL,
    NO_CALLABLE_FOR_TOOL,
    UNSUPPORTED_TOOL_CALL_TYPE,
)

from .interceptor import (
    CallResult,
    ToolCallInterceptor,
    UnrecognisedOutput,
    parameters_from_specs,
    serialise_result,
)
from .loop import (
    ToolLoopLimitExceeded,
    ToolLoopResult,
    arun_responses_tool_loop,
    arun_tool_loop,
    run_responses_tool_loop,
    run_tool_loop,
)

_AGENTS_NAMES = {"govern_agent", "govern_function_tool", "AgentGovernor"}

__all__ = [
    "ToolCallInterceptor", "CallResult", "UnrecognisedOutput", "parameters_from_specs", "serialise_result",
    "run_tool_loop", "arun_tool_loop", "run_responses_tool_loop", "arun_responses_tool_loop",
    "ToolLoopResult", "ToolLoopLimitExceeded",
    "govern_agent", "govern_function_tool", "AgentGovernor",
    "INVALID_ARGUMENTS_JSON", "ARGUMENTS_NOT_OBJECT", "ARGUMENTS_SCHEMA_MISMATCH", "NO_CALLABLE_FOR_TOOL",
    "UNSUPPORTED_TOOL_CALL_TYPE", "MALFORMED_TOOL_CALL",
]
__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    """Import the Agents SDK integration only when it is asked for."""
    if name in _AGENTS_NAMES:
        from . import agents_sdk

        return getattr(agents_sdk, name)
    raise AttributeError(f"module 'spinegate_openai' has no attribute {name!r}")
