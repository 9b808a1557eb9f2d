"""Fixtures for the MCP gateway tests: a sealed manifest, the real proxy command, the SDK's client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from spinegate import seal_manifest
from spinegate.cli import main as spinegate_cli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMA = json.loads((ROOT / "fixtures" / "interop" / "receipt.schema.json").read_text(encoding="utf-8"))
UPSTREAM = HERE / "upstream_server.py"
SPINEGATE = str(Path(sys.executable).parent / "spinegate")
SERVER = "upstream-test"


def entry(function: str, effect: str, allowed: bool = True, plugin: str | None = SERVER,
          **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"plugin": plugin, "function": function, "effect_class": effect, "allowed": allowed,
                         "reason": None, "max_calls_per_session": None}
    e.update(extra)
    return e


def functions(workdir: Path) -> list[dict[str, Any]]:
    """The test server's tools as the manifest declares them (hidden_tool is not declared)."""
    return [
        entry("echo", "SHELL_SAFE"),
        entry("write_note", "SCOPED_WRITE", path_arguments=["path"], writable_roots=[str(workdir / "notes")]),
        entry("delete_all", "SHELL_DANGEROUS", allowed=False, reason="DESTRUCTIVE_OPERATION_BLOCKED"),
        entry("typed", "SHELL_SAFE"),
        entry("slow", "SHELL_SAFE"),
        entry("hang", "SHELL_SAFE"),
        entry("crash", "SHELL_SAFE"),
        entry("ask_model", "SHELL_SAFE"),
        entry("log_something", "SHELL_SAFE"),
        entry("deploy", "SHELL_MUTATING", requires_confirmation=True),
        entry("fail", "SHELL_SAFE"),
        entry("mutable", "SHELL_SAFE"),
        entry("announce", "SHELL_SAFE"),
    ]


def write_manifest(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"version": "1.1.0", "posture": "NORMAL", "functions": entries}), encoding="utf-8")
    seal_manifest(path)
    return path


def receipts(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def check_log(path: Path) -> list[dict[str, Any]]:
    """`spinegate verify` on the log (the command itself, run in this process), each receipt against the
    interop schema; the receipts."""
    done = CliRunner().invoke(spinegate_cli, ["verify", str(path)])
    assert done.exit_code == 0, done.output
    assert "valid" in done.output
    rows = receipts(path)
    for row in rows:
        jsonschema.validate(row, SCHEMA)
    return rows


def of(rows: list[dict[str, Any]], operation: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["action"]["operation"] == operation]


def seen(path: Path) -> list[dict[str, Any]]:
    """What the upstream server received."""
    return receipts(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[Any] | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Setup(SimpleNamespace):
    """Paths of one test's proxy: manifest, receipts, what the upstream saw, and how to start things."""

    manifest: Path
    log: Path
    seen: Path
    workdir: Path
    env: dict[str, str]

    def proxy_args(self, *extra: str, upstream: list[str] | None = None) -> list[str]:
        """`spinegate mcp-proxy` arguments; the upstream is the test server on stdio unless given."""
        command = upstream if upstream is not None else [sys.executable, str(UPSTREAM)]
        options = ["mcp-proxy", "--manifest", str(self.manifest), "--receipts", str(self.log), *extra]
        return options + (["--", *command] if command else [])

    def params(self, *extra: str, upstream: list[str] | None = None) -> StdioServerParameters:
        return StdioServerParameters(command=SPINEGATE, args=self.proxy_args(*extra, upstream=upstream),
                                     env=self.env, cwd=str(self.workdir))

    @asynccontextmanager
    async def client(self, *extra: str, upstream: list[str] | None = None,
                     **session_options: Any) -> AsyncIterator[ClientSession]:
        """The SDK's client session to the proxy on stdio, initialized."""
        with open(self.workdir / "proxy-stderr.txt", "a", encoding="utf-8") as errlog:
            async with stdio_client(self.params(*extra, upstream=upstream), errlog=errlog) as (read, write):
                async with ClientSession(read, write, **session_options) as session:
                    await session.initialize()
                    yield session

    @asynccontextmanager
    async def http_client(self, url: str, **session_options: Any) -> AsyncIterator[ClientSession]:
        async with streamable_http_client(url) as (read, write, _):
            async with ClientSession(read, write, **session_options) as session:
                await session.initialize()
                yield session

    def start_proxy_http(self, *extra: str, upstream: list[str] | None = None) -> tuple[subprocess.Popen[Any], str]:
        """The proxy serving Streamable HTTP on a free port; (process, url)."""
        port = free_port()
        process = subprocess.Popen([SPINEGATE, *self.proxy_args("--listen", f"127.0.0.1:{port}", *extra,
                                                                upstream=upstream)],
                                   env=self.env, cwd=str(self.workdir), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=open(self.workdir / "proxy-stderr.txt", "a"))
        wait_for_port(port, process)
        return process, f"http://127.0.0.1:{port}/mcp"

    def start_upstream_http(self) -> tuple[subprocess.Popen[Any], str]:
        """The test server on Streamable HTTP on a free port; (process, url)."""
        port = free_port()
        process = subprocess.Popen([sys.executable, str(UPSTREAM), "--http", str(port)], env=self.env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=open(self.workdir / "upstream-stderr.txt", "a"))
        wait_for_port(port, process)
        return process, f"http://127.0.0.1:{port}/mcp"

    def stderr(self) -> str:
        path = self.workdir / "proxy-stderr.txt"
        return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    (tmp_path / "notes").mkdir()
    s = Setup(manifest=write_manifest(tmp_path / "manifest.json", functions(tmp_path)),
              log=tmp_path / "receipts.jsonl", seen=tmp_path / "seen.jsonl", workdir=tmp_path)
    s.env = {**os.environ, "UPSTREAM_SEEN": str(s.seen), "UPSTREAM_DESCRIPTION": str(tmp_path / "description.txt")}
    processes: list[subprocess.Popen[Any]] = []
    s.processes = processes
    yield s
    for p in processes:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def h() -> SimpleNamespace:
    """The helpers above, for test modules (importlib mode cannot import conftest by name)."""
    return SimpleNamespace(entry=entry, functions=functions, write_manifest=write_manifest, receipts=receipts,
                           check_log=check_log, of=of, seen=seen, free_port=free_port, wait_for_port=wait_for_port,
                           SPINEGATE=SPINEGATE, UPSTREAM=UPSTREAM, SERVER=SERVER, ROOT=ROOT)
