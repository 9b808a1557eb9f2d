"""`spinegate manifest seal FILE` and `spinegate manifest check FILE`: exit codes 0 / 1 / 2 (issue item 2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from core_support import entry, independent_manifest_hash

from spinegate.cli import main as cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_check_valid_exits_0(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    code, out = run("manifest", "check", str(path))
    assert code == 0, out
    assert json.loads(path.read_text(encoding="utf-8"))["manifest_hash"] in out


def test_check_mismatch_exits_1_and_names_both_hashes(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest()
    doc = json.loads(path.read_text(encoding="utf-8"))
    stored = doc["manifest_hash"]
    doc["posture"] = "ELEVATED"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, out = run("manifest", "check", str(path))
    assert code == 1
    assert str(path) in out and stored in out and independent_manifest_hash(doc) in out


@pytest.mark.parametrize("functions", [
    [entry("A", "b", "SHELL_SAFE"), entry("A", "b", "SHELL_SAFE")],
    [entry("A", "b", "NOT_A_CLASS")],
    [entry("A", "b", "SHELL_SAFE", allowed="true")],  # type: ignore[arg-type]
], ids=["duplicate", "unknown-effect", "wrong-type"])
def test_check_invalid_content_exits_1_naming_the_entry(write_manifest: Callable[..., Path],
                                                        functions: list[dict[str, object]]) -> None:
    code, out = run("manifest", "check", str(write_manifest(functions)))
    assert code == 1 and "functions[" in out and "A.b" in out


#: Nested past the JSON parser's recursion limit, and parseable but too deep to validate and hash.
TOO_DEEP = b"[" * 100_000
DEEP = b'{"version": "1.0.0", "posture": "NORMAL", "functions": [], "x": ' + b"[" * 900 + b"]" * 900 + b"}"


@pytest.mark.parametrize("content", [None, b"{not json", b"\xff\xfe\x00", b"[1, 2]", TOO_DEEP, DEEP],
                         ids=["missing", "not-json", "not-utf8", "not-object", "too-deep-to-parse", "too-deep"])
@pytest.mark.parametrize("command", ["check", "seal"])
def test_check_unreadable_exits_2(tmp_path: Path, content: bytes | None, command: str) -> None:
    path = tmp_path / "m.json"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(cli, ["manifest", command, str(path)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert str(path) in result.output and "fix:" in result.output
    assert content is None or path.read_bytes() == content  # never sealed


@pytest.mark.parametrize("args", [TOO_DEEP.decode(), "[1]", "{"])
def test_check_call_with_unusable_arguments_is_a_usage_error(write_manifest: Callable[..., Path], args: str) -> None:
    result = CliRunner().invoke(cli, ["check", str(write_manifest()), "Read", "--plugin", "Files", "--args", args])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "spinegate check: --args" in result.output and "fix:" in result.output


def test_check_call_with_an_unreadable_manifest_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(TOO_DEEP)
    result = CliRunner().invoke(cli, ["check", str(path), "Read"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"spinegate check: {path}" in result.output


def test_check_directory_exits_2(tmp_path: Path) -> None:
    assert run("manifest", "check", str(tmp_path))[0] == 2


def test_seal_then_check(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest(seal=False)
    assert run("manifest", "check", str(path))[0] == 1
    code, out = run("manifest", "seal", str(path))
    assert code == 0, out
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["manifest_hash"] == independent_manifest_hash(doc) and doc["manifest_hash"] in out
    assert run("manifest", "check", str(path))[0] == 0


def test_seal_invalid_exits_1_and_leaves_file(write_manifest: Callable[..., Path]) -> None:
    path = write_manifest([entry("A", "b", "BOGUS")], seal=False)
    before = path.read_bytes()
    code, out = run("manifest", "seal", str(path))
    assert code == 1 and "BOGUS" in out
    assert path.read_bytes() == before


def test_seal_unreadable_exits_2(tmp_path: Path) -> None:
    assert run("manifest", "seal", str(tmp_path / "missing.json"))[0] == 2
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"version": ')
    assert run("manifest", "seal", str(bad))[0] == 2
    assert bad.read_bytes() == b'{"version": '


def test_usage_errors_exit_2() -> None:
    assert run("manifest", "check")[0] == 2
    assert run("manifest", "seal")[0] == 2
    assert run("manifest", "bogus", "x")[0] == 2
    assert run("no-such-command")[0] == 2


def _script() -> str | None:
    """The installed `spinegate` console script of this interpreter, if there is one."""
    candidate = Path(sysconfig.get_path("scripts")) / "spinegate"
    return str(candidate) if candidate.exists() else shutil.which("spinegate")


def test_manifest_commands_in_a_real_process(write_manifest: Callable[..., Path]) -> None:
    """Once through a real process: `python -m spinegate.cli`, and the installed script when present."""
    path = write_manifest(seal=False)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    module = [sys.executable, "-m", "spinegate.cli"]
    first = subprocess.run(module + ["manifest", "check", str(path)], capture_output=True, text=True, env=env,
                           timeout=60)
    assert first.returncode == 1, first.stderr
    sealed = subprocess.run(module + ["manifest", "seal", str(path)], capture_output=True, text=True, env=env,
                            timeout=60)
    assert sealed.returncode == 0, sealed.stderr
    command = [_script() or ""] if _script() else module
    ok = subprocess.run(command + ["manifest", "check", str(path)], capture_output=True, text=True, env=env,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(command + ["manifest", "check", str(path) + ".nope"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert missing.returncode == 2


def test_check_call_denies_when_classification_raises(write_manifest: Callable[..., Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from spinegate.classifier import EffectClassifier

    def explode(self: object, *args: object) -> None:
        raise RuntimeError("classifier exploded")

    monkeypatch.setattr(EffectClassifier, "classify", explode)
    result = CliRunner().invoke(cli, ["check", str(write_manifest()), "Read", "--plugin", "Files"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "EVALUATION_EXCEPTION: RuntimeError: classifier exploded" in result.output


def test_seal_that_cannot_write_exits_2_and_leaves_the_file(write_manifest: Callable[..., Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_manifest(seal=False)
    before = path.read_bytes()

    def refuse(*args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    result = CliRunner().invoke(cli, ["manifest", "seal", str(path)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "cannot write: Permission denied" in result.output and str(path) in result.output
    assert path.read_bytes() == before and list(path.parent.glob(f".{path.name}.*")) == []
