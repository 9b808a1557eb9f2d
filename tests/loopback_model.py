"""A model played by a small HTTP server on 127.0.0.1: the stand-in for the OpenAI API in tests and demos.

    with LoopbackModel(chat=[chat_completion(tool_calls=[chat_tool_call("c1", "search", {"q": "x"})]),
                             chat_completion(content="done")]) as model:
        client = model.client()                # a real openai.OpenAI pointed at 127.0.0.1
        ...
        model.requests_to("chat")[-1]          # the bodies the client actually sent

It serves ``POST .../chat/completions`` (as JSON, or as server-sent events
when the request asks to stream) and ``POST .../responses``. Each endpoint
answers from a script: a function of the request body, or a list of payloads
served in order (an entry may itself be a function of the body); when a list
runs out, the `model` (a `ScriptedModel`) answers if one is given, else the
server answers 500. Real clients (the OpenAI SDK, Semantic Kernel's and
LangChain's OpenAI connectors) talk to it over real HTTP, so their whole
tool-calling loops run unmodified. It binds 127.0.0.1 on a free port and
reaches no network. Standard library only.

Test-only: it ships in no distribution. The samples use it from a clone
(they put this folder on ``sys.path``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Payload = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]
Script = Callable[[dict[str, Any]], Mapping[str, Any]]
ToolCallSpec = tuple[str, str, Any]  # (tool-call id, function name, arguments as the model writes them)

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


def _arguments(arguments: Any) -> str:
    """A string is sent as written (it may be invalid JSON on purpose); anything else as JSON."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


# -- Chat Completions payloads ------------------------------------------------------------------


def chat_tool_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    """One function tool call; `arguments` as the model writes them (a string may be invalid JSON)."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": _arguments(arguments)}}


def chat_custom_tool_call(call_id: str, name: str, text: str) -> dict[str, Any]:
    """A custom (free-text, non-function) tool call."""
    return {"id": call_id, "type": "custom", "custom": {"name": name, "input": text}}


def chat_completion(*, content: str | None = None, tool_calls: Iterable[Mapping[str, Any]] = (),
                    model: str = "gpt-test") -> dict[str, Any]:
    """A whole ``chat.completion`` body with one choice: text, tool calls, or both."""
    calls = [dict(c) for c in tool_calls]
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": _next_id("chatcmpl"), "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def tool_calls_reply(calls: Iterable[ToolCallSpec], *, model: str = "local-model") -> dict[str, Any]:
    """A completion in which the model asks for the given tool calls (all in one turn)."""
    return chat_completion(tool_calls=[chat_tool_call(*c) for c in calls], model=model)


def text_reply(text: str, *, model: str = "local-model") -> dict[str, Any]:
    """A completion in which the model answers with text and calls nothing."""
    return chat_completion(content=text, model=model)


def stream_chunks(reply: Mapping[str, Any]) -> list[dict[str, Any]]:
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


def tool_messages(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `tool` role messages (function results) a Chat Completions request sends back to the model."""
    return [m for m in request.get("messages", []) if isinstance(m, dict) and m.get("role") == "tool"]


# -- Responses API payloads -------------------------------------------------------------------


def function_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    """A Responses ``function_call`` output item."""
    return {"type": "function_call", "id": _next_id("fc"), "call_id": call_id, "name": name,
            "arguments": _arguments(arguments), "status": "completed"}


def custom_tool_call(call_id: str, name: str, text: str) -> dict[str, Any]:
    """A Responses ``custom_tool_call`` output item."""
    return {"type": "custom_tool_call", "id": _next_id("ctc"), "call_id": call_id, "name": name, "input": text}


def reasoning_item() -> dict[str, Any]:
    """A reasoning item, which needs no answer."""
    return {"type": "reasoning", "id": _next_id("rs"), "summary": []}


def output_message(text: str) -> dict[str, Any]:
    """An assistant message output item."""
    return {"type": "message", "id": _next_id("msg"), "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def response(output: Iterable[Mapping[str, Any]], *, model: str = "gpt-test",
             response_id: str | None = None) -> dict[str, Any]:
    """A whole ``response`` body."""
    return {
        "id": response_id or _next_id("resp"), "object": "response", "created_at": int(time.time()),
        "status": "completed", "model": model, "output": [dict(i) for i in output],
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "temperature": 1.0, "top_p": 1.0,
        "error": None, "incomplete_details": None, "instructions": None, "metadata": {},
        "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
                  "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15},
    }


# -- models that follow a script -------------------------------------------------------------


class ScriptedModel:
    """Plays a model in both APIs: first asks for `calls`, then answers with what the tools returned.

    `calls` are (call id, tool name, arguments as the model writes them). A
    request that already carries tool outputs gets a final text answer that
    quotes them, so a test or a demo shows exactly what the model was told
    (including any refusal).
    """

    def __init__(self, calls: Iterable[ToolCallSpec], *, model: str = "gpt-test") -> None:
        self.calls = list(calls)
        self.model = model

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a Chat Completions request body."""
        told = tool_messages(body)
        if told:
            return chat_completion(content=self._summary([f"{m.get('tool_call_id')}: {m.get('content')}"
                                                          for m in told]), model=self.model)
        return tool_calls_reply(self.calls, model=self.model)

    def responses(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a Responses request body."""
        items = body.get("input")
        told = [f"{i.get('call_id')}: {i.get('output')}" for i in items
                if isinstance(i, dict) and str(i.get("type", "")).endswith("_output")] \
            if isinstance(items, list) else []
        if told:
            return response([output_message(self._summary(told))], model=self.model)
        return response([reasoning_item(), *[function_call(*c) for c in self.calls]], model=self.model)

    @staticmethod
    def _summary(told: list[str]) -> str:
        return "Here is what the tools said:\n" + "\n".join(f"- {t}" for t in told)


# -- the server -------------------------------------------------------------------------------


def serve_in_background(server: ThreadingHTTPServer, name: str) -> threading.Thread:
    """Run `server` on a daemon thread that stops quickly (shared by the test models)."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=name, daemon=True)
    thread.start()
    return thread


def stop_serving(server: ThreadingHTTPServer | None, thread: threading.Thread | None) -> None:
    """Stop a server started by `serve_in_background` and wait for its thread."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=5)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received: its path and parsed JSON body."""

    path: str
    body: dict[str, Any]


_ENDPOINTS = {"chat": "/chat/completions", "responses": "/responses"}


class LoopbackModel:
    """Serves scripted Chat Completions and Responses payloads on 127.0.0.1 and records every request.

    `chat` and `responses` are each a script (a function of the request body)
    or payloads served in order. Create clients with ``max_retries=0`` (as
    `client` and `async_client` do) so a missing payload shows up at once.
    """

    def __init__(self, *, chat: Script | Iterable[Payload] = (), responses: Script | Iterable[Payload] = (),
                 model: ScriptedModel | None = None) -> None:
        self.model = model  # answers whatever the queues do not
        self._scripts: dict[str, Script | None] = {}
        self._queues: dict[str, deque[Payload]] = {}
        for endpoint, given in (("chat", chat), ("responses", responses)):
            self._scripts[endpoint] = given if callable(given) else None
            self._queues[endpoint] = deque() if callable(given) else deque(given)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------------

    def add_chat(self, *payloads: Payload) -> None:
        with self._lock:
            self._queues["chat"].extend(payloads)

    def add_responses(self, *payloads: Payload) -> None:
        with self._lock:
            self._queues["responses"].extend(payloads)

    def requests_to(self, endpoint: str) -> list[dict[str, Any]]:
        """Bodies sent to ``"chat"`` (/chat/completions) or ``"responses"`` (/responses), in order."""
        suffix = _ENDPOINTS[endpoint]
        with self._lock:
            return [r.body for r in self.requests if r.path.rstrip("/").endswith(suffix)]

    # -- clients -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The `base_url` to give an OpenAI client (ends in ``/v1``)."""
        if self._server is None:
            raise RuntimeError("the loopback model is not running: use it as a context manager or call start()")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def client(self, **kwargs: Any) -> Any:
        """A real ``openai.OpenAI`` client pointed at this server."""
        from openai import OpenAI

        return OpenAI(api_key="sk-test-not-a-key", base_url=self.base_url, max_retries=0, **kwargs)

    def async_client(self, **kwargs: Any) -> Any:
        """A real ``openai.AsyncOpenAI`` client pointed at this server."""
        from openai import AsyncOpenAI

        return AsyncOpenAI(api_key="sk-test-not-a-key", base_url=self.base_url, max_retries=0, **kwargs)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LoopbackModel:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

            def do_POST(self) -> None:  # http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                status, payload = owner._answer(self.path, body)
                if status == 200 and body.get("stream") is True and "choices" in payload:
                    self._stream(payload)
                else:
                    self._send(status, payload)

            def _send(self, status: int, payload: Mapping[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Mapping[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for chunk in stream_chunks(reply):
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = serve_in_background(self._server, "loopback-model")
        return self

    def stop(self) -> None:
        stop_serving(self._server, self._thread)
        self._server, self._thread = None, None

    def __enter__(self) -> LoopbackModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, Mapping[str, Any]]:
        endpoint = next((e for e, suffix in _ENDPOINTS.items() if path.rstrip("/").endswith(suffix)), None)
        with self._lock:
            self.requests.append(RecordedRequest(path, body))
            if endpoint is None:
                return 404, {"error": {"message": f"no route for {path}", "type": "invalid_request_error"}}
            queue, script = self._queues[endpoint], self._scripts[endpoint]
            entry: Payload
            if script is not None:
                entry = script
            elif queue:
                entry = queue.popleft()
            elif self.model is not None:
                entry = self.model.chat if endpoint == "chat" else self.model.responses
            else:
                return 500, {"error": {"message": f"no scripted payload left for {path}", "type": "server_error"}}
        try:
            payload = entry(body) if callable(entry) else entry
            return 200, dict(payload)
        except Exception as exc:  # noqa: BLE001 - a broken script shows up as a server error, not a hang
            return 500, {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}}


def tool_then_answer(calls: Sequence[ToolCallSpec], *, model: str = "local-model") -> Script:
    """A chat script: the model asks for `calls` once, then answers in text quoting the tool results."""
    return ScriptedModel(calls, model=model).chat
