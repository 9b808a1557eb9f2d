"""The gateway over Streamable HTTP on 127.0.0.1: facing the client (--listen) and the server (--upstream)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
import httpx
from mcp import types

from mcp_support import text_of


async def test_listen_serves_clients_over_http(setup: Any, h: SimpleNamespace) -> None:
    process, url = setup.start_proxy_http()
    setup.processes.append(process)
    progress: list[float] = []
    asked: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async def sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        asked.append("asked")
        return types.CreateMessageResult(role="assistant", model="fake",
                                         content=types.TextContent(type="text", text="yes"))

    async with setup.http_client(url, sampling_callback=sampling) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        allowed = await session.call_tool("echo", {"text": "over http"})
        refused = await session.call_tool("delete_all", {})
        slow = await session.call_tool("slow", {"seconds": 0.2}, progress_callback=on_progress)
        sampled = await session.call_tool("ask_model", {"prompt": "ok?"})
        read = await session.read_resource("memo://greeting")  # type: ignore[arg-type]
    assert "hidden_tool" not in names and "echo" in names
    assert text_of(allowed) == "echo: over http"
    assert refused.isError and "DESTRUCTIVE_OPERATION_BLOCKED" in text_of(refused)
    assert not slow.isError and progress == [1, 2, 3, 4, 5]
    assert text_of(sampled) == "the model said: yes" and asked == ["asked"]
    assert isinstance(read.contents[0], types.TextResourceContents)
    assert [s["tool"] for s in h.seen(setup.seen)] == ["echo", "slow", "ask_model"]
    rows = h.check_log(setup.log)
    assert [r["result"]["blocked_by"] for r in h.of(rows, "decision")] == \
        [None, "DESTRUCTIVE_OPERATION_BLOCKED", None, None]
    assert len(h.of(rows, "outcome")) == 3


async def test_listen_gives_each_session_its_own_server(setup: Any, h: SimpleNamespace) -> None:
    process, url = setup.start_proxy_http()
    setup.processes.append(process)
    results: dict[str, str] = {}

    async def one(name: str) -> None:
        async with setup.http_client(url) as session:
            results[name] = text_of(await session.call_tool("echo", {"text": name}))

    async with anyio.create_task_group() as tg:
        for name in ("first", "second", "third"):
            tg.start_soon(one, name)
    assert results == {"first": "echo: first", "second": "echo: second", "third": "echo: third"}
    assert len(h.of(h.check_log(setup.log), "outcome")) == 3


async def test_listen_refuses_foreign_hosts(setup: Any) -> None:
    process, url = setup.start_proxy_http()
    setup.processes.append(process)
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, headers={"Host": "evil.example:80", "Accept": "application/json, "
                                                 "text/event-stream", "Content-Type": "application/json"},
                                   json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert answer.status_code in (400, 403, 421)


async def test_upstream_over_http(setup: Any, h: SimpleNamespace) -> None:
    server, upstream_url = setup.start_upstream_http()
    setup.processes.append(server)
    async with setup.client("--upstream", upstream_url, upstream=[]) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        allowed = await session.call_tool("echo", {"text": "to http"})
        refused = await session.call_tool("write_note", {"path": str(setup.workdir / "outside.txt"), "text": "x"})
        prompt = await session.get_prompt("summarize", {"text": "t"})
    assert "hidden_tool" not in names
    assert text_of(allowed) == "echo: to http"
    assert refused.isError and "WRITE_OUTSIDE_ALLOWED_ROOTS" in text_of(refused)
    assert not (setup.workdir / "outside.txt").exists()
    assert prompt.messages
    assert [s["tool"] for s in h.seen(setup.seen)] == ["echo"]
    h.check_log(setup.log)


async def test_http_upstream_going_away(setup: Any, h: SimpleNamespace) -> None:
    server, upstream_url = setup.start_upstream_http()
    setup.processes.append(server)
    async with setup.client("--upstream", upstream_url, upstream=[]) as session:
        assert text_of(await session.call_tool("echo", {"text": "before"})) == "echo: before"
        server.kill()
        server.wait(timeout=10)
        gone = await session.call_tool("echo", {"text": "after"})
        again = await session.call_tool("echo", {"text": "again"})
    assert gone.isError and "MCP server at" in text_of(gone)
    assert again.isError
    rows = h.check_log(setup.log)
    assert [r["result"]["status"] for r in h.of(rows, "outcome")] == ["success", "failed", "failed"]


async def test_listen_and_upstream_http_together(setup: Any, h: SimpleNamespace) -> None:
    server, upstream_url = setup.start_upstream_http()
    setup.processes.append(server)
    process, url = setup.start_proxy_http("--upstream", upstream_url, upstream=[])
    setup.processes.append(process)
    async with setup.http_client(url) as session:
        allowed = await session.call_tool("echo", {"text": "http to http"})
        refused = await session.call_tool("hidden_tool", {})
    assert text_of(allowed) == "echo: http to http"
    assert refused.isError and "TOOL_NOT_IN_MANIFEST" in text_of(refused)
    h.check_log(setup.log)
