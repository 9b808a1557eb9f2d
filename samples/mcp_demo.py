"""spinegate + MCP: a notes server behind `spinegate mcp-proxy`, driven by the MCP SDK's own client.

    python samples/mcp_demo.py [--workdir DIR]      # no API key, no network

The demo writes a sealed manifest and starts the gateway

    spinegate mcp-proxy --manifest manifest.json --receipts receipts.jsonl --name notes
                        --pin pins.json -- python mcp_demo.py --serve

in front of a small MCP server (this file, with --serve) that can read, write
and delete files anywhere. Playing the model, it then asks for the calls an
agent might make: the manifest lets it read anywhere in the workspace and write
only under workspace/notes/, and declares no delete tool at all, so the server
never offers it. Writes elsewhere and the hidden tool are refused by the proxy
(the server never sees them), every decision and outcome is a receipt, and the
demo ends by verifying the receipt log with `spinegate verify`. Exit status 0
when all of that held.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import anyio
from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client

from spinegate import seal_manifest

HERE = Path(__file__).resolve()
SPINEGATE = str(Path(sys.executable).parent / "spinegate")


def serve() -> None:
    """The ungoverned notes server: three tools on any path (the proxy is what limits them)."""
    from mcp.server.fastmcp import FastMCP

    server = FastMCP("notes-server", log_level="WARNING")

    @server.tool()
    def read_note(path: str) -> str:
        """Read a text file."""
        return Path(path).read_text(encoding="utf-8")

    @server.tool()
    def write_note(path: str, text: str) -> str:
        """Write a text file (created or replaced)."""
        Path(path).write_text(text, encoding="utf-8")
        return f"wrote {len(text)} characters to {path}"

    @server.tool()
    def delete_note(path: str) -> str:
        """Delete a file."""
        Path(path).unlink()
        return f"deleted {path}"

    server.run("stdio")


def write_manifest(workdir: Path) -> Path:
    notes = str(workdir / "workspace" / "notes")
    manifest = {
        "version": "1.1.0",
        "posture": "NORMAL",
        "functions": [
            {"plugin": "notes", "function": "read_note", "effect_class": "SHELL_SAFE", "allowed": True,
             "reason": None, "max_calls_per_session": None},
            {"plugin": "notes", "function": "write_note", "effect_class": "SCOPED_WRITE", "allowed": True,
             "reason": None, "max_calls_per_session": None, "path_arguments": ["path"], "writable_roots": [notes]},
        ],
    }
    path = workdir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    seal_manifest(path)
    return path


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def drive(workdir: Path) -> list[tuple[str, bool]]:
    """Connect through the proxy and make the calls; returns (label, refused) per call."""
    workspace = workdir / "workspace"
    params = StdioServerParameters(command=SPINEGATE, args=[
        "mcp-proxy", "--manifest", str(workdir / "manifest.json"), "--receipts", str(workdir / "receipts.jsonl"),
        "--name", "notes", "--pin", str(workdir / "pins.json"), "--", sys.executable, str(HERE), "--serve"])
    calls = [
        ("read the plan", "read_note", {"path": str(workspace / "plan.txt")}),
        ("write a note", "write_note", {"path": str(workspace / "notes" / "today.txt"), "text": "ship it\n"}),
        ("overwrite the plan", "write_note", {"path": str(workspace / "plan.txt"), "text": "no plan\n"}),
        ("write a secret", "write_note", {"path": str(workspace / "notes" / ".env"), "text": "TOKEN=1\n"}),
        ("delete the plan", "delete_note", {"path": str(workspace / "plan.txt")}),
    ]
    outcomes: list[tuple[str, bool]] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        offered = sorted(t.name for t in (await session.list_tools()).tools)
        print(f"tools the server offers through the proxy: {', '.join(offered)} (delete_note is hidden)\n")
        for label, tool, arguments in calls:
            result = await session.call_tool(tool, arguments)
            refused = bool(result.isError)
            print(f"{label}: {tool}({json.dumps(arguments)})")
            print(f"  -> {'REFUSED' if refused else 'ran'}: {text_of(result)}\n")
            outcomes.append((label, refused))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="where to put the workspace and the logs")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.serve:
        serve()
        return 0
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="spinegate-mcp-demo-"))
    (workdir / "workspace" / "notes").mkdir(parents=True, exist_ok=True)
    (workdir / "workspace" / "plan.txt").write_text("the plan\n", encoding="utf-8")
    write_manifest(workdir)
    outcomes = anyio.run(drive, workdir)

    log = workdir / "receipts.jsonl"
    print("the receipt log (spinegate show):")
    subprocess.run([SPINEGATE, "show", str(log)], check=False)
    verified = subprocess.run([SPINEGATE, "verify", str(log)], capture_output=True, text=True)
    print(f"\nspinegate verify: {verified.stdout.strip()}")

    expected = {"read the plan": False, "write a note": False, "overwrite the plan": True,
                "write a secret": True, "delete the plan": True}
    ok = (dict(outcomes) == expected and verified.returncode == 0
          and (workdir / "workspace" / "plan.txt").read_text(encoding="utf-8") == "the plan\n"
          and (workdir / "workspace" / "notes" / "today.txt").exists()
          and not (workdir / "workspace" / "notes" / ".env").exists())
    print(f"\nworkdir: {workdir}")
    print("demo: OK" if ok else "demo: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
