"""In-process: `govern_server` on a FastMCP (and a low-level) server, driven by the SDK's in-memory client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import types
from mcp.server.fastmcp import FastMCP
from mcp.server.lowlevel import Server
from mcp.shared.memory import create_connected_server_and_client_session

from mcp_support import text_of
from spinegate import Gate
from spinegate_mcp import govern_server


@pytest.fixture
def ran() -> Counter[str]:
    return Counter()


@pytest.fixture
def notes(ran: Counter[str]) -> FastMCP:
    server = FastMCP("notes")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        ran["add"] += 1
        return a + b

    @server.tool()
    def delete_all() -> str:
        """Delete every note."""
        ran["delete_all"] += 1
        return "deleted"

    @server.tool()
    def explode() -> str:
        """Always raises."""
        ran["explode"] += 1
        raise RuntimeError("boom")

    @server.tool()
    def publish(where: str) -> str:
        """Publish the notes."""
        ran["publish"] += 1
        return f"published to {where}"

    @server.tool()
    def secret() -> str:
        """Not declared in the manifest."""
        ran["secret"] += 1
        return "secret"

    return server


@pytest.fixture
def gate(tmp_path: Path, h: SimpleNamespace) -> Iterator[Gate]:
    manifest = h.write_manifest(tmp_path / "manifest.json", [
        h.entry("add", "SHELL_SAFE", plugin="notes"),
        h.entry("delete_all", "SHELL_DANGEROUS", allowed=False, plugin="notes", reason="DESTRUCTIVE_OPERATION_BLOCKED"),
        h.entry("explode", "SHELL_SAFE", plugin="notes"),
        h.entry("publish", "NETWORK_ATTEMPT", plugin="notes", requires_confirmation=True),
    ])
    g = Gate.open(manifest, receipts=tmp_path / "receipts.jsonl", approval_timeout=5)
    yield g
    g.close()


async def test_governed_fastmcp_server(notes: FastMCP, gate: Gate, ran: Counter[str], h: SimpleNamespace,
                                       tmp_path: Path) -> None:
    govern_server(notes, gate)
    async with create_connected_server_and_client_session(notes) as client:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        added = await client.call_tool("add", {"a": 2, "b": 3})
        refused = await client.call_tool("delete_all", {})
        undeclared = await client.call_tool("secret", {})
        exploded = await client.call_tool("explode", {})
        no_person = await client.call_tool("publish", {"where": "web"})
    assert names == ["add", "delete_all", "explode", "publish"]
    assert not added.isError and text_of(added) == "5"
    assert refused.isError and "DESTRUCTIVE_OPERATION_BLOCKED" in text_of(refused)
    assert undeclared.isError and "TOOL_NOT_IN_MANIFEST" in text_of(undeclared)
    assert exploded.isError and "boom" in text_of(exploded)
    assert no_person.isError and "APPROVAL_REQUIRED" in text_of(no_person)
    assert ran == Counter({"add": 1, "explode": 1})
    rows = h.check_log(tmp_path / "receipts.jsonl")
    assert [r["action"]["tool"] for r in h.of(rows, "decision")] == \
        ["notes.add", "notes.delete_all", "notes.secret", "notes.explode", "notes.publish"]
    outcomes = {r["action"]["tool"]: r["result"]["status"] for r in h.of(rows, "outcome")}
    assert outcomes == {"notes.add": "success", "notes.explode": "failed"}


@pytest.mark.parametrize("action, runs", [("accept", 1), ("decline", 0)])
async def test_escalation_asks_the_person_through_elicitation(notes: FastMCP, gate: Gate, ran: Counter[str],
                                                              h: SimpleNamespace, tmp_path: Path, action: str,
                                                              runs: int) -> None:
    asked: list[str] = []

    async def person(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action=action, content={"approve": True} if action == "accept" else None)  # type: ignore[arg-type]

    govern_server(notes, gate)
    async with create_connected_server_and_client_session(notes, elicitation_callback=person) as client:
        result = await client.call_tool("publish", {"where": "web"})
    assert len(asked) == 1 and "notes.publish" in asked[0] and "web" in asked[0]
    assert ran["publish"] == runs
    assert result.isError is (runs == 0)
    h.check_log(tmp_path / "receipts.jsonl")


async def test_governed_low_level_server(gate: Gate, h: SimpleNamespace, tmp_path: Path) -> None:
    server: Server[Any, Any] = Server("notes")
    calls: list[str] = []

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [types.Tool(name=n, inputSchema={"type": "object"}) for n in ("add", "delete_all", "secret")]

    @server.call_tool()
    async def call_tool(name: str, arguments: dict[str, Any]) -> list[types.TextContent]:
        calls.append(name)
        return [types.TextContent(type="text", text=f"ran {name}")]

    govern_server(server, gate)
    async with create_connected_server_and_client_session(server) as client:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        ok = await client.call_tool("add", {})
        refused = await client.call_tool("delete_all", {})
    assert names == ["add", "delete_all"]
    assert text_of(ok) == "ran add" and refused.isError
    assert calls == ["add"]
    h.check_log(tmp_path / "receipts.jsonl")


def test_govern_server_refuses_misuse(notes: FastMCP, gate: Gate) -> None:
    govern_server(notes, gate)
    with pytest.raises(ValueError, match="governed already"):
        govern_server(notes, gate)
    with pytest.raises(TypeError, match="FastMCP"):
        govern_server(object(), gate)
    with pytest.raises(ValueError, match="register its tools first"):
        govern_server(Server("empty"), gate)
