"""spinegate in front of Claude Code's tools, without Claude Code: the hook command `init` writes, played by hand.

    python samples/claude_code/demo.py [--workdir DIR]      # no API key, no network, no Claude Code needed

The demo sets a throwaway project up with `spinegate init claude-code`,
then runs the exact hook command it wrote into `.claude/settings.json`
(through `sh`, as Claude Code does) with the JSON Claude Code sends for a
session's events:

1. a person's prompt (UserPromptSubmit);
2. tool calls (PreToolUse): a shell command that writes in the project and
   a file read, both allowed; `rm -rf` outside the project and a read of
   `.env`, refused with a reason the model can act on and a receipt id; a
   web fetch, for which Claude Code would ask the person ("ask");
3. what ran (PostToolUse): outcome receipts tied to their decisions;
4. a session that refused too much is locked down; a new prompt restores it.

It ends by verifying the receipt log with `spinegate verify` and stopping
the resident helper the first hook call started. Exit status 0 when all of
that held. To do the same with Claude Code itself, see README.md here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SPINEGATE = [sys.executable, "-m", "spinegate.cli"]
SESSION = "3f2c9a1e-demo"


class Project:
    """A project set up by `spinegate init claude-code`, and the hook command it wired."""

    def __init__(self, root: Path) -> None:
        self.root = root
        settings = json.loads((root / ".claude" / "settings.json").read_text())
        self.command = {event: groups[-1]["hooks"][0]["command"] for event, groups in settings["hooks"].items()}
        self.calls = 0

    def event(self, name: str, payload: dict[str, Any]) -> tuple[int, str, str]:
        """Run the hook command for `name` as Claude Code would: in the project, payload on stdin."""
        data = {"session_id": SESSION, "transcript_path": str(self.root / "transcript.jsonl"),
                "cwd": str(self.root), "permission_mode": "default", "hook_event_name": name, **payload}
        env = {**os.environ, "CLAUDE_PROJECT_DIR": str(self.root)}
        done = subprocess.run(["sh", "-c", self.command[name]], input=json.dumps(data), capture_output=True,
                              text=True, cwd=self.root, env=env, timeout=120)
        return done.returncode, done.stdout, done.stderr

    def tool(self, tool: str, arguments: dict[str, Any], *, ran: str | None = None) -> str:
        """One tool call: PreToolUse, and PostToolUse when Claude Code would have run it."""
        self.calls += 1
        use_id = f"toolu_demo_{self.calls:02d}"
        code, out, err = self.event("PreToolUse", {"tool_name": tool, "tool_input": arguments,
                                                   "tool_use_id": use_id})
        if code != 0:
            raise SystemExit(f"the hook blocked {tool} outright (exit {code}): {err}")
        answer = json.loads(out)["hookSpecificOutput"]
        verdict, reason = answer["permissionDecision"], answer["permissionDecisionReason"]
        print(f"  {tool:<9} {json.dumps(arguments)[:60]:<60} -> {verdict}")
        if verdict != "allow":
            print(f"            {reason}")
        if verdict == "allow" and ran is not None:
            self.event("PostToolUse", {"tool_name": tool, "tool_input": arguments, "tool_use_id": use_id,
                                       "tool_response": ran})
        return verdict


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, help="where to make the project (default: a temporary directory)")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="spinegate-claude-code-"))
    root = workdir / "project"
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text("# a project\n")
    (root / ".env").write_text("API_TOKEN=do-not-share\n")

    print(f"$ spinegate init claude-code --dir {root}")
    subprocess.run([*SPINEGATE, "init", "claude-code", "--dir", str(root)], check=True)
    project = Project(root)
    failures: list[str] = []

    def expect(what: str, ok: bool) -> None:
        if not ok:
            failures.append(what)

    try:
        print("\nA person asks Claude Code for something (UserPromptSubmit), then the model calls tools:")
        code, out, _ = project.event("UserPromptSubmit", {"prompt": "tidy up the project"})
        expect("a prompt is answered with nothing for the model", code == 0 and out == "")
        expect("echo is allowed", project.tool("Bash", {"command": "echo draft > notes.txt"}, ran="") == "allow")
        expect("reading the README is allowed",
               project.tool("Read", {"file_path": str(root / "README.md")}, ran="# a project") == "allow")
        expect("rm -rf outside is refused", project.tool("Bash", {"command": "rm -rf ~/projects"}) == "deny")
        expect("the secret is refused", project.tool("Read", {"file_path": str(root / ".env")}) == "deny")
        expect("the fetch is asked about",
               project.tool("WebFetch", {"url": "https://example.com", "prompt": "summarise"}) == "ask")

        print("\nThe model keeps trying destructive commands; the session tightens to LOCKDOWN:")
        for n in range(4):
            project.tool("Bash", {"command": f"rm -rf ~/old-{n}"})
        expect("lockdown refuses even a write in the project",
               project.tool("Write", {"file_path": str(root / "plan.md"), "content": "plan"}) == "deny")
        print("\nThe person sends a new prompt (UserPromptSubmit): the session is back to the manifest's posture:")
        project.event("UserPromptSubmit", {"prompt": "stop deleting things; write the plan"})
        expect("the write is allowed again",
               project.tool("Write", {"file_path": str(root / "plan.md"), "content": "plan"}, ran="ok") == "allow")

        log = root / ".spinegate" / "receipts.jsonl"
        print(f"\nThe receipt log ({log}):")
        for line in log.read_text().splitlines():
            receipt = json.loads(line)
            action, result = receipt["action"], receipt["result"]
            print(f"  #{receipt['sequence_number']:<3} {action['operation']:<10} {action['tool']:<18} "
                  f"{result['status']:<8} {result['blocked_by'] or ''}")
        print(f"\n$ spinegate verify {log}")
        verified = subprocess.run([*SPINEGATE, "verify", str(log)])
        expect("the log verifies", verified.returncode == 0)
    finally:
        subprocess.run([*SPINEGATE, "serve", "--stop", "--project", str(root)], capture_output=True)
    if failures:
        print("\ndemo: FAILED: " + "; ".join(failures))
        return 1
    print("\ndemo: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
