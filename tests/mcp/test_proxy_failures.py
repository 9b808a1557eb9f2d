"""Bad input and bad servers: a clear error, a receipt where a decision was made, the proxy stays up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import types
from mcp.shared.exceptions import McpError

from mcp_support import RawProxy, spinegate_command, text_of


async def test_upstream_crash_mid_call(setup: Any, h: SimpleNamespace) -> None:
    async with setup.client() as session:
        crashed = await session.call_tool("crash", {})
        after = await session.call_tool("echo", {"text": "x"})
        with pytest.raises(McpError) as listing:
            await session.list_tools()
        refused = await session.call_tool("delete_all", {})  # still decided and recorded
    assert crashed.isError and "closed its connection" in text_of(crashed)
    assert "whether it completed is not known" in text_of(crashed)
    assert after.isError and "could not be sent" in text_of(after) and "Nothing ran" in text_of(after)
    assert "closed its connection" in str(listing.value)
    assert refused.isError and "DESTRUCTIVE_OPERATION_BLOCKED" in text_of(refused)
    rows = h.check_log(setup.log)
    outcomes = {r["action"]["tool"]: r["result"]["status"] for r in h.of(rows, "outcome")}
    assert outcomes == {"upstream-test.crash": "failed", "upstream-test.echo": "failed"}
    assert [s["tool"] for s in h.seen(setup.seen)] == ["crash"]


async def test_upstream_that_does_not_answer_a_call(setup: Any, h: SimpleNamespace) -> None:
    async with setup.client("--call-timeout", "1") as session:
        started = time.monotonic()
        hung = await session.call_tool("hang", {})
        waited = time.monotonic() - started
        after = await session.call_tool("echo", {"text": "still here"})
    assert hung.isError and "did not answer" in text_of(hung) and "within 1 s" in text_of(hung)
    assert waited < 10
    assert text_of(after) == "echo: still here"
    rows = h.check_log(setup.log)
    hang_outcome = [r for r in h.of(rows, "outcome") if r["action"]["tool"] == "upstream-test.hang"]
    assert hang_outcome[0]["result"]["status"] == "failed"


async def test_upstream_that_does_not_answer_another_request(setup: Any) -> None:
    # long enough for the test server to start and answer initialize on a loaded machine
    async with setup.client("--request-timeout", "5") as session:
        with pytest.raises(McpError) as hung:
            await session.read_resource("memo://hang")  # type: ignore[arg-type]
        read = await session.read_resource("memo://greeting")  # type: ignore[arg-type]
    assert "did not answer resources/read within 5 s" in str(hung.value)
    assert isinstance(read.contents[0], types.TextResourceContents)


def messages_of(exc: BaseException) -> str:
    """The messages of `exc` and of every exception inside it (the SDK raises from task groups)."""
    if isinstance(exc, BaseExceptionGroup):
        return " | ".join(messages_of(e) for e in exc.exceptions)
    return str(exc)


async def test_upstream_that_cannot_be_started(setup: Any, h: SimpleNamespace) -> None:
    with pytest.raises(BaseException) as failed:
        async with setup.client(upstream=[str(setup.workdir / "no-such-server")]):
            pass
    text = messages_of(failed.value)
    assert "could not be reached or failed" in text and "no-such-server" in text


async def test_upstream_printing_garbage_on_stdout_is_tolerated(setup: Any, h: SimpleNamespace) -> None:
    noisy = ["sh", "-c", f'echo "this is not JSON-RPC"; exec "{sys.executable}" "{h.UPSTREAM}"']
    async with setup.client(upstream=noisy) as session:
        result = await session.call_tool("echo", {"text": "ok"})
    assert text_of(result) == "echo: ok"
    assert "not JSON-RPC" in setup.stderr()


async def test_manifest_changed_under_a_running_proxy_denies(setup: Any, h: SimpleNamespace) -> None:
    async with setup.client() as session:
        assert not (await session.call_tool("echo", {"text": "before"})).isError
        doc = json.loads(setup.manifest.read_text())
        doc["functions"].append(h.entry("hidden_tool", "SHELL_SAFE"))  # widened without resealing
        setup.manifest.write_text(json.dumps(doc))
        after = await session.call_tool("echo", {"text": "after"})
    assert after.isError and "MANIFEST_INTEGRITY_FAILURE" in text_of(after)
    assert [s["arguments"]["text"] for s in h.seen(setup.seen)] == ["before"]
    h.check_log(setup.log)


def test_malformed_json_rpc_gets_errors_and_the_proxy_stays_up(setup: Any, h: SimpleNamespace) -> None:
    proxy = RawProxy(setup)
    proxy.send("this is not json")
    assert proxy.receive() == {"jsonrpc": "2.0", "id": None,
                               "error": {"code": -32700, "message": "Parse error: the message is not valid JSON"}}
    proxy.send(b"\xff\xfe{")
    assert proxy.receive()["error"]["code"] == -32700
    proxy.send({"jsonrpc": "2.0", "id": 7, "method": 5})
    answer = proxy.receive()
    assert answer["id"] == 7 and answer["error"]["code"] == -32600
    proxy.send([{"jsonrpc": "2.0", "id": 8, "method": "ping"}])
    assert proxy.receive()["error"]["code"] == -32600
    proxy.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": "not an object"})
    assert proxy.receive()["id"] == 9
    proxy.send("[" * 100_000)  # nested past any parser's limit
    assert proxy.receive()["id"] is None
    proxy.initialize()
    proxy.send({"jsonrpc": "2.0", "id": 10, "method": "no/such/method", "params": {}})
    unknown = proxy.receive()  # the server's own answer, passed on
    assert unknown["id"] == 10 and unknown["error"]["code"] in (-32601, -32602)
    proxy.send({"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {"name": "echo",
                                                                              "arguments": {"text": "fine"}}})
    assert proxy.receive()["result"]["content"][0]["text"] == "echo: fine"
    assert proxy.close() == 0
    assert [s["arguments"] for s in h.seen(setup.seen)] == [{"text": "fine"}]


def test_calls_that_try_to_slip_past_the_gate(setup: Any, h: SimpleNamespace) -> None:
    proxy = RawProxy(setup)
    proxy.initialize()
    # a tools/call without an id (a notification) would run unanswered: never forwarded
    proxy.send({"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "delete_all", "arguments": {}}})
    # a method name the server might accept but the gate would not recognise
    proxy.send({"jsonrpc": "2.0", "id": 1, "method": "Tools/Call ", "params": {"name": "delete_all"}})
    assert proxy.receive()["error"]["code"] == -32601
    # ... or one a server written in C would cut at the NUL, or that reads the same once invisible
    # characters are dropped and Unicode compatibility forms folded
    for disguised in ("tools/call\u0000", "tools/call\u200b", "\uff54ools/call", "tools/\u00adcall"):
        proxy.send({"jsonrpc": "2.0", "id": 1, "method": disguised, "params": {"name": "delete_all"}})
        answer = proxy.receive()
        assert answer["error"]["code"] == -32601 and "exact" in answer["error"]["message"], disguised
    # no tool name, arguments that are not an object
    proxy.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"arguments": {}}})
    unnamed = proxy.receive()
    assert unnamed["result"]["isError"] and "MALFORMED_TOOL_CALL" in unnamed["result"]["content"][0]["text"]
    proxy.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo", "arguments": [1]}})
    assert "ARGUMENTS_NOT_OBJECT" in proxy.receive()["result"]["content"][0]["text"]
    # the same id twice while the first is in progress
    proxy.send({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "slow",
                                                                             "arguments": {"seconds": 1}}})
    proxy.send({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "delete_all",
                                                                             "arguments": {}}})
    first, second = proxy.receive(), proxy.receive()
    assert first["error"]["code"] == -32600 and "already used" in first["error"]["message"]
    assert second["id"] == 4 and second["result"]["content"][0]["text"] == "slept"
    # ids that are neither strings nor integers (true would collide with 1)
    for bad_id in (True, 1.5, None):
        proxy.send({"jsonrpc": "2.0", "id": bad_id, "method": "tools/call", "params": {"name": "delete_all"}})
        assert proxy.receive() == {"jsonrpc": "2.0", "id": None, "error": {
            "code": -32600, "message": "Invalid Request: the id must be a string or an integer"}}
    assert proxy.silent(0.5)
    assert proxy.close() == 0
    assert [s["tool"] for s in h.seen(setup.seen)] == ["slow"]
    reasons = [r["result"]["blocked_by"] for r in h.of(h.check_log(setup.log), "decision")]
    assert reasons == ["MALFORMED_TOOL_CALL", "ARGUMENTS_NOT_OBJECT", None]


def test_proxy_usage_errors(setup: Any, h: SimpleNamespace, tmp_path: Any) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([h.SPINEGATE, *args], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, env=setup.env)

    both = run("mcp-proxy", "--manifest", str(setup.manifest), "--receipts", str(setup.log),
               "--upstream", "http://127.0.0.1:9/mcp", "--", "x")
    assert both.returncode == 2 and "not both" in both.stderr
    unsealed = tmp_path / "unsealed.json"
    unsealed.write_text(json.dumps({"version": "1.0.0", "posture": "NORMAL", "functions": [],
                                    "manifest_hash": "0" * 64}))
    bad_manifest = run("mcp-proxy", "--manifest", str(unsealed), "--receipts", str(setup.log), "--", "x")
    assert bad_manifest.returncode == 2 and str(unsealed) in bad_manifest.stderr
    pins = tmp_path / "pins.json"
    pins.write_text("{not json")
    bad_pins = run("mcp-proxy", "--manifest", str(setup.manifest), "--receipts", str(setup.log),
                   "--pin", str(pins), "--", "x")
    assert bad_pins.returncode == 2 and str(pins) in bad_pins.stderr and "not JSON" in bad_pins.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fifo_pins = run("mcp-proxy", "--manifest", str(setup.manifest), "--receipts", str(setup.log),
                    "--pin", str(fifo), "--", "x")
    assert fifo_pins.returncode == 2 and "not a regular file" in fifo_pins.stderr
    listen = run("mcp-proxy", "--manifest", str(setup.manifest), "--receipts", str(setup.log),
                 "--listen", "nowhere", "--", "x")
    assert listen.returncode == 2 and "HOST:PORT" in listen.stderr
    # a receipt log that cannot be appended to: a proxy that could only refuse is not started
    for receipts, words in ((tmp_path, "not a regular file"), (fifo, "not a regular file"),
                            (tmp_path / "no-such-dir" / "r.jsonl", "does not exist")):
        bad_log = run("mcp-proxy", "--manifest", str(setup.manifest), "--receipts", str(receipts), "--", "x")
        assert bad_log.returncode == 2 and str(receipts) in bad_log.stderr and words in bad_log.stderr, bad_log.stderr
    for url in ("notaurl", "file:///etc/passwd", "http://"):
        bad_url = run("mcp-proxy", "--manifest", str(setup.manifest), "--receipts", str(setup.log), "--upstream", url)
        assert bad_url.returncode == 2 and "http:// or https://" in bad_url.stderr, bad_url.stderr
    # the hook in front of a coding agent reads one --name from .mcp.json; the proxy must use that one
    twice = run("mcp-proxy", "--manifest", str(setup.manifest), "--receipts", str(setup.log),
                "--name", "a", "--name", "b", "--", "x")
    assert twice.returncode == 2 and "--name is given 2 times" in twice.stderr
    assert not setup.log.exists() or setup.log.stat().st_size == 0


def test_requests_read_from_a_file_are_all_answered(setup: Any, h: SimpleNamespace) -> None:
    """stdin a regular file (not a pipe): read in a thread; the input ends before the answers, which still come."""
    requests = setup.workdir / "requests.jsonl"
    lines = [
        {"jsonrpc": "2.0", "id": 0, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "file", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "slow", "arguments": {"seconds": 0.5}}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "delete_all", "arguments": {}}},
    ]
    requests.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with open(requests, "rb") as stdin, open(setup.workdir / "answers.jsonl", "wb") as stdout:
        done = subprocess.run([spinegate_command(), *setup.proxy_args()], stdin=stdin, stdout=stdout,
                              stderr=subprocess.PIPE, env=setup.env, cwd=str(setup.workdir), timeout=60)
    assert done.returncode == 0, done.stderr
    answers = {a["id"]: a for a in h.receipts(setup.workdir / "answers.jsonl")}
    assert set(answers) == {0, 1, 2}
    assert answers[1]["result"]["content"][0]["text"] == "slept"
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in answers[2]["result"]["content"][0]["text"]
    rows = h.check_log(setup.log)
    assert [r["result"]["status"] for r in h.of(rows, "outcome")] == ["success"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_proxy_and_its_server_cleanly(setup: Any, h: SimpleNamespace, signum: int) -> None:
    pid_file = setup.workdir / "upstream.pid"
    setup.env["UPSTREAM_PID_FILE"] = str(pid_file)
    proxy = RawProxy(setup)
    proxy.initialize()
    upstream = int(pid_file.read_text())
    proxy.process.send_signal(signum)
    assert proxy.process.wait(timeout=20) == 0
    assert proxy.process.stderr is not None and "Traceback" not in proxy.process.stderr.read().decode()
    for _ in range(100):
        try:
            os.kill(upstream, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the upstream server outlived the proxy")
