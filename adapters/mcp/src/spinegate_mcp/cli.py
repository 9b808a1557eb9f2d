"""`spinegate mcp-proxy`: put the gate between an MCP client and any MCP server.

    spinegate mcp-proxy --manifest M --receipts R [--name NAME] [--pin FILE] -- COMMAND [ARGS...]
    spinegate mcp-proxy --manifest M --receipts R --upstream URL ...          (a Streamable HTTP server)
    ... --listen HOST:PORT                                                     (serve Streamable HTTP, not stdio)

The core `spinegate` command offers this as `spinegate mcp-proxy` when
spinegate-mcp is installed. Exit codes: 0 when the client disconnected (or the
HTTP server was stopped), 2 for a usage error or an input that cannot be used
(manifest, receipt log, pin file, listen address); the message names the file
and what to do.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import anyio
import click

from spinegate import Gate
from spinegate.errors import SpinegateError
from spinegate.store import is_postgres_url

from .pins import PinFileError, ToolPins
from .proxy import ProxySettings
from .serve import Gateway, until_stopped
from .upstream import Upstream

EXIT_USAGE = 2


def _fail(what: str, fix: str | None = None) -> NoReturn:
    """Print one error line in the spinegate commands' style and exit 2."""
    line = f"spinegate mcp-proxy: {what}"
    if fix and "(fix: " not in what:
        line += f" (fix: {fix})"
    click.echo(line, err=True)
    sys.exit(EXIT_USAGE)


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 as [ADDR]:PORT) as (host, port); ValueError saying what is wrong."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"--listen takes HOST:PORT (for example 127.0.0.1:8765), not {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port_text)


def receipt_log_problem(location: str) -> str | None:
    """Why the JSONL receipt log `location` cannot be appended to, or None (a `postgresql://` ledger is
    checked when the gate first writes to it).

    The gate would refuse every call with RECEIPT_WRITE_FAILED; a proxy that
    can only refuse is better not started. `stat` never blocks on a FIFO.
    """
    if is_postgres_url(location):
        return None
    path = Path(location)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        parent = path.parent
        if not parent.is_dir():
            return f"{location}: the receipt log's directory {parent} does not exist (fix: create it, or pass " \
                   "another --receipts path)"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"{location}: the receipt log cannot be created: {parent} is not writable (fix: make it " \
                   "writable, or pass another --receipts path)"
        return None
    except OSError as exc:
        return f"{location}: cannot be used as the receipt log: {exc.strerror or exc} (fix: check the path)"
    if not stat.S_ISREG(mode):
        return f"{location}: not a regular file (a directory, FIFO or device); the receipt log is a JSONL file " \
               "(fix: pass a file path; it is created if missing)"
    if not os.access(path, os.W_OK):
        return f"{location}: the receipt log is not writable (fix: make it writable, or pass another path)"
    return None


def upstream_url_problem(url: str) -> str | None:
    """Why `url` cannot be a Streamable HTTP endpoint, or None."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"--upstream {url!r} is not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--upstream takes the http:// or https:// URL of a Streamable HTTP MCP server " \
               f"(for example http://127.0.0.1:8000/mcp), not {url!r}"
    return None


@click.command("mcp-proxy", context_settings={"help_option_names": ["-h", "--help"],
                                               "allow_interspersed_args": False})
@click.option("--manifest", "manifest_path", required=True, type=click.Path(path_type=Path),
              help="The sealed manifest. MCP tools are entries with plugin = NAME and function = the tool's name.")
@click.option("--receipts", "receipts_path", required=True,
              help="The receipt log (JSONL, appended to; created if missing), or a postgresql:// ledger URL.")
@click.option("--name", "names", multiple=True,
              help="The server's name in the manifest (its plugin); default: the name the server gives at "
                   "initialize. In Claude Code, use the server's key in .mcp.json.")
@click.option("--pin", "pin_path", default=None, type=click.Path(path_type=Path),
              help="Keep tool definition pins in this JSON file (created if missing): a tool whose name, "
                   "description or input schema changed since it was pinned is hidden and refused.")
@click.option("--upstream", "upstream_url", default=None,
              help="Reach a Streamable HTTP server at this URL instead of starting COMMAND.")
@click.option("--listen", default=None,
              help="Serve Streamable HTTP on HOST:PORT (at /mcp) instead of stdio.")
@click.option("--call-timeout", default=300.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Seconds to wait for the server to answer a tools/call.")
@click.option("--request-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Seconds to wait for the server to answer any other request.")
@click.option("--approval-timeout", default=300.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Seconds a person has to answer an escalation (MCP elicitation) before the call is refused.")
@click.option("-v", "--verbose", is_flag=True, help="Log every relayed decision problem at INFO level on stderr.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def main(manifest_path: Path, receipts_path: str, names: tuple[str, ...], pin_path: Path | None,
         upstream_url: str | None, listen: str | None, call_timeout: float, request_timeout: float,
         approval_timeout: float, verbose: bool, command: tuple[str, ...]) -> None:
    """Govern an MCP server: every tools/call is decided and receipted before the server sees it.

    Starts the server COMMAND ARGS... (after `--`) on stdio, or reaches --upstream URL, and serves its
    client on stdio (or Streamable HTTP with --listen). tools/list offers only the tools the manifest
    declares; everything else in the protocol passes through unchanged.
    """
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if verbose else logging.WARNING,
                        format="%(message)s")
    if bool(command) == bool(upstream_url):
        _fail("give either the server's command (after --) or --upstream URL, not both and not neither",
              "spinegate mcp-proxy --manifest M --receipts R -- COMMAND [ARGS...]")
    if len(names) > 1:  # a hook reading .mcp.json and the proxy must agree on the one name
        _fail(f"--name is given {len(names)} times", "give the server's name once")
    name = names[0] if names else None
    if name is not None and not name:
        _fail("--name must not be empty", "pass the server's name in the manifest (its plugin)")
    if upstream_url:
        problem = upstream_url_problem(upstream_url)
        if problem is not None:
            _fail(problem)
    address: tuple[str, int] | None = None
    if listen is not None:
        try:
            address = parse_listen(listen)
        except ValueError as exc:
            _fail(str(exc))
    try:
        pins = ToolPins(pin_path)
    except PinFileError as exc:
        _fail(str(exc))
    problem = receipt_log_problem(receipts_path)
    if problem is not None:
        _fail(problem)
    try:
        gate = Gate.open(manifest_path, receipts=receipts_path, approval_timeout=approval_timeout)
    except (SpinegateError, OSError) as exc:
        _fail(str(exc))
    settings = ProxySettings(name=name, call_timeout=call_timeout, request_timeout=request_timeout)
    if upstream_url:
        url = upstream_url

        def upstream() -> Upstream:
            return Upstream.http(url, send_timeout=request_timeout)
    else:
        program, args = command[0], command[1:]

        def upstream() -> Upstream:
            return Upstream.stdio(program, args, send_timeout=request_timeout)

    gateway = Gateway(gate, upstream, settings=settings, pins=pins)
    try:
        if address is None:
            anyio.run(until_stopped, gateway.serve_stdio, gate)
        else:
            host, port = address

            def ready(url: str) -> None:
                click.echo(f"spinegate mcp-proxy: serving {url}", err=True)

            try:
                anyio.run(until_stopped, lambda: gateway.serve_http(host, port, on_ready=ready), gate)
            except OSError as exc:
                _fail(str(exc.strerror or exc), "pick another port, or stop what listens there")
    finally:
        gate.close()


if __name__ == "__main__":  # pragma: no cover
    main()
