"""A local stand-in for the OpenAI chat completions endpoint, for tests and demos without an API key.

    with FakeChatModel(ToolThenAnswer([("call_1", "Files-Read", {"path": "a.txt"})])) as model:
        client = AsyncOpenAI(api_key="local", base_url=model.base_url)
        service = OpenAIChatCompletion(ai_model_id="local-model", async_client=client)

It serves ``POST .../chat/completions`` on 127.0.0.1 (a free port), keeps
every request body in `requests`, and answers with whatever its script
returns for the request. Semantic Kernel's own OpenAI connector talks to it
over real HTTP, so the whole auto function calling loop runs unmodified.
Standard library only; no network beyond the loopback interface.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Sequence

Script = Callable[[dict[str, Any]], dict[str, Any]]
ToolCallSpec = tuple[str, str, dict[str, Any]]  # (tool-call id, "Plugin-Function", arguments)


def chat_completion(message: dict[str, Any], *, finish_reason: str, model: str = "local-model") -> dict[str, Any]:
    """A complete `chat.completion` response object holding one choice."""
    return {
        "id": f"chatcmpl-local-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def tool_calls_reply(calls: Iterable[ToolCallSpec], *, model: str = "local-model") -> dict[str, Any]:
    """A response in which the model asks for the given tool calls (all in one turn)."""
    tool_calls = [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        for call_id, name, arguments in calls
    ]
    return chat_completion({"role": "assistant", "content": None, "tool_calls": tool_calls},
                           finish_reason="tool_calls", model=model)


def text_reply(text: str, *, model: str = "local-model") -> dict[str, Any]:
    """A response in which the model answers with text and calls nothing."""
    return chat_completion({"role": "assistant", "content": text}, finish_reason="stop", model=model)


def stream_chunks(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` objects that stream `reply` (a `chat.completion`), for ``stream: true``."""
    chunks: list[dict[str, Any]] = []
    base = {"id": reply["id"], "object": "chat.completion.chunk", "created": reply["created"], "model": reply["model"]}
    for choice in reply["choices"]:
        message = choice["message"]
        delta: dict[str, Any] = {"role": message.get("role", "assistant")}
        if message.get("content") is not None:
            delta["content"] = message["content"]
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
        chunks.append({**base, "choices": [{"index": choice["index"], "delta": delta, "finish_reason": None}]})
        chunks.append({**base, "choices": [{"index": choice["index"], "delta": {},
                                             "finish_reason": choice["finish_reason"]}]})
    return chunks


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The `tool` role messages (function results) a request sends back to the model."""
    return [m for m in request.get("messages", []) if m.get("role") == "tool"]


class ToolThenAnswer:
    """Script of a model that asks for `calls` once, then answers in text from the tool results.

    The answer quotes each tool message, so a test or a reader of the demo sees
    exactly what the model was told (including any refusal).
    """

    def __init__(self, calls: Sequence[ToolCallSpec], *, model: str = "local-model") -> None:
        self.calls = list(calls)
        self.model = model

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        results = tool_messages(request)
        if not results:
            return tool_calls_reply(self.calls, model=self.model)
        lines = [f"- {m.get('tool_call_id')}: {m.get('content')}" for m in results]
        return text_reply("Here is what the tools said:\n" + "\n".join(lines), model=self.model)


class FakeChatModel:
    """An HTTP server on 127.0.0.1 that plays an OpenAI chat model from a script.

    `script` is a callable taking the request body and returning the response
    body, or a list of response bodies served in order. Use as a context
    manager, or call `start()` and `stop()`.
    """

    def __init__(self, script: Script | Sequence[dict[str, Any]]) -> None:
        if callable(script):
            self._script: Script = script
        else:
            replies = list(script)

            def in_order(_request: dict[str, Any]) -> dict[str, Any]:
                if not replies:
                    raise RuntimeError("the scripted model has no reply left")
                return replies.pop(0)

            self._script = in_order
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The `base_url` to give an OpenAI client (ends in ``/v1``)."""
        if self._server is None:
            raise RuntimeError("the fake model is not running: call start() or use it in a with block")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/v1"

    def start(self) -> "FakeChatModel":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "request body is not JSON", "type": "invalid_request"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                with owner._lock:
                    owner.requests.append(body)
                    try:
                        reply = owner._script(body)
                    except Exception as exc:  # noqa: BLE001 - report to the client, do not hang it
                        self._send(500, {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server"}})
                        return
                if body.get("stream"):
                    self._send_stream(reply)
                else:
                    self._send(200, reply)

            def _send_stream(self, reply: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for chunk in stream_chunks(reply):
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-chat-model", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeChatModel":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
