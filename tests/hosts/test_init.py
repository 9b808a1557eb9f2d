"""`spinegate init HOST`: one command sets a project up, keeps what was there, and a second run changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hosts_support import init_project
from spinegate.cli import main
from spinegate.hosts import host_named
from spinegate.hosts.mcp_servers import proxied_name
from spinegate.hosts.wiring import is_ours, without_ours
from spinegate.manifest_file import load_manifest


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "run" not in p.relative_to(root).parts}


def test_claude_code_project_set_up_in_one_command(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".claude").mkdir(parents=True)
    theirs = {"permissions": {"allow": ["Bash(npm test)"]}, "env": {"FOO": "1"},
              "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "lint.sh"}]}],
                        "Stop": [{"hooks": [{"type": "command", "command": "notify.sh"}]}]}}
    (root / ".claude" / "settings.json").write_text(json.dumps(theirs))
    (root / ".gitignore").write_text("node_modules/")
    init_project(root)
    settings = json.loads((root / ".claude" / "settings.json").read_text())
    assert settings["permissions"] == theirs["permissions"] and settings["env"] == theirs["env"]
    assert settings["hooks"]["Stop"] == theirs["hooks"]["Stop"]
    assert settings["hooks"]["PreToolUse"][0] == theirs["hooks"]["PreToolUse"][0]  # theirs first, untouched
    for event in ("PreToolUse", "PostToolUse", "PostToolUseFailure", "UserPromptSubmit"):
        ours = [h for group in settings["hooks"][event] for h in group["hooks"] if is_ours(h)]
        assert len(ours) == 1 and ours[0]["command"].endswith("|| exit 2"), event
    pre = next(g for g in settings["hooks"]["PreToolUse"] if is_ours(g["hooks"][0]))
    assert pre["matcher"] == "*" and pre["hooks"][0]["onFailure"] == "block"
    assert load_manifest(root / ".spinegate" / "manifest.json").lookup(None, "Bash") is not None
    ignored = (root / ".gitignore").read_text().splitlines()
    assert ignored[0] == "node_modules/" and ".spinegate/receipts.jsonl*" in ignored and ".spinegate/run/" in ignored
    assert ".spinegate/manifest.json" not in ignored
    before = snapshot(root)
    init_project(root)
    assert snapshot(root) == before  # running it twice changes nothing
    assert without_ours(host_named("claude-code"), settings) == theirs  # and undoing leaves theirs as it was


def test_local_settings_and_an_existing_manifest_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".spinegate").mkdir(parents=True)
    init_project(tmp_path / "other")
    custom = (tmp_path / "other" / ".spinegate" / "manifest.json").read_text().replace('"NORMAL"', '"ELEVATED"', 1)
    (root / ".spinegate" / "manifest.json").write_text(custom)
    result = CliRunner().invoke(main, ["init", "claude-code", "--dir", str(root), "--local"])
    assert result.exit_code == 2 and "does not load" in result.output  # edited but not sealed: nothing changed
    assert not (root / ".claude").exists()
    from spinegate.manifest_file import seal_manifest

    seal_manifest(root / ".spinegate" / "manifest.json")
    init_project(root, "claude-code", "--local")
    assert load_manifest(root / ".spinegate" / "manifest.json").posture.value == "ELEVATED"  # policy kept
    assert (root / ".claude" / "settings.local.json").exists() and not (root / ".claude" / "settings.json").exists()


@pytest.mark.parametrize("content", ["{not json", "[1]", json.dumps({"hooks": []})])
def test_a_settings_file_it_cannot_merge_is_left_alone(tmp_path: Path, content: str) -> None:
    root = tmp_path / "proj"
    (root / ".claude").mkdir(parents=True)
    (root / ".claude" / "settings.json").write_text(content)
    result = CliRunner().invoke(main, ["init", "claude-code", "--dir", str(root)])
    assert result.exit_code == 2 and "settings.json" in result.output
    assert (root / ".claude" / "settings.json").read_text() == content
    assert not (root / ".spinegate").exists()  # checked before anything was written


@pytest.mark.parametrize("kind", ["directory", "fifo", "not utf-8"])
def test_a_gitignore_it_cannot_read_is_refused_before_anything_is_written(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    ignore = root / ".gitignore"
    if kind == "directory":
        ignore.mkdir()
    elif kind == "fifo":
        os.mkfifo(ignore)  # reading it would wait for a writer forever
    else:
        ignore.write_bytes(b"build/\n\xff\xfe\n")
    result = CliRunner().invoke(main, ["init", "claude-code", "--dir", str(root)])
    assert result.exit_code == 2 and ".gitignore" in result.output and "run init again" in result.output, result.output
    assert sorted(p.name for p in root.iterdir()) == [".gitignore"]


def test_the_gitignore_is_appended_to_never_rewritten(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".gitignore").write_text("dist/\r\n*.log")  # kept byte for byte, line ends included
    init_project(root)
    text = (root / ".gitignore").read_bytes()
    assert text.startswith(b"dist/\r\n*.log\n\n# spinegate") and text.endswith(b".spinegate/run/\n")


def test_project_mcp_servers_are_put_behind_the_proxy(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    servers = {"files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."],
                         "env": {"X": "1"}},
               "web": {"type": "http", "url": "https://example.com/mcp"}}
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    init_project(root)
    wired = json.loads((root / ".mcp.json").read_text())["mcpServers"]
    assert proxied_name(wired["files"]) == "files" and wired["files"]["env"] == {"X": "1"}
    args = wired["files"]["args"]
    assert args[args.index("--") + 1:] == ["npx", "-y", "@modelcontextprotocol/server-filesystem", "."]
    assert args[:5] == ["mcp-proxy", "--manifest", ".spinegate/manifest.json", "--receipts",
                        ".spinegate/receipts.jsonl"]
    assert wired["web"] == servers["web"]  # an HTTP server is left for the person to wire
    before = (root / ".mcp.json").read_text()
    init_project(root)
    assert (root / ".mcp.json").read_text() == before


@pytest.mark.parametrize(("host", "settings", "events"), [
    ("codex", ".codex/hooks.json", ["PreToolUse", "PostToolUse", "UserPromptSubmit"]),
    ("gemini", ".gemini/settings.json", ["BeforeTool", "AfterTool", "BeforeAgent"]),
    ("cursor", ".cursor/hooks.json", ["preToolUse", "postToolUse", "postToolUseFailure", "beforeSubmitPrompt"]),
])
def test_other_hosts_get_their_own_settings(tmp_path: Path, host: str, settings: str, events: list[str]) -> None:
    root = init_project(tmp_path / "proj", host)
    data = json.loads((root / settings).read_text())
    assert sorted(data["hooks"]) == sorted(events)
    for event in events:
        entries = data["hooks"][event]
        commands = [e["command"] for e in entries] if host == "cursor" else \
            [h["command"] for group in entries for h in group["hooks"]]
        assert len(commands) == 1 and f"--host {host}" in commands[0] and commands[0].endswith("|| exit 2")
    if host == "cursor":
        assert data["version"] == 1 and data["hooks"]["preToolUse"][0]["failClosed"] is True
    if host == "gemini":
        assert data["hooksConfig"] == {"enabled": True}
        assert data["hooks"]["BeforeTool"][0]["hooks"][0]["timeout"] == 30000  # milliseconds
    before = snapshot(root)
    init_project(root, host)
    assert snapshot(root) == before
