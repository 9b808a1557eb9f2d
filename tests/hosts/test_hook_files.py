"""`spinegate hook --manifest M --receipts R`: one event on stdin, gated against explicit files, in process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from spinegate.cli import main
from spinegate.verify import verify_path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture()
def manifest(tmp_path: Path) -> Path:
    target = tmp_path / "manifest.json"
    shutil.copy(SAMPLES / "manifest.json", target)
    return target


def run(manifest: Path, log: Path, payload: object, *extra: str) -> tuple[int, str, str]:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    result = CliRunner().invoke(main, ["hook", "--manifest", str(manifest), "--receipts", str(log), *extra],
                                input=text)
    return result.exit_code, result.stdout, result.stderr


def decision_of(out: str) -> dict[str, str]:
    answer = json.loads(out)["hookSpecificOutput"]
    assert answer["hookEventName"] == "PreToolUse"
    return answer


def test_declared_call_is_allowed_with_a_receipt(manifest: Path, tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    code, out, _ = run(manifest, log, {"hook_event_name": "PreToolUse", "tool_name": "search",
                                       "tool_input": {"q": "x"}, "session_id": "s1", "tool_use_id": "toolu_1"})
    assert code == 0
    answer = decision_of(out)
    receipt = json.loads(log.read_text().splitlines()[0])
    assert answer["permissionDecision"] == "allow" and receipt["receipt_id"] in answer["permissionDecisionReason"]
    assert receipt["proposal_id"] == "toolu_1" and receipt["executor"]["type"] == "claude-code"
    assert receipt["session_id"] == "s1"


def test_undeclared_call_is_denied_with_a_reason_the_model_can_use(manifest: Path, tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    code, out, _ = run(manifest, log, {"tool_name": "Bash", "tool_input": {"command": "rm -rf /"}})
    assert code == 0
    answer = decision_of(out)
    receipt = json.loads(log.read_text().splitlines()[0])
    reason = answer["permissionDecisionReason"]
    assert answer["permissionDecision"] == "deny"
    assert "TOOL_NOT_IN_MANIFEST" in reason and "not declared in the manifest" in reason
    assert receipt["receipt_id"] in reason and "did not run" in reason and "Instead:" in reason
    assert verify_path(log).ok


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", {"tool_input": {}}, {"tool_name": "search", "tool_input": 3},
                                     {"tool_name": "search", "session_id": "../../etc"}, "[" * 100_000,
                                     '{"tool_name": "search", "tool_input": {"q": ' + "[" * 100_000 + "}}"])
def test_bad_input_blocks_and_writes_nothing(manifest: Path, tmp_path: Path, payload: object) -> None:
    log = tmp_path / "r.jsonl"
    code, _, err = run(manifest, log, payload)
    assert code == 2 and "blocked" in err
    assert not log.exists() or log.read_text() == ""


def test_tampered_manifest_blocks(manifest: Path, tmp_path: Path) -> None:
    manifest.write_text(manifest.read_text().replace('"allowed": false', '"allowed": true'))
    code, _, err = run(manifest, tmp_path / "r.jsonl", {"tool_name": "search", "tool_input": {}})
    assert code == 2 and "manifest_hash mismatch" in err


def test_one_session_across_processes_stays_one_chain(manifest: Path, tmp_path: Path) -> None:
    """Parallel hook processes for one session must not fork its chain."""
    log = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "spinegate.cli", "hook", "--manifest", str(manifest), "--receipts", str(log)]

    def one(i: int) -> int:
        payload = json.dumps({"tool_name": "search", "tool_input": {"i": i}, "session_id": "shared",
                              "tool_use_id": f"t{i}"})
        return subprocess.run(cmd, input=payload, capture_output=True, text=True, timeout=60).returncode

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(one, range(12)))
    assert codes == [0] * 12
    report = verify_path(log)
    assert report.ok, [str(f) for f in report.failures]
    assert report.receipts == 12 and report.sessions == 1


def test_any_unexpected_failure_blocks_with_exit_2(manifest: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 1 tells such agents "hook error, run the tool anyway": the hook must exit 2 whatever goes wrong."""
    from spinegate.hosts import service

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service.HookService, "answer", explode)
    code, _, err = run(manifest, tmp_path / "r.jsonl", {"tool_name": "search", "tool_input": {}})
    assert code == 2 and "blocked this call: RuntimeError: disk on fire" in err


def test_unusable_log_blocks(manifest: Path, tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    log.write_text('{"session_id":"s1","sequence_number":"one"}\n')
    code, _, err = run(manifest, log, {"tool_name": "search", "tool_input": {}, "session_id": "s1"})
    assert code == 2 and "not a valid receipt" in err
    assert log.read_text().count("\n") == 1  # nothing appended to a chain that cannot be continued


def test_lock_held_by_a_stuck_hook_blocks_instead_of_hanging(manifest: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    from spinegate.cli import hook

    log = tmp_path / "r.jsonl"
    monkeypatch.setattr(hook, "LOCK_WAIT", 0.05)
    with FileLock(f"{log}.hook.lock"):  # another hook process, stuck while holding the lock
        with ThreadPoolExecutor(1) as pool:  # filelock locks are per thread: ask from another one
            code, _, err = pool.submit(run, manifest, log, {"tool_name": "search", "tool_input": {}}).result()
    assert code == 2 and "hook.lock" in err
    assert not log.exists()


@pytest.mark.parametrize("host", ["codex", "gemini", "cursor"])
def test_every_host_blocks_bad_input_with_exit_2(manifest: Path, tmp_path: Path, host: str) -> None:
    code, _, err = run(manifest, tmp_path / "r.jsonl", "{", "--host", host)
    assert code == 2 and "not JSON" in err
