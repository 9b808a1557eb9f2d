"""Governing the tools of an MCP server built with the SDK, in the same process.

    from mcp.server.fastmcp import FastMCP
    from spinegate_mcp import govern_server

    server = FastMCP("notes")
    ...                                   # @server.tool() functions, as usual
    govern_server(server, gate)           # before server.run()

For people who own the server: no proxy process, the same decisions and
receipts. The server's `tools/call` and `tools/list` handlers are wrapped at
the protocol level, so every tool is covered, including tools added later:
a call is decided before the tool's handler runs (a refusal is a result with
`isError: true`, as from the proxy), an approved call's result is recorded as
an outcome receipt, and `tools/list` offers only the tools the manifest
declares. Escalations ask the person through elicitation where the client
supports it. The manifest's plugin for these tools is `name` (default: the
server's name).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server

from spinegate import Decision, Gate, ToolCall

from .elicitation import AskPerson, can_elicit, client_label
from .escalation import decide
from .results import outcome_of_result, record_outcome, refusal_result

FRAMEWORK = "mcp"
Handler = Callable[[Any], Awaitable[types.ServerResult]]
_GOVERNED_MARK = "_spinegate_governed"


def _low_level(server: Any) -> Server[Any, Any]:
    """The SDK's low-level `Server` of `server` (a FastMCP server holds one)."""
    if isinstance(server, Server):
        return server
    inner = getattr(server, "_mcp_server", None)
    if isinstance(inner, Server):
        return inner
    raise TypeError(f"govern_server takes an MCP SDK server (FastMCP or mcp.server.lowlevel.Server), "
                    f"not {type(server).__name__}")


def govern_server(server: Any, gate: Gate, *, name: str | None = None, record_outcomes: bool = True) -> Any:
    """Put `gate` in front of every tool of `server` (FastMCP or low-level `Server`); returns `server`.

    Call it after the server's tool handlers are registered (a FastMCP server
    has them from the start). Raises ValueError if the server has no tools
    handler or is governed already.
    """
    low = _low_level(server)
    if getattr(low, _GOVERNED_MARK, False):
        raise ValueError("this server is governed already: one gate decides each call once")
    call_handler = low.request_handlers.get(types.CallToolRequest)
    list_handler = low.request_handlers.get(types.ListToolsRequest)
    if call_handler is None or list_handler is None:
        raise ValueError("the server has no tools/call or tools/list handler yet; register its tools first")
    plugin = name or low.name

    async def governed_call(request: types.CallToolRequest) -> types.ServerResult:
        call = ToolCall(function=request.params.name, plugin=plugin, arguments=request.params.arguments or {},
                        framework=FRAMEWORK)
        decision = await _decide(low, gate, call)
        if not decision.approved:
            return types.ServerResult(types.CallToolResult.model_validate(refusal_result(decision)))
        try:
            result = await call_handler(request)
        except BaseException as exc:
            if record_outcomes:
                record_outcome(gate, decision, {"error": exc if isinstance(exc, Exception) else type(exc).__name__})
            raise
        if record_outcomes:
            record_outcome(gate, decision, outcome_of_result(result.root.model_dump(mode="json", by_alias=True,
                                                                             exclude_none=True)))
        return result

    async def governed_list(request: types.ListToolsRequest) -> types.ServerResult:
        result = await list_handler(request)
        listed = result.root
        if not isinstance(listed, types.ListToolsResult):
            return result
        kept = [t for t in listed.tools if gate.lookup(plugin, t.name) is not None]
        return types.ServerResult(listed.model_copy(update={"tools": kept}))

    low.request_handlers[types.CallToolRequest] = governed_call
    low.request_handlers[types.ListToolsRequest] = governed_list
    setattr(low, _GOVERNED_MARK, True)
    return server


async def _decide(low: Server[Any, Any], gate: Gate, call: ToolCall) -> Decision:
    """The gate's decision, asking the person through the requesting client when it can elicit."""
    try:
        context = low.request_context
    except LookupError:  # called outside a request (a test calling the handler directly)
        return await gate.acheck(call)
    params = context.session.client_params
    initialize = params.model_dump(mode="json", by_alias=True, exclude_none=True) if params is not None else None
    ask: AskPerson | None = None
    if can_elicit(initialize):
        session, request_id = context.session, context.request_id

        async def ask_person(message: str, schema: dict[str, Any], timeout: float) -> Mapping[str, Any]:
            with anyio.fail_after(timeout):
                answer = await session.elicit_form(message, schema, related_request_id=request_id)
            return answer.model_dump(mode="json", by_alias=True, exclude_none=True)

        ask = ask_person
    return await decide(gate, call, ask, client_label(initialize))

