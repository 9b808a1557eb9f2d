"""The resident helper and the thin client, as real processes: start, privacy, reload, idle exit, fallbacks."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hosts_support import decision, init_project, pre, prompt, receipts, stop_helper
from spinegate import hook_client
from spinegate.helper.server import peer_uid
from spinegate.manifest_file import seal_manifest
from spinegate.verify import verify_path

CLIENT = str(Path(hook_client.__file__).resolve())


def hook(project: Path, payload: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One hook call the way `init` wires it: the thin client, isolated and without site-packages."""
    return subprocess.run([sys.executable, "-I", "-S", CLIENT, "--host", "claude-code", "--project", str(project)],
                          input=payload, capture_output=True, text=True, timeout=60, cwd=project,
                          env={**os.environ, **(env or {})})


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def helper_pid(project: Path) -> int:
    return int((project / ".spinegate" / "run" / "helper.pid").read_text())


def serve(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spinegate.cli", "serve", "--project", str(project), *args],
                          capture_output=True, text=True, timeout=60)


def test_the_first_call_starts_a_private_helper_that_answers_the_next_ones(project: Path) -> None:
    first = hook(project, pre("Read", {"file_path": str(project / "a.txt")}, use_id="t1"))
    assert first.returncode == 0 and decision(first.stdout)[0] == "allow", first.stderr
    run_dir = project / ".spinegate" / "run"
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    sock = run_dir / "helper.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode) and not sock.stat().st_mode & 0o077
    pid = helper_pid(project)
    second = hook(project, pre("Bash", {"command": "rm -rf /"}, use_id="t2"))
    verdict, reason = decision(second.stdout)
    assert verdict == "deny" and helper_pid(project) == pid
    assert serve(project, "--status").returncode == 0
    made = receipts(project)
    assert [r["proposal_id"] for r in made] == ["t1", "t2"] and made[1]["receipt_id"] in reason
    assert verify_path(project / ".spinegate" / "receipts.jsonl").ok


def test_a_peer_is_known_by_its_user_id() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert peer_uid(left) == os.getuid()


def test_a_changed_manifest_is_refused_until_the_helper_reloads_it(project: Path) -> None:
    read = pre("Read", {"file_path": str(project / "a.txt")}, use_id="r1")
    assert decision(hook(project, read).stdout)[0] == "allow"
    manifest = project / ".spinegate" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["functions"] = [f for f in data["functions"] if f["function"] != "WebSearch"]
    manifest.write_text(json.dumps(data, indent=1))
    seal_manifest(manifest)
    verdict, reason = decision(hook(project, read).stdout)
    assert verdict == "deny" and "MANIFEST_INTEGRITY_FAILURE" in reason
    os.kill(helper_pid(project), signal.SIGHUP)
    assert wait_for(lambda: any(r["action"]["operation"] == "reload" for r in receipts(project)))
    assert decision(hook(project, read).stdout)[0] == "allow"

    data["functions"] = [f for f in data["functions"] if f["function"] != "WebFetch"]
    manifest.write_text(json.dumps(data, indent=1))  # changed, not sealed again
    refused = serve(project, "--reload")
    assert refused.returncode == 1 and "manifest_hash" in refused.stderr
    assert "MANIFEST_INTEGRITY_FAILURE" in decision(hook(project, read).stdout)[1]
    seal_manifest(manifest)
    reloaded = serve(project, "--reload")
    assert reloaded.returncode == 0 and "reload receipt" in reloaded.stdout
    assert decision(hook(project, read).stdout)[0] == "allow"
    assert [r["action"]["operation"] for r in receipts(project)].count("reload") == 2
    assert verify_path(project / ".spinegate" / "receipts.jsonl").ok


def test_the_helper_exits_when_idle(project: Path) -> None:
    hook(project, pre("Read", {"file_path": str(project / "a")}, use_id="t1"),
         env={"SPINEGATE_HELPER_IDLE_TIMEOUT": "0.5"})
    sock = project / ".spinegate" / "run" / "helper.sock"
    assert wait_for(lambda: not sock.exists() and not (project / ".spinegate" / "run" / "helper.pid").exists())
    assert serve(project, "--status").returncode == 1
    again = hook(project, pre("Read", {"file_path": str(project / "a")}, use_id="t2"))  # started again
    assert decision(again.stdout)[0] == "allow"
    assert verify_path(project / ".spinegate" / "receipts.jsonl").ok


def test_posture_set_goes_through_the_running_helper(project: Path) -> None:
    for n in range(6):
        hook(project, pre("Bash", {"command": "rm -rf /tmp/elsewhere"}, use_id=f"d{n}"))
    write = pre("Write", {"file_path": str(project / "a.txt"), "content": "x"}, use_id="w1")
    assert "LOCKDOWN" in decision(hook(project, write).stdout)[1]
    log = project / ".spinegate" / "receipts.jsonl"
    done = subprocess.run([sys.executable, "-m", "spinegate.cli", "posture", "set", str(log), "--session", "s1",
                           "NORMAL", "--by", "alice"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "restored from LOCKDOWN to NORMAL by alice" in done.stdout, done.stderr
    assert decision(hook(project, write).stdout)[0] == "allow"
    count = len(receipts(project))
    typo = subprocess.run([sys.executable, "-m", "spinegate.cli", "posture", "set", str(log), "--session", "s2",
                           "NORMAL"], capture_output=True, text=True, timeout=60)
    assert typo.returncode == 1 and "no receipts" in typo.stderr  # no new chain for a mistyped session id
    assert len(receipts(project)) == count
    report = verify_path(log)
    assert report.ok and report.sessions == 1


def test_posture_set_without_a_helper_continues_the_session_from_the_log(project: Path) -> None:
    hook(project, pre("Read", {"file_path": str(project / "a")}, use_id="t1"))
    stop_helper(project)
    log = project / ".spinegate" / "receipts.jsonl"
    base = [sys.executable, "-m", "spinegate.cli", "posture", "set", str(log), "--session"]
    done = subprocess.run([*base, "s1", "LOCKDOWN"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "from NORMAL to LOCKDOWN" in done.stdout, done.stderr
    unknown = subprocess.run([*base, "nobody", "NORMAL"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and "no receipts" in unknown.stderr
    assert "LOCKDOWN" in decision(hook(project, pre("Write", {"file_path": str(project / "b"), "content": ""},
                                                    use_id="w1")).stdout)[1]
    hook(project, prompt())
    assert receipts(project)[-1]["action"]["operation"] == "posture"
    assert verify_path(log).ok


def test_when_no_helper_can_start_the_call_is_decided_in_process_or_blocked(tmp_path: Path) -> None:
    project = init_project(tmp_path / "proj")
    run_dir = project / ".spinegate" / "run"
    for child in sorted(run_dir.rglob("*"), reverse=True):
        child.rmdir() if child.is_dir() else child.unlink()
    run_dir.rmdir()
    run_dir.write_text("not a directory")  # no socket, no lock, no index can be made here
    blocked = hook(project, pre("Read", {"file_path": str(project / "a")}, use_id="t1"))
    assert blocked.returncode == 2 and "blocked" in blocked.stderr
    assert receipts(project) == []


def test_in_process_decides_with_the_same_answers(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "spinegate.cli", "hook", "--in-process", "--project", str(project)],
                          input=pre("Read", {"file_path": str(project / "a")}, use_id="t1"), capture_output=True,
                          text=True, timeout=60, cwd=project)
    assert done.returncode == 0 and decision(done.stdout)[0] == "allow"
    assert not (project / ".spinegate" / "run" / "helper.sock").exists()
    assert receipts(project)[0]["proposal_id"] == "t1"


@pytest.mark.parametrize("host", ["claude-code", "codex", "gemini", "cursor"])
def test_the_command_init_writes_blocks_when_spinegate_cannot_be_started(tmp_path: Path, host: str) -> None:
    from spinegate.hosts import host_named
    from spinegate.hosts.wiring import hook_command

    command = hook_command(host_named(host), str(tmp_path / "gone" / "python3"), str(tmp_path / "gone.py"))
    done = subprocess.run(["sh", "-c", command], input="{}", capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 2 and "pip install spinegate" in done.stderr


def test_the_command_init_writes_runs_the_thin_client(project: Path) -> None:
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    done = subprocess.run(["sh", "-c", command], input=pre("Read", {"file_path": str(project / "a")}, use_id="t1"),
                          capture_output=True, text=True, timeout=60, cwd=project,
                          env={"PATH": "/usr/bin:/bin", "CLAUDE_PROJECT_DIR": str(project)})
    assert done.returncode == 0 and decision(done.stdout)[0] == "allow", done.stderr
    broken = subprocess.run(["sh", "-c", command], input="{oops", capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "CLAUDE_PROJECT_DIR": str(project)})
    assert broken.returncode == 2 and "not JSON" in broken.stderr


def test_parallel_first_calls_share_one_helper_and_one_chain(project: Path) -> None:
    """An agent's first turn often asks for several tools at once: every call is answered, by one helper."""
    from concurrent.futures import ThreadPoolExecutor

    def call(n: int) -> subprocess.CompletedProcess[str]:
        return hook(project, pre("Read", {"file_path": str(project / f"f{n}.txt")}, use_id=f"p{n}"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        done = list(pool.map(call, range(6)))
    assert [decision(d.stdout)[0] for d in done] == ["allow"] * 6, [d.stderr for d in done]
    assert sorted(r["proposal_id"] for r in receipts(project)) == [f"p{n}" for n in range(6)]
    report = verify_path(project / ".spinegate" / "receipts.jsonl")
    assert report.ok and report.sessions == 1
