"""A model played by a small HTTP server on 127.0.0.1: the stand-in for the Anthropic Messages API.

    with AnthropicModel([tool_use("toolu_1", "Bash", {"command": "ls"}), text("done")]) as model:
        env = {"ANTHROPIC_BASE_URL": model.base_url, ...}   # the real Claude Code CLI talks to it
        ...
        model.tool_results()          # the tool_result blocks the client sent back, by tool_use id

It serves ``POST /v1/messages`` both as one JSON message and, when the
request asks to stream, as the server-sent events the API sends
(``message_start``, ``content_block_start``/``_delta``/``_stop``,
``message_delta``, ``message_stop``), and ``POST /v1/messages/count_tokens``.

A request that offers tools is a turn of the agent's loop: the n-th such
turn after the person's latest prompt (counted by the assistant messages
since it) gets the n-th scripted reply, and once the script runs out a
final text. Requests
without tools (titles, summaries, the client's own checks) get a short text.
Every request is recorded. `streaming=False` breaks streamed answers so the
client falls back to plain ones. Standard library only; test-only.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from loopback_model import serve_in_background, stop_serving

Block = dict[str, Any]
Reply = list[Block]  # the content blocks of one assistant message

_ids = itertools.count(1)


def tool_use(tool_use_id: str, name: str, arguments: Mapping[str, Any]) -> Reply:
    """An assistant turn that asks for one tool call."""
    return [{"type": "tool_use", "id": tool_use_id, "name": name, "input": dict(arguments)}]


def tool_uses(*calls: tuple[str, str, Mapping[str, Any]]) -> Reply:
    """An assistant turn that asks for several tool calls at once."""
    return [block for call in calls for block in tool_use(*call)]


def text(words: str) -> Reply:
    """An assistant turn that answers in text and calls nothing."""
    return [{"type": "text", "text": words}]


def _has_tool_result(message: Mapping[str, Any]) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def _message(content: Reply, model: str) -> dict[str, Any]:
    stop = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    return {"id": f"msg_{next(_ids):06d}", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0}}


def _events(message: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """The server-sent events that stream `message`, as (event name, data)."""
    start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}}
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "text_delta", "text": block["text"]}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {**block, "input": {}}}
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "input_json_delta",
                                                    "partial_json": json.dumps(block["input"])}}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": message["usage"]["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}


class AnthropicModel:
    """Serves a script of assistant turns on 127.0.0.1 and records every request body."""

    def __init__(self, script: Sequence[Reply], *, final: str = "All done.", model: str = "claude-test",
                 streaming: bool = True) -> None:
        """`streaming=False` breaks every streamed answer after its first event, so a client that falls
        back to plain requests (as Claude Code does) is served whole JSON messages instead."""
        self.streaming = streaming
        self.script = list(script)
        self.final = final
        self.model = model
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the model is not running: use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def turns(self) -> list[dict[str, Any]]:
        """The bodies of the agent-loop requests (those that offered tools), in order."""
        with self._lock:
            return [body for path, body in self.requests if body.get("tools") and "count_tokens" not in path]

    def tool_results(self) -> dict[str, dict[str, Any]]:
        """Every tool_result block the client sent back, by its tool_use id (the last one sent wins)."""
        found: dict[str, dict[str, Any]] = {}
        for body in self.turns():
            for message in body.get("messages", []):
                content = message.get("content")
                if message.get("role") != "user" or not isinstance(content, list):
                    continue
                for block in content:
                    if isinstance(block, dict) and block.get("type") == "tool_result":
                        found[str(block.get("tool_use_id"))] = block
        return found

    def reply_for(self, body: Mapping[str, Any]) -> Reply:
        if not body.get("tools"):
            return text("ok")
        step = 0  # assistant turns since the person's latest prompt (a resumed conversation starts over)
        for message in body.get("messages", []):
            if not isinstance(message, dict):
                continue
            if message.get("role") == "assistant":
                step += 1
            elif message.get("role") == "user" and not _has_tool_result(message):
                step = 0
        return self.script[step] if step < len(self.script) else text(self.final)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> AnthropicModel:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_HEAD(self) -> None:  # a client checking that the server is there
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                if not isinstance(body, dict):
                    body = {}
                with owner._lock:
                    owner.requests.append((self.path, body))
                path = self.path.split("?", 1)[0].rstrip("/")
                if path.endswith("/count_tokens"):
                    self._send(200, {"input_tokens": 100})
                    return
                if not path.endswith("/v1/messages"):
                    self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
                    return
                message = _message(owner.reply_for(body), str(body.get("model") or owner.model))
                if body.get("stream") and not owner.streaming:
                    self._broken_stream(message)
                elif body.get("stream"):
                    self._stream(message)
                else:
                    self._send(200, message)

            def _send(self, status: int, payload: Mapping[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("request-id", f"req_{next(_ids):06d}")
                self.end_headers()
                self.wfile.write(data)

            def _broken_stream(self, message: Mapping[str, Any]) -> None:
                name, data = next(iter(_events(message)))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                self.close_connection = True  # the stream ends without message_stop

            def _stream(self, message: Mapping[str, Any]) -> None:
                chunks = b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                                  for name, data in _events(message))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(chunks)))
                self.send_header("request-id", f"req_{next(_ids):06d}")
                self.end_headers()
                self.wfile.write(chunks)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = serve_in_background(self._server, "anthropic-model")
        return self

    def __exit__(self, *exc: object) -> None:
        stop_serving(self._server, self._thread)
        self._server, self._thread = None, None
