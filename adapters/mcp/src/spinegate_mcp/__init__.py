"""spinegate for the Model Context Protocol: every tools/call decided and receipted.

Two ways in:

- the gateway, `spinegate mcp-proxy --manifest M --receipts R [--name NAME] -- COMMAND ARGS...`,
  which stands between any MCP client and any MCP server (stdio or Streamable HTTP);
- in-process, for a server you own built with the SDK:

      from spinegate_mcp import govern_server
      govern_server(fastmcp_server, gate)

Manifest entries for MCP tools use plugin = the server's name and function = the tool's name.
"""

from spinegate.reasons import (
    ARGUMENTS_NOT_OBJECT,
    ARGUMENTS_SCHEMA_MISMATCH,
    MALFORMED_TOOL_CALL,
    TOOL_DEFINITION_CHANGED,
    TOOL_NOT_OFFERED,
)

from .elicitation import APPROVE_FIELD
from .pins import PinFileError, ToolPins, definition_hash
from .proxy import ProxySettings, Relay
from .results import META_KEY
from .serve import Gateway
from .server import govern_server
from .upstream import Upstream

__all__ = [
    "govern_server", "Gateway", "Relay", "ProxySettings", "Upstream", "ToolPins", "PinFileError", "definition_hash",
    "MALFORMED_TOOL_CALL", "ARGUMENTS_NOT_OBJECT", "ARGUMENTS_SCHEMA_MISMATCH", "TOOL_DEFINITION_CHANGED",
    "TOOL_NOT_OFFERED", "META_KEY", "APPROVE_FIELD",
]
__version__ = "0.2.0"
