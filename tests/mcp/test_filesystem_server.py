"""A real third-party MCP server behind the gateway: the reference filesystem server from npm.

@modelcontextprotocol/server-filesystem (installed in tests/node by scripts/setup.d/30-node-packages.sh)
may read and write anywhere under the directory it is given. The manifest allows reads there but
writes only under work/: every other write is refused by the proxy, and the tree is compared byte
for byte before and after to show that nothing the gate refused happened.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mcp_support import text_of
from outside_tools import missing, require

pytestmark = pytest.mark.anyio

SERVER_BIN = Path(__file__).resolve().parents[1] / "node" / "node_modules" / ".bin" / "mcp-server-filesystem"
HOW = "run scripts/test (its step scripts/setup.d/30-node-packages.sh installs it with npm ci in tests/node)"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file's bytes and every symlink's target under `root`."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                found[str(path.relative_to(root))] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[str(path.relative_to(root))] = path.read_bytes()
    return found


@pytest.fixture
def fs(setup: Any, h: SimpleNamespace) -> SimpleNamespace:
    require("node", "install Node.js 20 or later (apt-get install nodejs npm)")
    if not SERVER_BIN.exists():
        missing("the npm package @modelcontextprotocol/server-filesystem", HOW)
    root = setup.workdir / "root"
    (root / "docs").mkdir(parents=True)
    (root / "work").mkdir()
    (root / "docs" / "readme.txt").write_text("the original readme\n")
    (root / "work" / "draft.txt").write_text("a draft\n")
    (root / "work" / "docs-link").symlink_to(root / "docs")
    outside = setup.workdir / "outside.txt"
    outside.write_text("outside the server's root\n")
    work = str(root / "work")
    h.write_manifest(setup.manifest, [
        h.entry("read_text_file", "SHELL_SAFE", plugin="filesystem"),
        h.entry("list_directory", "SHELL_SAFE", plugin="filesystem"),
        h.entry("write_file", "SCOPED_WRITE", plugin="filesystem", path_arguments=["path"], writable_roots=[work]),
        h.entry("edit_file", "SCOPED_WRITE", plugin="filesystem", path_arguments=["path"], writable_roots=[work]),
        h.entry("move_file", "SCOPED_WRITE", plugin="filesystem", path_arguments=["source", "destination"],
                writable_roots=[work]),
    ])
    return SimpleNamespace(root=root, outside=outside, command=[str(SERVER_BIN), str(root)])


async def test_reads_allowed_writes_outside_the_roots_refused(setup: Any, h: SimpleNamespace,
                                                             fs: SimpleNamespace) -> None:
    root = fs.root
    before = snapshot(setup.workdir)
    async with setup.client("--name", "filesystem", upstream=fs.command) as session:
        listed = sorted(t.name for t in (await session.list_tools()).tools)
        read = await session.call_tool("read_text_file", {"path": str(root / "docs" / "readme.txt")})
        listing = await session.call_tool("list_directory", {"path": str(root)})
        wrote = await session.call_tool("write_file", {"path": str(root / "work" / "new.txt"), "content": "new\n"})
        refused = {
            "overwrite readme": await session.call_tool(
                "write_file", {"path": str(root / "docs" / "readme.txt"), "content": "defaced\n"}),
            "outside the server": await session.call_tool(
                "write_file", {"path": str(fs.outside), "content": "defaced\n"}),
            "dot-dot": await session.call_tool(
                "write_file", {"path": str(root / "work" / ".." / "docs" / "readme.txt"), "content": "defaced\n"}),
            "through a symlink": await session.call_tool(
                "write_file", {"path": str(root / "work" / "docs-link" / "readme.txt"), "content": "defaced\n"}),
            "secret file": await session.call_tool(
                "write_file", {"path": str(root / "work" / ".env"), "content": "TOKEN=x\n"}),
            "edit outside": await session.call_tool(
                "edit_file", {"path": str(root / "docs" / "readme.txt"),
                              "edits": [{"oldText": "original", "newText": "edited"}]}),
            "move out of docs": await session.call_tool(
                "move_file", {"source": str(root / "docs" / "readme.txt"), "destination": str(root / "work" / "r")}),
            "undeclared tool": await session.call_tool("create_directory", {"path": str(root / "work" / "d")}),
        }
    after = snapshot(setup.workdir)

    assert listed == ["edit_file", "list_directory", "move_file", "read_text_file", "write_file"]
    assert not read.isError and text_of(read) == "the original readme\n"
    assert "[DIR] docs" in text_of(listing)
    assert not wrote.isError
    for what, result in refused.items():
        assert result.isError, what
        assert "spinegate refused" in text_of(result), what
    assert "WRITE_OUTSIDE_ALLOWED_ROOTS" in text_of(refused["overwrite readme"])
    assert "RESTRICTED_WRITE_FORBIDDEN" in text_of(refused["secret file"])
    assert "TOOL_NOT_IN_MANIFEST" in text_of(refused["undeclared tool"])

    # the only change on disk, but for the proxy's own log files, is the approved write
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    changed -= {"receipts.jsonl", "proxy-stderr.txt"}
    assert changed == {"root/work/new.txt"}
    assert after["root/work/new.txt"] == b"new\n"

    rows = h.check_log(setup.log)
    decisions = h.of(rows, "decision")
    assert len(decisions) == 3 + len(refused)
    blocked = [d for d in decisions if d["result"]["status"] == "blocked"]
    assert len(blocked) == len(refused)
    for result in refused.values():
        assert any(d["receipt_id"] in text_of(result) for d in blocked)
    assert [o["action"]["tool"] for o in h.of(rows, "outcome")] == \
        ["filesystem.read_text_file", "filesystem.list_directory", "filesystem.write_file"]


async def test_the_servers_own_refusals_pass_through(setup: Any, h: SimpleNamespace, fs: SimpleNamespace) -> None:
    async with setup.client("--name", "filesystem", upstream=fs.command) as session:
        outside_read = await session.call_tool("read_text_file", {"path": str(fs.outside)})
    # the manifest allows reads; the server itself refuses a path outside its root, and says so
    assert outside_read.isError and "spinegate" not in text_of(outside_read)
    assert "denied" in text_of(outside_read).lower() or "outside" in text_of(outside_read).lower()
    outcome = h.of(h.check_log(setup.log), "outcome")[0]
    assert outcome["result"]["status"] == "failed"


async def test_the_filesystem_server_behind_the_http_listener(setup: Any, h: SimpleNamespace,
                                                              fs: SimpleNamespace) -> None:
    process, url = setup.start_proxy_http("--name", "filesystem", upstream=fs.command)
    setup.processes.append(process)
    async with setup.http_client(url) as session:
        read = await session.call_tool("read_text_file", {"path": str(fs.root / "work" / "draft.txt")})
        refused = await session.call_tool("write_file", {"path": str(fs.root / "docs" / "x.txt"), "content": "x"})
    assert text_of(read) == "a draft\n"
    assert refused.isError and not (fs.root / "docs" / "x.txt").exists()
    rows = h.check_log(setup.log)
    assert json.dumps(rows).count("WRITE_OUTSIDE_ALLOWED_ROOTS") == 1


NODE_MODULES = Path(__file__).resolve().parents[1] / "node" / "node_modules"
TS_CLIENT = Path(__file__).resolve().parent / "ts_client.mjs"


def run_ts_client(setup: Any, calls: list[Any], approve_tool: str, **target: str) -> dict[str, Any]:
    """The TypeScript SDK's client (ts_client.mjs) against the proxy; what it printed."""
    if not (NODE_MODULES / "@modelcontextprotocol" / "sdk" / "dist" / "esm" / "client" / "index.js").exists():
        missing("the npm package @modelcontextprotocol/sdk (installed with the filesystem server)", HOW)
    env = {**setup.env, "NODE_MODULES": str(NODE_MODULES), "CALLS": json.dumps(calls), "APPROVE_TOOL": approve_tool,
           **target}
    done = subprocess.run(["node", str(TS_CLIENT)], env=env, cwd=str(setup.workdir), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_typescript_sdk_client_through_the_proxy(setup: Any, h: SimpleNamespace, fs: SimpleNamespace) -> None:
    """A client and a server no one here wrote, with the proxy between: decisions, elicitation, receipts."""
    root, work = fs.root, str(fs.root / "work")
    h.write_manifest(setup.manifest, [
        h.entry("read_text_file", "SHELL_SAFE", plugin="filesystem"),
        h.entry("write_file", "SCOPED_WRITE", plugin="filesystem", path_arguments=["path"], writable_roots=[work]),
        h.entry("list_directory", "SHELL_SAFE", plugin="filesystem", requires_confirmation=True),
        h.entry("create_directory", "SCOPED_WRITE", plugin="filesystem", path_arguments=["path"],
                writable_roots=[work], requires_confirmation=True),
    ])
    before = snapshot(root)
    calls = [
        ["read_text_file", {"path": str(root / "docs" / "readme.txt")}],
        ["write_file", {"path": str(root / "docs" / "readme.txt"), "content": "defaced\n"}],
        ["write_file", {"path": str(root / "work" / "ts.txt"), "content": "from the TypeScript client\n"}],
        ["list_directory", {"path": str(root)}],                   # a person approves (elicitation)
        ["create_directory", {"path": str(root / "work" / "d")}],  # a person declines
        ["move_file", {"source": str(root / "docs" / "readme.txt"), "destination": str(root / "work" / "r")}],
        ["read_text_file", {"path": 42}],
    ]
    command = [h.SPINEGATE, *setup.proxy_args("--name", "filesystem", upstream=fs.command)]
    out = run_ts_client(setup, calls, "list_directory", PROXY_COMMAND=json.dumps(command))
    after = snapshot(root)

    assert out["tools"] == ["create_directory", "list_directory", "read_text_file", "write_file"]
    results = out["results"]
    assert [r.get("isError") for r in results] == [False, True, False, False, True, True, True], results
    assert results[0]["text"] == "the original readme\n"
    assert "WRITE_OUTSIDE_ALLOWED_ROOTS" in results[1]["text"]
    assert "[DIR] docs" in results[3]["text"]
    assert "APPROVAL_DENIED" in results[4]["text"]
    assert "TOOL_NOT_IN_MANIFEST" in results[5]["text"]
    assert "ARGUMENTS_SCHEMA_MISMATCH" in results[6]["text"]
    for refused in (results[1], results[4], results[5], results[6]):
        assert refused["meta"]["spinegate/decision"]["receipt_id"] in refused["text"]
    assert len(out["asked"]) == 2 and all("spinegate: approve a call" in q for q in out["asked"])
    # only the approved write happened
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {"work/ts.txt"}
    rows = h.check_log(setup.log)
    escalations = h.of(rows, "escalation")
    assert [e["action"]["tool"] for e in escalations] == ["filesystem.list_directory", "filesystem.create_directory"]
    assert [o["action"]["tool"] for o in h.of(rows, "outcome")] == \
        ["filesystem.read_text_file", "filesystem.write_file", "filesystem.list_directory"]


def test_the_typescript_sdk_client_over_http(setup: Any, h: SimpleNamespace, fs: SimpleNamespace) -> None:
    process, url = setup.start_proxy_http("--name", "filesystem", upstream=fs.command)
    setup.processes.append(process)
    calls = [["read_text_file", {"path": str(fs.root / "work" / "draft.txt")}],
             ["write_file", {"path": str(fs.root / "docs" / "x.txt"), "content": "x"}]]
    out = run_ts_client(setup, calls, "nothing", MCP_URL=url)
    assert [r["isError"] for r in out["results"]] == [False, True]
    assert out["results"][0]["text"] == "a draft\n"
    assert not (fs.root / "docs" / "x.txt").exists()
    assert len(h.of(h.check_log(setup.log), "decision")) == 2
