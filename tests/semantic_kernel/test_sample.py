"""samples/semantic_kernel_demo.py runs to exit 0, with the local model and through the real-service path."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from loopback_model import LoopbackModel, tool_then_answer
from spinegate import verify_path

from .conftest import REPO

DEMO = REPO / "samples" / "semantic_kernel_demo.py"


def _run(env: dict[str, str], workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DEMO), "--workdir", str(workdir), *extra],
                          capture_output=True, text=True, timeout=120, env=env)


def test_demo_without_api_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    done = _run(env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "local stand-in" in done.stdout
    assert "DESTRUCTIVE_OPERATION_BLOCKED" in done.stdout
    assert (tmp_path / "notes.txt").exists()  # the forbidden Delete never ran
    log = tmp_path / "receipts.jsonl"
    assert verify_path(log).ok
    ops = [(json.loads(line)["action"]["tool"], json.loads(line)["result"]["status"])
           for line in log.read_text(encoding="utf-8").splitlines()]
    assert ops == [("Files.Read", "success"), ("Files.Read", "success"), ("Files.Delete", "blocked")]


def _load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("semantic_kernel_demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_demo_service_path_with_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """With OPENAI_API_KEY set the demo builds SK's service from the environment; the base URL points it here.

    In-process (the subprocess run above already covers the script entry point).
    """
    demo = _load_demo()
    script = tool_then_answer([("call_r", "Files-Read", {"path": "notes.txt"}),
                             ("call_d", "Files-Delete", {"path": "notes.txt"})])
    with LoopbackModel(chat=script) as model:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
        monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "local-model")
        status = await demo.run(True, tmp_path)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "model: OpenAI local-model" in out
    assert len(model.requests_to("chat")) == 2
    assert model.requests_to("chat")[0]["model"] == "local-model"
    assert (tmp_path / "notes.txt").exists()
    assert verify_path(tmp_path / "receipts.jsonl").ok
