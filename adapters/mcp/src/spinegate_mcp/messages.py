"""JSON-RPC messages the proxy writes itself, as the SDK's message types."""

from __future__ import annotations

from typing import Any

from mcp.types import (
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)

#: The error code the proxy answers a request with when the upstream did not answer in time
#: (the TypeScript SDK's "request timeout"; the range -32000..-32099 is for implementations).
REQUEST_TIMEOUT = -32001
#: The upstream server is not running (it exited, crashed or could not be started).
UPSTREAM_UNAVAILABLE = -32002


def response(request_id: RequestId, result: dict[str, Any]) -> JSONRPCMessage:
    return JSONRPCMessage(JSONRPCResponse(jsonrpc="2.0", id=request_id, result=result))


def error(request_id: RequestId, code: int, message: str, data: Any = None) -> JSONRPCMessage:
    return JSONRPCMessage(JSONRPCError(jsonrpc="2.0", id=request_id,
                                       error=ErrorData(code=code, message=message, data=data)))


def request(request_id: RequestId, method: str, params: dict[str, Any] | None = None) -> JSONRPCMessage:
    return JSONRPCMessage(JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method, params=params))


def notification(method: str, params: dict[str, Any] | None = None) -> JSONRPCMessage:
    return JSONRPCMessage(JSONRPCNotification(jsonrpc="2.0", method=method, params=params))


def cancelled(request_id: RequestId, reason: str) -> JSONRPCMessage:
    """`notifications/cancelled` for a request the proxy gave up on."""
    return notification("notifications/cancelled", {"requestId": request_id, "reason": reason})
