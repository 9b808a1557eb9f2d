"""`spinegate init claude-code|codex|gemini|cursor [--dir PROJECT] [--local]`: gate a coding agent in one command.

What it does in PROJECT (default: the current directory), each step kept
if already done, so running it twice changes nothing:

1. writes `.spinegate/manifest.json`, the sealed default policy for coding
   agents (an existing manifest is kept: it is policy, meant to be
   committed and reviewed);
2. merges spinegate's hooks into the host's settings file, keeping
   everything else there (Claude Code: `.claude/settings.json`, or
   `settings.local.json` with `--local`; Codex: `.codex/hooks.json`; Gemini
   CLI: `.gemini/settings.json`; Cursor: `.cursor/hooks.json`);
3. adds the receipt log and the helper's directory to `.gitignore`;
4. puts each stdio MCP server of the project's MCP configuration behind
   `spinegate mcp-proxy --name <server>` (the proxy decides those calls);
5. prints what it did and how to undo it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import click

from ..hosts import HOST_NAMES, host_named
from ._common import fail

GITIGNORE_BLOCK = ("# spinegate: the receipt log and the hook helper's private files "
                   "(.spinegate/manifest.json is policy: commit it)\n"
                   ".spinegate/receipts.jsonl*\n.spinegate/run/\n")
MCP_CONFIG = {"claude-code": ".mcp.json", "cursor": ".cursor/mcp.json", "gemini": ".gemini/settings.json"}


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    if not path.is_file():
        fail(f"{path} is not a regular file", "move it away and run init again")
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError) as exc:
        fail(f"{path} is not readable JSON: {exc}", "fix the file (spinegate keeps what is in it) and run init again")
    if not isinstance(data, dict):
        fail(f"{path} is not a JSON object", "fix the file and run init again")
    return data


def _write_json(path: Path, data: dict[str, Any]) -> bool:
    """Write `data` (atomically) unless the file holds it already; True if it changed."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    if path.exists() and _read_json(path) == data:
        return False  # same settings, the person's own formatting kept
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".spinegate-tmp")
    tmp.write_text(text, encoding="utf-8")
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)
    return True


def _write_manifest(path: Path) -> str:
    from ..manifest_file import load_manifest, seal_manifest

    if path.exists():
        try:
            manifest = load_manifest(path)
        except Exception as exc:  # noqa: BLE001 - say what is wrong, change nothing
            fail(f"the existing manifest {path} does not load: {exc}",
                 "fix and seal it (spinegate manifest seal), or move it away to get the default")
        return f"kept {path} (manifest_hash {manifest.manifest_hash})"
    template = resources.files("spinegate.hosts").joinpath("default_manifest.json").read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template, encoding="utf-8")
    digest = seal_manifest(path)
    return f"wrote {path}, the default policy for coding agents, sealed (manifest_hash {digest})"


def _gitignore_text(project: Path) -> str:
    """The project's `.gitignore` as it is ("" when there is none); refuses what is not a readable text file."""
    path = project / ".gitignore"
    if not path.exists() and not path.is_symlink():
        return ""
    if not path.is_file():  # a directory, a FIFO (reading it would wait forever), a dangling link
        fail(f"{path} is not a regular file", "move it away and run init again")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        fail(f"{path} cannot be read as UTF-8 text: {exc}", "fix or move the file and run init again")


def _gitignore(project: Path, text: str) -> str | None:
    """Append spinegate's lines to `.gitignore` (whose content was `text`), never rewriting what is there."""
    path = project / ".gitignore"
    lines = {line.strip() for line in text.splitlines()}
    if {".spinegate/receipts.jsonl*", ".spinegate/run/"} <= lines:
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    with open(path, "a", encoding="utf-8") as out:
        out.write(separator + ("\n" if text else "") + GITIGNORE_BLOCK)
    return f"added the receipt log and .spinegate/run/ to {path}"


def _spinegate_program() -> str:
    """How MCP configurations start spinegate: by name when it is on the PATH, else by its full path."""
    found = shutil.which("spinegate")
    if found is not None:
        return "spinegate"
    here = Path(sys.executable).with_name("spinegate")
    return str(here) if here.exists() else "spinegate"


@click.command("init")
@click.argument("host", type=click.Choice(HOST_NAMES))
@click.option("--dir", "project_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The project to set up.")
@click.option("--local", is_flag=True,
              help="Claude Code: write the hooks to .claude/settings.local.json (yours alone, not committed).")
@click.option("--no-mcp", is_flag=True, help="Leave the project's MCP servers as they are.")
def command(host: str, project_dir: Path, local: bool, no_mcp: bool) -> None:
    """Set a project up so HOST's tool calls are decided by spinegate and receipted."""
    from .. import hook_client
    from ..helper.index import SessionIndex
    from ..helper.layout import ProjectLayout
    from ..hosts.mcp_servers import wire_mcp_proxy
    from ..hosts.wiring import hook_command, merged_settings

    if not project_dir.is_dir():
        fail(f"{project_dir} is not a directory", "create the project first, or pass --dir")
    project = project_dir.resolve()
    agent = host_named(host)
    layout = ProjectLayout.of(project)
    done: list[str] = []

    settings_name = agent.wiring.settings
    if local:
        if host != "claude-code":
            fail("--local is for Claude Code only", "leave it out")
        settings_name = ".claude/settings.local.json"
    settings_path = project / settings_name
    client = str(Path(hook_client.__file__).resolve())
    command_line = hook_command(agent, sys.executable, client)
    # everything init reads is checked before anything is written: a bad file leaves the project as it was
    try:
        merged = merged_settings(agent, _read_json(settings_path), command_line)
    except ValueError as exc:
        fail(str(exc), f"fix {settings_path} and run init again")
    gitignore = _gitignore_text(project)

    done.append(_write_manifest(Path(layout.manifest)))
    layout.make_run_dir()
    SessionIndex(layout.receipts, layout.index_dir).catch_up()  # a log that exists already is indexed once, now

    if _write_json(settings_path, merged):
        events = ", ".join(name for name, _ in agent.wiring.events)
        done.append(f"wired {events} hooks into {settings_path}")
    else:
        done.append(f"{settings_path} already has spinegate's hooks")

    ignored = _gitignore(project, gitignore)
    if ignored:
        done.append(ignored)

    mcp_file = MCP_CONFIG.get(host)
    wrapped: list[str] = []
    if mcp_file and not no_mcp and (project / mcp_file).exists():
        path = project / mcp_file
        config = _read_json(path)
        servers = config.get("mcpServers")
        if isinstance(servers, dict):
            rel_manifest = os.path.relpath(layout.manifest, project)
            rel_log = os.path.relpath(layout.receipts, project)
            rel_pins = os.path.join(hook_client.STATE_DIR, "pins.json")
            config["mcpServers"], wrapped = wire_mcp_proxy(servers, _spinegate_program(), rel_manifest, rel_log,
                                                           rel_pins)
            if wrapped:
                _write_json(path, config)
                done.append(f"put MCP server(s) {', '.join(wrapped)} of {path} behind spinegate mcp-proxy "
                            "(declare their tools in the manifest: plugin = the server's name)")

    click.echo(f"spinegate is set up for {host} in {project}:")
    for line in done:
        click.echo(f"  - {line}")
    click.echo(f"Receipts go to {layout.receipts}; check them with `spinegate verify {layout.receipts}`.")
    click.echo("To undo: remove spinegate's entries from " + settings_path.name
               + (f" (and restore the MCP servers in {mcp_file})" if wrapped else "")
               + ", then delete .spinegate/ if you no longer want the policy and the receipts.")
