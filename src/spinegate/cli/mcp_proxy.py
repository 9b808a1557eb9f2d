"""`spinegate mcp-proxy ...`: the MCP gateway, which lives in the spinegate-mcp distribution.

A thin command: it imports `spinegate_mcp` only when run (the core depends on
no agent framework, and listing commands must not load the MCP SDK), hands it
the whole command line, and says how to install it when it is missing.
"""

from __future__ import annotations

import click

from ._common import fail


@click.command("mcp-proxy", add_help_option=False,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(args: tuple[str, ...]) -> None:
    """Govern an MCP server: every tools/call decided and receipted (needs spinegate-mcp).

    spinegate mcp-proxy --manifest M --receipts R [--name NAME] [--pin FILE]
    [--upstream URL] [--listen HOST:PORT] -- COMMAND [ARGS...]; --help for all options.
    """
    try:
        from spinegate_mcp.cli import main as proxy_main
    except ImportError as exc:
        fail(f"the MCP gateway is in the spinegate-mcp distribution, which cannot be imported ({exc})",
             "pip install spinegate-mcp (from a clone of this repository: pip install -e adapters/mcp)")
    proxy_main.main(args=list(args), prog_name="spinegate mcp-proxy")
