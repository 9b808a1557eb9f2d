"""The relay in this process, with a client played through memory streams: what no real client can provoke."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
from mcp.shared.message import SessionMessage
from mcp.types import INTERNAL_ERROR, JSONRPCMessage, RequestId

from spinegate import Gate
from spinegate_mcp import ProxySettings, Relay, Upstream
from spinegate_mcp.channels import Incoming, Malformed


class MemoryClient:
    """A `ClientChannel` whose messages the test writes and whose answers it reads."""

    def __init__(self) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[Incoming](100)
        self._answers, self.answers = anyio.create_memory_object_stream[dict[str, Any]](100)

    async def incoming(self) -> AsyncIterator[Incoming]:
        async for item in self._receive:
            yield item

    async def send(self, message: JSONRPCMessage, related_request_id: RequestId | None = None) -> None:
        await self._answers.send(message.model_dump(mode="json", by_alias=True, exclude_none=True))

    async def send_malformed_answer(self, problem: Malformed) -> None:
        await self._answers.send({"id": problem.request_id, "error": {"code": problem.code}})

    async def request(self, rid: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        await self._send.send(SessionMessage(JSONRPCMessage.model_validate(
            {"jsonrpc": "2.0", "id": rid, "method": method, "params": params})))
        with anyio.fail_after(30):
            return await self.answers.receive()

    async def close(self) -> None:
        await self._send.aclose()


class LookupFailsFor(Gate):
    """A gate whose manifest lookup raises for one tool name (a bug the relay must survive)."""

    broken = "echo"

    def lookup(self, plugin: str | None, function: str) -> Any:
        if function == self.broken:
            raise RuntimeError("lookup exploded")
        return super().lookup(plugin, function)


async def test_a_failure_inside_the_proxy_answers_the_call_and_the_session_goes_on(setup: Any, h: SimpleNamespace,
                                                                                    tmp_path: Path) -> None:
    gate = LookupFailsFor.open(setup.manifest, receipts=setup.log)
    client = MemoryClient()
    upstream = Upstream.stdio(sys.executable, [str(h.UPSTREAM)], env={"UPSTREAM_SEEN": str(setup.seen)})
    relay = Relay(gate, upstream, client, settings=ProxySettings())
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(relay.run)
            init = await client.request(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                                          "clientInfo": {"name": "memory", "version": "1"}})
            assert init["result"]["serverInfo"]["name"] == h.SERVER
            listed = await client.request(1, "tools/list", {})
            broken = await client.request(2, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
            fine = await client.request(3, "tools/call", {"name": "typed", "arguments": {"count": 1}})
            await client.close()
    finally:
        gate.close()
    names = {t["name"] for t in listed["result"]["tools"]}
    assert "echo" not in names and "typed" in names  # a tool that cannot be checked is not offered
    assert broken["error"]["code"] == INTERNAL_ERROR and "receipt log" in broken["error"]["message"]
    assert fine["result"]["content"][0]["text"] == "ran typed"
    assert [s["tool"] for s in h.seen(setup.seen)] == ["typed"]
    h.check_log(setup.log)
