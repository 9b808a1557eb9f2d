"""The sample's real-model path: ChatOpenAI against a local server on 127.0.0.1 that plays the model."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from loopback_model import LoopbackModel, tool_then_answer

pytest.importorskip("langchain_openai")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[str]:
    """First request: ask for read_note and delete_note in parallel. Later: answer quoting the tool results seen."""
    script = tool_then_answer([("call_r", "read_note", {"name": "notes.txt"}),
                               ("call_d", "delete_note", {"name": "notes.txt"})], model="local-model")
    with LoopbackModel(chat=script) as model:
        yield model.base_url


def load_demo() -> Any:
    spec = importlib.util.spec_from_file_location("langchain_demo_under_test", ROOT / "samples" / "langchain_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_with_chat_openai_against_a_local_server(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    monkeypatch.setenv("OPENAI_BASE_URL", server)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    code = load_demo().main(["--workdir", str(tmp_path)])
    done = SimpleNamespace(stdout=capsys.readouterr().out)
    assert code == 0, done.stdout
    assert "== real model ==" in done.stdout
    assert (tmp_path / "real" / "notes.txt").exists()
    rows = [json.loads(line) for line in (tmp_path / "real" / "receipts.jsonl").read_text().splitlines()]
    decisions = {r["proposal_id"]: r for r in rows if r["action"]["operation"] == "decision"}
    assert decisions["call_r"]["result"]["status"] == "success"
    assert decisions["call_d"]["result"]["status"] == "blocked"
    assert decisions["call_d"]["executor"]["model"] == "local-model"
    # the model saw the refusal, with the receipt id, as the delete_note result
    final = done.stdout.split("== real model ==", 1)[1]
    assert decisions["call_d"]["receipt_id"] in final
