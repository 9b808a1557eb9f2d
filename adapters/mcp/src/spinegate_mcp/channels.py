"""The client-facing side of the proxy: JSON-RPC messages in, messages out.

Two channels share one small interface (`ClientChannel`):

- `StdioChannel`: newline-delimited JSON-RPC on the proxy's stdin and stdout,
  the MCP stdio transport. It is written here rather than taken from the SDK's
  `stdio_server` because a gateway must answer a line it cannot parse: JSON-RPC
  requires a "Parse error" or "Invalid Request" answer, with the request's id
  when it can be read and `null` when it cannot, and the SDK's server transport
  hands over only an exception (without the line) and its message types cannot
  carry a `null` id.
- `StreamChannel`: the SDK's own memory streams, as its Streamable HTTP server
  transport provides them per session (that transport answers unparseable
  bodies itself, at the HTTP level).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp.types import INVALID_REQUEST, PARSE_ERROR, JSONRPCMessage, JSONRPCNotification, RequestId

from . import messages

log = logging.getLogger("spinegate_mcp")


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that is not a JSON-RPC 2.0 message: answered with `code`, to `request_id` when one was readable."""

    request_id: RequestId | None
    code: int
    message: str
    answer: bool = True  # False for a broken response: JSON-RPC never answers a response


Incoming = SessionMessage | Malformed


class ClientChannel(Protocol):
    """What the relay needs from the client-facing transport."""

    def incoming(self) -> AsyncIterator[Incoming]:
        """Messages from the client, in order, until it disconnects."""
        ...

    async def send(self, message: JSONRPCMessage, related_request_id: RequestId | None = None) -> None:
        """Send `message` to the client; `related_request_id` routes it to that request's stream (HTTP)."""
        ...

    async def send_malformed_answer(self, problem: Malformed) -> None:
        """Answer a message that could not be parsed (JSON-RPC error, `null` id when none was readable)."""
        ...


def parse_line(line: bytes | str) -> Incoming | None:
    """One line of the stdio transport as a message, a `Malformed`, or None for a blank line."""
    if not line.strip():
        return None
    try:
        message = JSONRPCMessage.model_validate_json(line)
    except Exception:  # noqa: BLE001 - pydantic's ValidationError, or a parser's recursion limit
        pass
    else:
        extra = message.root.model_extra
        if not (isinstance(message.root, JSONRPCNotification) and extra and "id" in extra):
            return SessionMessage(message)
        # an id the SDK's types do not accept (true, 1.5, null) leaves a "notification" carrying an id
        return Malformed(None, INVALID_REQUEST, "Invalid Request: the id must be a string or an integer")
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return Malformed(None, PARSE_ERROR, "Parse error: the message is not valid JSON")
    if not isinstance(value, dict):
        return Malformed(None, INVALID_REQUEST,
                         "Invalid Request: a message must be one JSON-RPC 2.0 object (batches are not supported)")
    request_id = value.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)):
        request_id = None
    if "method" not in value and ("result" in value or "error" in value):
        return Malformed(request_id, INVALID_REQUEST, "a malformed JSON-RPC response", answer=False)
    return Malformed(request_id, INVALID_REQUEST,
                     "Invalid Request: not a JSON-RPC 2.0 request or notification "
                     "(it needs \"jsonrpc\": \"2.0\", a string \"method\", an object \"params\" if any, "
                     "and a string or integer \"id\" for a request)")


def error_line(request_id: RequestId | None, code: int, message: str) -> str:
    """A JSON-RPC error response as one line; `request_id` None gives the `null` id JSON-RPC requires."""
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}},
                      separators=(",", ":"))


class StdioChannel:
    """Newline-delimited JSON-RPC over binary stdin/stdout (the process's own by default).

    When both are pipes or sockets (as when a client starts the proxy) they
    are read and written without blocking on the event loop; otherwise (a
    file, a terminal) in worker threads, as the SDK's stdio transport does.
    Either way a slow reader on the other end never blocks the loop, and
    messages never interleave. A client that has gone away is logged once and
    then ignored: its input ends soon after, which ends the session.
    """

    #: Longest line read on the non-blocking path (JSON-RPC messages of tens of MB are still fine).
    LINE_LIMIT = 64 * 1024 * 1024

    def __init__(self, stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> None:
        self._stdin = stdin if stdin is not None else sys.stdin.buffer
        self._stdout = stdout if stdout is not None else sys.stdout.buffer
        self._write_lock = anyio.Lock()
        self._writer: asyncio.StreamWriter | None = None
        self._gone = False

    async def incoming(self) -> AsyncIterator[Incoming]:
        read_line = await self._line_reader()
        while True:
            try:
                line = await read_line()
            except ValueError:  # longer than LINE_LIMIT: skipped, and answered
                yield Malformed(None, INVALID_REQUEST, f"Invalid Request: a message longer than "
                                                       f"{self.LINE_LIMIT} bytes")
                continue
            if not line:
                return
            parsed = parse_line(line)
            if parsed is not None:
                yield parsed

    async def _line_reader(self) -> Callable[[], Awaitable[bytes]]:
        if _is_pipe(self._stdin) and _is_pipe(self._stdout):
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader(limit=self.LINE_LIMIT)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self._stdin)
            transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, self._stdout)
            self._writer = asyncio.StreamWriter(transport, protocol, None, loop)
            return reader.readline
        return anyio.wrap_file(self._stdin).readline

    async def send(self, message: JSONRPCMessage, related_request_id: RequestId | None = None) -> None:
        await self._write_line(message.model_dump_json(by_alias=True, exclude_none=True))

    async def send_malformed_answer(self, problem: Malformed) -> None:
        await self._write_line(error_line(problem.request_id, problem.code, problem.message))

    async def _write_line(self, text: str) -> None:
        if self._gone:
            return
        data = (text + "\n").encode("utf-8")
        try:
            if self._writer is not None:
                self._writer.write(data)
                await self._writer.drain()
            else:
                async with self._write_lock:
                    await anyio.to_thread.run_sync(self._write_and_flush, data)
        except (BrokenPipeError, ConnectionResetError):
            self._gone = True
            log.warning("spinegate-mcp: the client closed its input; messages for it are dropped")

    def _write_and_flush(self, data: bytes) -> None:
        self._stdout.write(data)
        self._stdout.flush()


def _is_pipe(stream: IO[bytes]) -> bool:
    """True for a pipe or a socket (never a terminal or a file, which must not be made non-blocking)."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class StreamChannel:
    """The SDK's per-session memory streams (Streamable HTTP server transport)."""

    def __init__(self, read_stream: MemoryObjectReceiveStream[SessionMessage | Exception],
                 write_stream: MemoryObjectSendStream[SessionMessage]) -> None:
        self._read = read_stream
        self._write = write_stream

    async def incoming(self) -> AsyncIterator[Incoming]:
        async for item in self._read:
            if isinstance(item, Exception):
                log.warning("spinegate-mcp: the client sent a message that is not JSON-RPC: %s", item)
                continue
            yield item

    async def send(self, message: JSONRPCMessage, related_request_id: RequestId | None = None) -> None:
        metadata = ServerMessageMetadata(related_request_id=related_request_id) if related_request_id is not None \
            else None
        await self._write.send(SessionMessage(message, metadata=metadata))

    async def send_malformed_answer(self, problem: Malformed) -> None:
        if problem.request_id is None:  # the HTTP transport answers unparseable bodies itself
            return
        await self.send(messages.error(problem.request_id, problem.code, problem.message))
