"""SIGHUP loads a changed manifest into a running proxy, written as a `reload` receipt."""

from __future__ import annotations

import json
import signal
import time
from types import SimpleNamespace
from typing import Any

from mcp_support import RawProxy


def call(proxy: RawProxy, rid: int, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    proxy.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
    answer = proxy.receive()
    assert answer["id"] == rid
    return answer["result"]


def wait_for(predicate: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sighup_reloads_a_changed_manifest(setup: Any, h: SimpleNamespace) -> None:
    proxy = RawProxy(setup)
    proxy.initialize()
    assert not call(proxy, 1, "echo", {"text": "before"})["isError"]

    entries = [e for e in h.functions(setup.workdir) if e["function"] != "echo"]
    entries.append(h.entry("echo", "SHELL_SAFE", allowed=False, reason="ECHO_RETIRED"))
    h.write_manifest(setup.manifest, entries)  # changed and correctly sealed, but not yet reloaded
    for rid, tool, arguments in ((2, "echo", {"text": "x"}), (3, "typed", {"count": 1})):
        assert "MANIFEST_INTEGRITY_FAILURE" in call(proxy, rid, tool, arguments)["content"][0]["text"]

    proxy.process.send_signal(signal.SIGHUP)
    wait_for(lambda: h.of(h.receipts(setup.log), "reload"))
    assert "ECHO_RETIRED" in call(proxy, 4, "echo", {"text": "after"})["content"][0]["text"]
    assert not call(proxy, 5, "typed", {"count": 1})["isError"]

    doc = json.loads(setup.manifest.read_text())
    doc["functions"][0]["allowed"] = not doc["functions"][0]["allowed"]  # edited, not resealed
    setup.manifest.write_text(json.dumps(doc))
    proxy.process.send_signal(signal.SIGHUP)
    assert "MANIFEST_INTEGRITY_FAILURE" in call(proxy, 6, "typed", {"count": 1})["content"][0]["text"]
    assert proxy.close() == 0
    assert proxy.process.stderr is not None and "not reloaded" in proxy.process.stderr.read().decode()

    rows = h.check_log(setup.log)
    reloads = h.of(rows, "reload")
    assert len(reloads) == 1 and reloads[0]["result"]["status"] == "success"
    assert "SIGHUP" in reloads[0]["action"]["description"]
    assert [s["arguments"] for s in h.seen(setup.seen)] == [{"text": "before"}, {"count": 1}]
