"""The sample's real-model path: ChatOpenAI against a local server on 127.0.0.1 that plays the model."""

from __future__ import annotations

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

pytest.importorskip("langchain_openai")

ROOT = Path(__file__).resolve().parents[2]


def completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {"id": "chatcmpl-local", "object": "chat.completion", "created": 0, "model": "local-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class FakeOpenAI(BaseHTTPRequestHandler):
    """First request: ask for read_note and delete_note in parallel. Later: answer with the tool results seen."""

    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.requests.append(body)
        tool_results = [m for m in body["messages"] if m.get("role") == "tool"]
        if not tool_results:
            reply = completion({"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_r", "type": "function",
                 "function": {"name": "read_note", "arguments": json.dumps({"name": "notes.txt"})}},
                {"id": "call_d", "type": "function",
                 "function": {"name": "delete_note", "arguments": json.dumps({"name": "notes.txt"})}},
            ]}, "tool_calls")
        else:
            reply = completion({"role": "assistant", "content": "results: " + " | ".join(
                str(m["content"]) for m in tool_results)}, "stop")
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    FakeOpenAI.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


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
