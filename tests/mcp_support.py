"""Helpers for the MCP gateway tests (tests/mcp/) that test modules import by name."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from typing import Any

from mcp import types


def text_of(result: types.CallToolResult) -> str:
    """The text blocks of a tool result, joined by newlines."""
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def spinegate_command() -> str:
    """The `spinegate` command of the running Python's environment."""
    return os.path.join(os.path.dirname(sys.executable), "spinegate")


class RawProxy:
    """The proxy on stdio driven with hand-written lines (what the SDK's client would never send)."""

    def __init__(self, setup: Any) -> None:
        self.process = subprocess.Popen([spinegate_command(), *setup.proxy_args()],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        bufsize=0,
                                        env=setup.env, cwd=str(setup.workdir))
        setup.processes.append(self.process)

    def send(self, message: Any) -> None:
        line = message if isinstance(message, (str, bytes)) else json.dumps(message)
        data = line if isinstance(line, bytes) else line.encode()
        assert self.process.stdin is not None
        self.process.stdin.write(data + b"\n")
        self.process.stdin.flush()

    def receive(self, timeout: float = 20.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.process.kill()
            assert self.process.stderr is not None
            raise AssertionError(f"no answer from the proxy; its stderr: {self.process.stderr.read().decode()}")
        line = self.process.stdout.readline()
        assert line, "the proxy closed its output"
        return json.loads(line)

    def silent(self, seconds: float = 1.0) -> bool:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], seconds)
        return not ready

    def initialize(self) -> None:
        self.send({"jsonrpc": "2.0", "id": "init", "method": "initialize",
                   "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "raw-test", "version": "1"}}})
        answer = self.receive()
        assert answer["id"] == "init" and answer["result"]["serverInfo"]["name"] == "upstream-test"
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=30)
