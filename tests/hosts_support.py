"""Helpers for the coding-agent host tests: projects set up by `spinegate init`, hook payloads, receipts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from spinegate.cli import main


def init_project(root: Path, host: str = "claude-code", *extra: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    result = CliRunner().invoke(main, ["init", host, "--dir", str(root), *extra])
    assert result.exit_code == 0, result.output
    return root


def stop_helper(project: Path) -> None:
    """Stop the project's helper if one runs (tests never leave one behind)."""
    subprocess.run([sys.executable, "-m", "spinegate.cli", "serve", "--stop", "--project", str(project)],
                   capture_output=True, timeout=60)


def pre(name: str, arguments: dict[str, Any], *, use_id: str, session: str = "s1", cwd: str | None = None,
        **extra: Any) -> str:
    """A Claude Code PreToolUse payload (`cwd` left out unless given: the service then uses the project)."""
    payload = {"hook_event_name": "PreToolUse", "session_id": session, "tool_name": name, "tool_input": arguments,
               "tool_use_id": use_id, **extra}
    if cwd is not None:
        payload["cwd"] = cwd
    return json.dumps(payload)


def post(name: str, arguments: dict[str, Any], *, use_id: str, response: Any = "ok", session: str = "s1",
         **extra: Any) -> str:
    return json.dumps({"hook_event_name": "PostToolUse", "session_id": session, "tool_name": name,
                       "tool_input": arguments, "tool_use_id": use_id, "tool_response": response, **extra})


def prompt(session: str = "s1") -> str:
    return json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": session, "prompt": "carry on"})


def decision(stdout: str) -> tuple[str, str]:
    """(permissionDecision, permissionDecisionReason) of a Claude Code PreToolUse answer."""
    specific = json.loads(stdout)["hookSpecificOutput"]
    return specific["permissionDecision"], specific["permissionDecisionReason"]


def receipts(project: Path) -> list[dict[str, Any]]:
    path = project / ".spinegate" / "receipts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
