"""Which of a project's MCP servers run behind `spinegate mcp-proxy`: one call, one decision.

An agent names an MCP tool `mcp__<server>__<tool>`, `<server>` being the
server's key in the project's MCP configuration (`.mcp.json` for Claude
Code, `mcpServers` in `.cursor/mcp.json` and `.gemini/settings.json`). When
that entry starts `spinegate mcp-proxy ... --name <server> -- ...`, the
proxy decides and records each call, so the hook lets it through instead
of deciding it twice. A server defined anywhere else (the user's own
configuration, a plugin: Claude Code says so in `mcp_server.source`) is
decided by the hook like any tool.

`init` writes those entries (`wire_mcp_proxy`); the hook reads them
(`ProxiedServers`), again whenever a file changes.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

#: The project files whose `mcpServers` entries may put a server behind the proxy.
MCP_FILES = (".mcp.json", ".cursor/mcp.json", ".gemini/settings.json")
#: Where a server's definition may come from and still be the project's own (Claude Code's `mcp_server.source`).
PROJECT_SOURCES = (None, "project")


def proxied_name(entry: Any) -> str | None:
    """The `--name` of a server entry that runs `spinegate mcp-proxy`, else None."""
    if not isinstance(entry, Mapping):
        return None
    command, args = entry.get("command"), entry.get("args") or []
    if not isinstance(command, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return None
    program = os.path.basename(command)
    if program == "spinegate" and args[:1] == ["mcp-proxy"]:
        rest = args[1:]
    elif program.startswith("python") and args[:3] == ["-m", "spinegate.cli", "mcp-proxy"]:
        rest = args[3:]
    else:
        return None
    options = rest[: rest.index("--")] if "--" in rest else rest
    for i, word in enumerate(options):
        if word == "--name" and i + 1 < len(options):
            return str(options[i + 1])
        if word.startswith("--name="):
            return str(word[len("--name="):])
    return None


class ProxiedServers:
    """The MCP servers of one project that run behind `spinegate mcp-proxy` (files re-read when they change)."""

    def __init__(self, project: str, files: Sequence[str] = MCP_FILES) -> None:
        self.paths = [os.path.join(project, f) for f in files]
        self._seen: dict[str, tuple[int, int, int] | None] = {}
        self._names: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def _stamp(self, path: str) -> tuple[int, int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _load(self, path: str) -> frozenset[str]:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError, RecursionError):
            return frozenset()
        servers = data.get("mcpServers") if isinstance(data, dict) else None
        if not isinstance(servers, dict):
            return frozenset()
        return frozenset(key for key, entry in servers.items() if proxied_name(entry) == key)

    def names(self) -> frozenset[str]:
        with self._lock:
            found: set[str] = set()
            for path in self.paths:
                stamp = self._stamp(path)
                if stamp != self._seen.get(path, ()) or path not in self._names:
                    self._names[path] = self._load(path) if stamp is not None else frozenset()
                    self._seen[path] = stamp
                found |= self._names[path]
            return frozenset(found)

    def decides(self, server: str, source: str | None = None) -> bool:
        """True when the proxy decides calls to `server` (a project server behind `spinegate mcp-proxy`)."""
        return source in PROJECT_SOURCES and server in self.names()


def wire_mcp_proxy(servers: Mapping[str, Any], spinegate: str, manifest: str, receipts: str,
                   pins: str) -> tuple[dict[str, Any], list[str]]:
    """`mcpServers` with each stdio server put behind `spinegate mcp-proxy --name <key>`; the keys changed.

    Servers already behind the proxy, and servers reached over HTTP (`url`),
    are kept as they are (the proxy's `--upstream` serves the latter; wire
    those by hand).
    """
    wired: dict[str, Any] = {}
    changed: list[str] = []
    for key, entry in servers.items():
        if not isinstance(entry, Mapping) or proxied_name(entry) is not None or not isinstance(entry.get("command"),
                                                                                               str):
            wired[key] = entry
            continue
        args = entry.get("args") or []
        new = dict(entry)
        new["command"] = spinegate
        new["args"] = ["mcp-proxy", "--manifest", manifest, "--receipts", receipts, "--name", key, "--pin", pins,
                       "--", entry["command"], *[str(a) for a in args]]
        wired[key] = new
        changed.append(key)
    return wired, changed


__all__ = ["MCP_FILES", "ProxiedServers", "proxied_name", "wire_mcp_proxy"]
