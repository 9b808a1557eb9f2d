"""The upstream side of the proxy: one connection to the governed MCP server.

The connection is the SDK's client transport, `stdio_client` (the server as a
child process) or `streamable_http_client` (a Streamable HTTP endpoint), used at
the message level so that the proxy relays the client's own messages (ids,
protocol version, capabilities, progress tokens) instead of re-creating them.

The connection runs in its own task: whatever happens to it (the process
cannot be started, crashes, stops reading, the HTTP endpoint goes away) ends
only this connection, never the proxy, and is reported once through `on_gone`
with a sentence saying what happened.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TextIO

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCMessage

log = logging.getLogger("spinegate_mcp")

Streams = tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
Connector = Callable[[], AbstractAsyncContextManager[Any]]
OnMessage = Callable[[SessionMessage | Exception], Awaitable[None]]
OnGone = Callable[[str], Awaitable[None]]


def _flatten(exc: BaseException) -> str:
    """`Type: message` of the first real error inside (possibly nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


class Upstream:
    """One connection to the upstream server; `run` it in a task, `send` messages, `close` it."""

    def __init__(self, connect: Connector, description: str, *, send_timeout: float = 60.0) -> None:
        self.description = description
        self.send_timeout = send_timeout
        self.gone: str | None = None
        self._connect = connect
        self._write: MemoryObjectSendStream[SessionMessage] | None = None
        self._ready = anyio.Event()
        self._finished = anyio.Event()
        self._reading: anyio.CancelScope | None = None
        self._whole: anyio.CancelScope | None = None

    @classmethod
    def stdio(cls, command: str, args: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
              errlog: TextIO = sys.stderr, send_timeout: float = 60.0) -> Upstream:
        """The server `command args...` as a child process on stdio.

        It gets the proxy's whole environment (`env` adds to it): the SDK's
        default passes only a few variables, and a proxied server must see what
        its client configured for it.
        """
        params = StdioServerParameters(command=command, args=list(args), env={**os.environ, **(env or {})},
                                       cwd=cwd, encoding_error_handler="replace")
        return cls(lambda: stdio_client(params, errlog=errlog), f"the MCP server {command!r}",
                   send_timeout=send_timeout)

    @classmethod
    def http(cls, url: str, *, send_timeout: float = 60.0) -> Upstream:
        """The Streamable HTTP server at `url`."""
        return cls(lambda: streamable_http_client(url), f"the MCP server at {url}", send_timeout=send_timeout)

    async def run(self, on_message: OnMessage, on_gone: OnGone, *,
                  task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Connect, then hand every message the server sends to `on_message` until the connection ends."""
        reason = f"{self.description} closed its connection (it exited or crashed)"
        task_status.started()
        try:
            with anyio.CancelScope() as self._whole:
                async with self._connect() as streams:
                    read, self._write = streams[0], streams[1]
                    self._ready.set()
                    with anyio.CancelScope() as self._reading:
                        async for item in read:
                            await on_message(item)
                if self._whole.cancel_called and self.gone is not None:
                    reason = self.gone
        except Exception as exc:  # noqa: BLE001 - any failure of the connection ends it, not the proxy
            reason = f"{self.description} could not be reached or failed: {_flatten(exc)}"
        finally:
            self._write = None
            if self.gone is None:
                self.gone = reason
            self._ready.set()
            self._finished.set()
        await on_gone(self.gone)

    async def send(self, message: JSONRPCMessage) -> str | None:
        """Send `message`; None when sent, else why it could not be (the connection is then gone).

        Bounded: a server that stops reading its input for `send_timeout`
        seconds is treated as hung and its connection is closed.
        """
        if not self._ready.is_set():
            with anyio.move_on_after(self.send_timeout):
                await self._ready.wait()
        write = self._write
        if write is None:
            return self.gone or f"{self.description} is not connected"
        try:
            with anyio.fail_after(self.send_timeout):
                await write.send(SessionMessage(message))
        except TimeoutError:
            self.abandon(f"{self.description} stopped reading its input (nothing accepted for "
                         f"{self.send_timeout:g} s); the proxy closed the connection")
            return self.gone
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return self.gone or f"{self.description} closed its connection"
        return None

    def abandon(self, reason: str) -> None:
        """Give up on the connection: it is closed (a child process is stopped) and `reason` reported."""
        if self.gone is None:
            self.gone = reason
        if self._whole is not None:
            self._whole.cancel()

    async def close(self, timeout: float = 5.0) -> None:
        """End the connection gracefully (a child's input is closed, then it is stopped), within `timeout`."""
        if self.gone is None:
            self.gone = f"{self.description} was closed by the proxy"
        if self._reading is not None:
            self._reading.cancel()
        elif self._whole is not None:
            self._whole.cancel()
        with anyio.move_on_after(timeout):
            await self._finished.wait()
