"""Running the gateway: facing the client on stdio, or as a Streamable HTTP server.

Each client session gets its own `Relay` and its own upstream connection (a
child process, or an HTTP session with the upstream), since MCP sessions are
stateful; all sessions share the one gate (one receipt chain) and the pins.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.message import SessionMessage
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from spinegate import Gate

from .channels import ClientChannel, StdioChannel, StreamChannel
from .pins import ToolPins
from .proxy import ProxySettings, Relay
from .reload import reload_on_hangup
from .upstream import Upstream

log = logging.getLogger("spinegate_mcp")

#: Makes a fresh upstream connection for a new client session.
UpstreamFactory = Callable[[], Upstream]
#: The path the Streamable HTTP endpoint is served at (as the SDK's servers do).
MCP_PATH = "/mcp"


class Gateway:
    """The proxy's parts that outlive a session: the gate, the pins, the settings, how to reach the server."""

    def __init__(self, gate: Gate, upstream: UpstreamFactory, *, settings: ProxySettings | None = None,
                 pins: ToolPins | None = None) -> None:
        self.gate = gate
        self.upstream = upstream
        self.settings = settings or ProxySettings()
        self.pins = pins if pins is not None else ToolPins()

    def relay(self, client: ClientChannel) -> Relay:
        return Relay(self.gate, self.upstream(), client, settings=self.settings, pins=self.pins)

    async def serve_stdio(self, channel: ClientChannel | None = None) -> None:
        """Serve one client on the process's stdin and stdout until it disconnects."""
        await self.relay(channel or StdioChannel()).run()

    def http_app(self, host: str, port: int) -> Starlette:
        """A Starlette app serving the gateway at `MCP_PATH`, with the SDK's session handling.

        Requests must name this host (DNS rebinding protection) and may come
        from no browser origin but this one.
        """
        names = (host, "127.0.0.1", "localhost", "::1")
        hosts = sorted({f"[{h}]:{port}" if ":" in h else f"{h}:{port}" for h in names})
        security = TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                             allowed_origins=[f"http://{h}" for h in hosts])
        manager = StreamableHTTPSessionManager(app=_RelayApp(self), security_settings=security)  # type: ignore[arg-type]

        @asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            async with manager.run():
                yield

        return Starlette(routes=[Route(MCP_PATH, endpoint=_ASGIEndpoint(manager.handle_request))], lifespan=lifespan)

    async def serve_http(self, host: str, port: int, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve Streamable HTTP on host:port (0: any free port) until cancelled; `on_ready(url)` once listening.

        Raises OSError, naming the address, when it cannot be bound.
        """
        import uvicorn

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(self.http_app(host, port), log_level="warning", lifespan="on"))
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(server.serve, [sock])
                while not server.started and not server.should_exit:
                    await anyio.sleep(0.02)
                if server.started and on_ready is not None:
                    shown = f"[{host}]" if family == socket.AF_INET6 else host
                    on_ready(f"http://{shown}:{port}{MCP_PATH}")
        finally:
            sock.close()


async def until_stopped(serve: Callable[[], Awaitable[None]], gate: Gate | None = None) -> None:
    """Run `serve` until it returns or the process gets SIGTERM or SIGINT, then end it cleanly.

    Cancelling lets every relay close its upstream connection (a child server
    is stopped, not orphaned) and lets the caller close the gate afterwards.
    With `gate`, SIGHUP reloads its manifest meanwhile (see `reload`).
    """
    async with anyio.create_task_group() as tg:
        if gate is not None:
            tg.start_soon(reload_on_hangup, gate)
        async def watch() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for signum in signals:
                    log.info("spinegate-mcp: signal %s: stopping", signum)
                    tg.cancel_scope.cancel()
                    return

        tg.start_soon(watch)
        await serve()
        tg.cancel_scope.cancel()


class _RelayApp:
    """What the SDK's session manager runs per session (it calls `run` with the session's streams)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    def create_initialization_options(self) -> None:
        return None  # the upstream server answers initialize itself

    async def run(self, read_stream: MemoryObjectReceiveStream[SessionMessage | Exception],
                  write_stream: MemoryObjectSendStream[SessionMessage], _options: Any, **_: Any) -> None:
        await self._gateway.relay(StreamChannel(read_stream, write_stream)).run()


class _ASGIEndpoint:
    """Marks an ASGI callable as an app for Starlette's `Route` (it would otherwise wrap it as a request handler)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Any]) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

