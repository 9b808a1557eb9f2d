"""The real Claude Code CLI (`@anthropic-ai/claude-code` from npm) in a project set up by `spinegate init`.

No internet: a small HTTP server on 127.0.0.1 plays the Anthropic Messages
API with scripted `tool_use` blocks (tests/anthropic_model.py), streamed or,
when the streams break, as the plain answers Claude Code falls back to.
Claude Code's other traffic is switched off
(CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC for telemetry, error reports and
update checks; DISABLE_AUTOUPDATER; CLAUDE_CODE_MODEL_CATALOG=off and
CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL=1 for the model catalog
and the plugin marketplace an interactive session fetches, from
downloads.claude.ai and github.com; a home of its own) and
anything it still tries goes to a proxy on 127.0.0.1 that refuses and
records it: the tests assert it saw nothing.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anthropic_model import AnthropicModel, Reply, text, tool_use
from hosts_support import init_project, receipts, stop_helper
from outside_tools import missing, require
from spinegate.manifest_file import seal_manifest

NODE = Path(__file__).resolve().parents[1] / "node"
INSTALL = "bash scripts/setup.d/30-node-packages.sh installs it in tests/node (needs Node.js and npm)"
#: What Claude Code logs when a hook's answer does not pass its checks (the bug this suite guards against).
VALIDATION_ERRORS = ("Hook JSON output validation failed", "hook JSON output failed validation",
                     "hook_output_schema_invalid")
API_KEY = "sk-ant-test-0123456789abcdefghijklmnop"


def claude_binary() -> str:
    """The CLI npm installed: the wrapper's binary, else the platform package's own."""
    base = NODE / "node_modules" / "@anthropic-ai"
    for candidate in [base / "claude-code" / "bin" / "claude.exe", *sorted(base.glob("claude-code-*/claude"))]:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            try:
                version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True, timeout=60)
            except OSError:
                continue
            if "Claude Code" in version.stdout:
                return str(candidate)
    missing("the Claude Code CLI (@anthropic-ai/claude-code)", INSTALL)


class RefusingProxy:
    """An HTTP proxy on 127.0.0.1 that refuses every request and remembers what was asked for."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                    self.attempts.append(first)
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def __enter__(self) -> RefusingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


@pytest.fixture(scope="module")
def claude() -> str:
    return claude_binary()


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """A home of its own: no settings, credentials or history of the machine's user reach the CLI."""
    made = tmp_path / "home"
    made.mkdir()
    return made


@pytest.fixture()
def proxy() -> Iterator[RefusingProxy]:
    with RefusingProxy() as running:
        yield running


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[Path]:
    root = init_project(tmp_path / "proj")
    subprocess.run(["git", "init", "-q", str(root)], check=False, capture_output=True)
    (root / "README.md").write_text("# demo\n")
    (root / ".env").write_text("API_TOKEN=not-for-the-model\n")
    yield root
    stop_helper(root)


def environment(home: Path, model: AnthropicModel, proxy: RefusingProxy) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "xterm-256color",
        "ANTHROPIC_BASE_URL": model.base_url, "ANTHROPIC_API_KEY": API_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1", "CLAUDE_CODE_MODEL_CATALOG": "off",
        "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1", "HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url,
        "https_proxy": proxy.url, "http_proxy": proxy.url, "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost", "SPINEGATE_HELPER_IDLE_TIMEOUT": "60",
    }


def run_claude(claude: str, project: Path, home: Path, model: AnthropicModel, proxy: RefusingProxy,
               prompt: str = "please work on the project", *extra: str) -> tuple[dict[str, Any], str]:
    """`claude -p` in the default permission mode; its JSON result and its debug log."""
    debug = project.parent / f"debug-{time.monotonic_ns()}.log"
    done = subprocess.run([claude, "-p", prompt, "--output-format", "json", "--permission-mode", "default",
                           "--debug-file", str(debug), *extra], cwd=project, env=environment(home, model, proxy),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout), debug.read_text() if debug.exists() else ""


#: What the debug log says when the CLI tried to reach a host by name (outside the proxy, or refused by it).
NETWORK_TRACES = ("ENOTFOUND", "Could not resolve", "getaddrinfo", "EAI_AGAIN")


def no_other_network(proxy: RefusingProxy, debug: str) -> None:
    assert proxy.attempts == []
    for trace in NETWORK_TRACES:
        assert trace not in debug, [line for line in debug.splitlines() if trace in line][:3]


def no_hook_validation_errors(debug: str) -> None:
    assert "Successfully parsed and validated hook JSON output" in debug
    for error in VALIDATION_ERRORS:
        assert error not in debug, [line for line in debug.splitlines() if error in line][:3]


def by_proposal(project: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for receipt in receipts(project):
        found.setdefault(receipt["proposal_id"], []).append(receipt)
    return found


def verify_cli(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "spinegate.cli", "verify",
                           str(project / ".spinegate" / "receipts.jsonl")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
def test_allowed_calls_run_without_a_prompt_and_refusals_carry_their_receipt(
        claude: str, project: Path, home: Path, proxy: RefusingProxy, streaming: bool) -> None:
    notes = project / "notes.txt"
    script: list[Reply] = [
        tool_use("toolu_bash", "Bash", {"command": "echo hello > made.txt", "description": "Write a file"}),
        tool_use("toolu_read", "Read", {"file_path": str(project / "README.md")}),
        tool_use("toolu_write", "Write", {"file_path": str(notes), "content": "first\n"}),
        tool_use("toolu_edit", "Edit", {"file_path": str(notes), "old_string": "first", "new_string": "second"}),
        tool_use("toolu_rm", "Bash", {"command": "rm -rf ~/important", "description": "Remove a directory"}),
        tool_use("toolu_env", "Read", {"file_path": str(project / ".env")}),
        tool_use("toolu_cat", "Bash", {"command": "cat .env", "description": "Show the environment file"}),
        text("Done."),
    ]
    with AnthropicModel(script, streaming=streaming) as model:
        result, debug = run_claude(claude, project, home, model, proxy)
        results = model.tool_results()
        streams = {bool(body.get("stream")) for body in model.turns()}
    assert (project / "made.txt").read_text() == "hello\n"
    assert notes.read_text() == "second\n"
    denied_ids = {d["tool_use_id"] for d in result.get("permission_denials", [])}
    made = by_proposal(project)
    for allowed in ("toolu_bash", "toolu_read", "toolu_write", "toolu_edit"):
        assert not results[allowed].get("is_error"), results[allowed]
        operations = [r["action"]["operation"] for r in made[allowed]]
        assert operations == ["decision", "outcome"], (allowed, operations)  # decided, ran, recorded
        assert made[allowed][1]["result"]["status"] == "success"
        assert allowed not in denied_ids  # no permission was ever needed: the hook's allow sufficed
    for refused in ("toolu_rm", "toolu_env", "toolu_cat"):
        content = str(results[refused].get("content"))
        receipt = made[refused][-1]
        assert results[refused].get("is_error") and receipt["result"]["status"] == "blocked"
        assert receipt["receipt_id"] in content and "spinegate refused" in content, content
        assert [r["action"]["operation"] for r in made[refused]] == ["decision"]  # nothing ran
    assert "API_TOKEN" not in json.dumps(results)  # the secret never reached the model
    assert streams == ({True} if streaming else {True, False})  # non-streaming: every turn fell back
    no_hook_validation_errors(debug)
    verify_cli(project)
    no_other_network(proxy, debug)


def test_an_agent_that_moved_into_a_subdirectory_still_edits_the_project_and_not_its_settings(
        claude: str, project: Path, home: Path, proxy: RefusingProxy) -> None:
    """Claude Code's Bash keeps its `cd`; the hooks' `cwd` follows it, the project's writable root must not."""
    (project / "src").mkdir()
    settings = project / ".claude" / "settings.json"
    before = settings.read_text()
    script: list[Reply] = [
        tool_use("toolu_cd", "Bash", {"command": "cd src", "description": "Go to the sources"}),
        tool_use("toolu_here", "Bash", {"command": "pwd > where.txt", "description": "Note the directory"}),
        tool_use("toolu_edit", "Edit", {"file_path": str(project / "README.md"), "old_string": "demo",
                                        "new_string": "app"}),
        tool_use("toolu_up", "Bash", {"command": "echo top > ../top.txt", "description": "Write at the top"}),
        tool_use("toolu_cd2", "Bash", {"command": "cd ../.claude", "description": "Go to the settings"}),
        tool_use("toolu_hooks", "Bash", {"command": "echo '{}' > settings.json", "description": "Reset"}),
        text("Done."),
    ]
    with AnthropicModel(script) as model:
        _, debug = run_claude(claude, project, home, model, proxy)
        results = model.tool_results()
    assert (project / "src" / "where.txt").read_text().strip() == str(project / "src")  # the cd held
    assert (project / "README.md").read_text() == "# app\n" and (project / "top.txt").read_text() == "top\n"
    made = by_proposal(project)
    for allowed in ("toolu_here", "toolu_edit", "toolu_up"):
        assert [r["action"]["operation"] for r in made[allowed]] == ["decision", "outcome"], allowed
    assert str(project / "src" / "where.txt") in made["toolu_here"][0]["action"]["target_paths"]
    assert settings.read_text() == before
    refused = str(results["toolu_hooks"].get("content"))
    assert made["toolu_hooks"][-1]["receipt_id"] in refused and "RESTRICTED" in refused, refused
    no_hook_validation_errors(debug)
    verify_cli(project)
    no_other_network(proxy, debug)


def test_without_spinegate_the_same_shell_write_waits_for_a_permission(claude: str, tmp_path: Path, home: Path,
                                                                       proxy: RefusingProxy) -> None:
    """The control: what an approved call would meet without the hook's answer (and what the old answer caused)."""
    bare = tmp_path / "bare"
    bare.mkdir()
    script = [tool_use("toolu_bash", "Bash", {"command": "echo hello > made.txt", "description": "Write a file"})]
    with AnthropicModel(script) as model:
        result, _ = run_claude(claude, bare, home, model, proxy)
    assert not (bare / "made.txt").exists()
    assert [d["tool_use_id"] for d in result["permission_denials"]] == ["toolu_bash"]


def test_a_new_prompt_restores_a_locked_down_session(claude: str, project: Path, home: Path,
                                                     proxy: RefusingProxy) -> None:
    refusals = [tool_use(f"toolu_rm{n}", "Bash", {"command": f"rm -rf ~/old{n}", "description": "Remove"})
                for n in range(6)]
    write = tool_use("toolu_w1", "Write", {"file_path": str(project / "later.txt"), "content": "x\n"})
    with AnthropicModel([*refusals, write, text("stopped")]) as model:
        first, debug = run_claude(claude, project, home, model, proxy)
    assert not (project / "later.txt").exists()
    assert "LOCKDOWN_ALLOWS_SHELL_SAFE_ONLY" in str(model.tool_results()["toolu_w1"].get("content"))
    again = tool_use("toolu_w2", "Write", {"file_path": str(project / "later.txt"), "content": "x\n"})
    with AnthropicModel([again, text("done")]) as model:
        _, resumed = run_claude(claude, project, home, model, proxy, "go on", "--resume", first["session_id"])
    assert (project / "later.txt").exists()
    operations = [(r["action"]["operation"], r["session_id"]) for r in receipts(project)]
    posture = [r for r in receipts(project) if r["action"]["operation"] == "posture"]
    assert len(posture) == 1 and "LOCKDOWN to NORMAL" in posture[0]["action"]["description"]
    assert {session for _, session in operations} == {first["session_id"]}  # one chain: the Claude Code session
    no_hook_validation_errors(resumed)
    verify_cli(project)
    no_other_network(proxy, debug + resumed)


def test_an_ask_is_asked_in_claude_codes_own_prompt(claude: str, project: Path, home: Path,
                                                    proxy: RefusingProxy) -> None:
    tmux = require("tmux", "apt-get install tmux (scripts/setup.d/31-tmux.sh does it as root)")
    manifest = project / ".spinegate" / "manifest.json"
    data = json.loads(manifest.read_text())
    for entry in data["functions"]:
        if entry["function"] == "Write":
            entry["requires_confirmation"] = True
    manifest.write_text(json.dumps(data, indent=1))
    seal_manifest(manifest)
    (home / ".claude.json").write_text(json.dumps({  # a user who has been through Claude Code's first run
        "hasCompletedOnboarding": True, "theme": "dark",
        "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
        "projects": {str(project): {"hasTrustDialogAccepted": True, "allowedTools": []}}}))
    target = project / "approved.txt"
    script = [tool_use("toolu_ask", "Write", {"file_path": str(target), "content": "yes\n"}), text("Written.")]
    server = str(project.parent / "tmux.sock")
    debug = project.parent / "interactive-debug.log"
    with AnthropicModel(script) as model:
        env = environment(home, model, proxy)
        settings = [a for key, value in env.items() for a in ("-e", f"{key}={value}")]
        subprocess.run([tmux, "-S", server, "new-session", "-d", "-x", "200", "-y", "50", "-c", str(project),
                        *settings, claude, "--permission-mode", "default", "--debug-file", str(debug)], check=True,
                       timeout=60)
        try:
            def screen() -> str:
                return subprocess.run([tmux, "-S", server, "capture-pane", "-p", "-J"], capture_output=True,
                                      text=True, timeout=30).stdout

            def wait(pattern: str, timeout: float = 60.0) -> str:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    shown = screen()
                    if re.search(pattern, shown):
                        return shown
                    time.sleep(0.2)
                raise AssertionError(f"{pattern!r} never appeared; the screen shows:\n{screen()}")

            wait(r"❯")
            time.sleep(1.0)  # the prompt is drawn before it takes keys
            subprocess.run([tmux, "-S", server, "send-keys", "-l", "write the file"], check=True, timeout=30)
            subprocess.run([tmux, "-S", server, "send-keys", "Enter"], check=True, timeout=30)
            asked = wait(r"spinegate asks a person to approve Write")
            escalation = [r for r in receipts(project) if r["proposal_id"] == "toolu_ask"]
            assert [r["action"]["operation"] for r in escalation] == ["escalation"]
            assert escalation[0]["receipt_id"] in asked.replace("\n", "")
            assert not target.exists()  # nothing runs while the person decides
            wait(r"1\. Yes")

            def answered() -> bool:
                return len([r for r in receipts(project) if r["proposal_id"] == "toolu_ask"]) >= 2

            for _ in range(3):  # "1. Yes", pressed again if the dialog was not yet listening
                time.sleep(0.5)
                subprocess.run([tmux, "-S", server, "send-keys", "1"], check=True, timeout=30)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and not answered():
                    time.sleep(0.2)
                if answered() or "1. Yes" not in screen():
                    break
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not answered():
                time.sleep(0.2)
        finally:
            subprocess.run([tmux, "-S", server, "kill-server"], capture_output=True, timeout=30)
    assert target.read_text() == "yes\n"
    escalation_receipt, outcome = [r for r in receipts(project) if r["proposal_id"] == "toolu_ask"]
    assert outcome["action"]["operation"] == "outcome" and outcome["result"]["status"] == "success"
    assert escalation_receipt["receipt_id"] in outcome["action"]["description"]
    no_hook_validation_errors(debug.read_text())
    verify_cli(project)
    no_other_network(proxy, debug.read_text())


def test_the_cli_under_test_is_the_pinned_one(claude: str) -> None:
    pinned = json.loads((NODE / "package.json").read_text())["dependencies"]["@anthropic-ai/claude-code"]
    version = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=60).stdout
    assert version.startswith(pinned), version


def test_mcp_calls_to_a_proxied_server_are_decided_once_by_the_proxy(claude: str, tmp_path: Path, home: Path,
                                                                      proxy: RefusingProxy) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    seen = tmp_path / "seen.jsonl"
    server = Path(__file__).resolve().parents[1] / "mcp" / "upstream_server.py"
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {"notes": {
        "command": sys.executable, "args": [str(server)], "env": {"UPSTREAM_SEEN": str(seen)}}}}))
    init_project(root)
    try:
        manifest = root / ".spinegate" / "manifest.json"
        data = json.loads(manifest.read_text())
        data["functions"] += [
            {"plugin": "notes", "function": "echo", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
             "max_calls_per_session": None},
            {"plugin": "notes", "function": "write_note", "effect_class": "SCOPED_WRITE", "allowed": True,
             "reason": None, "max_calls_per_session": None, "path_arguments": ["path"],
             "writable_roots": [str(root)]}]
        manifest.write_text(json.dumps(data, indent=1))
        seal_manifest(manifest)
        settings = root / ".claude" / "settings.json"
        settings.write_text(json.dumps({**json.loads(settings.read_text()), "enableAllProjectMcpServers": True}))
        outside = tmp_path / "outside.txt"
        script = [tool_use("toolu_echo", "mcp__notes__echo", {"text": "hi"}),
                  tool_use("toolu_out", "mcp__notes__write_note", {"path": str(outside), "text": "x"}),
                  tool_use("toolu_del", "mcp__notes__delete_all", {}), text("done")]
        with AnthropicModel(script) as model:
            _, debug = run_claude(claude, root, home, model, proxy)
            results = model.tool_results()
        assert "echo: hi" in str(results["toolu_echo"].get("content")) and not results["toolu_echo"].get("is_error")
        refused = str(results["toolu_out"].get("content"))
        assert results["toolu_out"].get("is_error") and "WRITE_OUTSIDE_ALLOWED_ROOTS" in refused
        assert not outside.exists()
        assert "No such tool" in str(results["toolu_del"].get("content"))  # undeclared: the proxy never offers it
        assert [json.loads(line)["tool"] for line in seen.read_text().splitlines()] == ["echo"]
        made = receipts(root)
        # one call, one decision: the proxy's (executor mcp); the hook let the calls through without deciding
        assert {r["executor"]["type"] for r in made} == {"mcp"}
        assert [(r["action"]["tool"], r["action"]["operation"]) for r in made] == [
            ("notes.echo", "decision"), ("notes.echo", "outcome"), ("notes.write_note", "decision")]
        assert made[2]["receipt_id"] in refused
        no_hook_validation_errors(debug)
        verify_cli(root)
        no_other_network(proxy, debug)
    finally:
        stop_helper(root)
