"""A local stand-in for the OpenAI API, for tests and demos that must not reach the internet.

    with FakeOpenAIServer(chat=[chat_completion(tool_calls=[chat_tool_call("c1", "search", {"q": "x"})]),
                                chat_completion(content="done")]) as server:
        client = server.client()              # a real openai.OpenAI pointed at 127.0.0.1
        ...
        server.requests[-1].body               # what the client actually sent

Canned payloads are served in order per endpoint (``/chat/completions`` and
``/responses``); an entry may also be a function of the request body. The
server records every request body. It binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Mapping, Union

Payload = Union[Mapping[str, Any], Callable[[dict[str, Any]], Mapping[str, Any]]]

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


def _arguments(arguments: Any) -> str:
    """A string is sent as written (it may be invalid JSON on purpose); anything else as JSON."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


# -- Chat Completions payloads -------------------------------------------------------


def chat_tool_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    """One function tool call; `arguments` as the model writes them (a string may be invalid JSON)."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": _arguments(arguments)}}


def chat_custom_tool_call(call_id: str, name: str, text: str) -> dict[str, Any]:
    """A custom (free-text, non-function) tool call."""
    return {"id": call_id, "type": "custom", "custom": {"name": name, "input": text}}


def chat_completion(*, content: str | None = None, tool_calls: Iterable[Mapping[str, Any]] = (),
                    model: str = "gpt-test") -> dict[str, Any]:
    """A whole ``chat.completion`` body with one choice."""
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


# -- Responses API payloads -------------------------------------------------------------


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


# -- a model that follows a script ---------------------------------------------------------------


class ScriptedModel:
    """Plays a model in both APIs: first asks for `calls`, then answers with what the tools returned.

    `calls` are (call id, tool name, arguments as the model writes them). A
    request that already carries tool outputs gets a final text answer that
    quotes them, so a demo shows what the model was told.
    """

    def __init__(self, calls: Iterable[tuple[str, str, Any]], *, model: str = "gpt-test") -> None:
        self.calls = list(calls)
        self.model = model

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a Chat Completions request body."""
        told = [m.get("content") for m in body.get("messages", []) if isinstance(m, dict) and m.get("role") == "tool"]
        if told:
            return chat_completion(content=self._summary(told), model=self.model)
        return chat_completion(tool_calls=[chat_tool_call(*c) for c in self.calls], model=self.model)

    def responses(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a Responses request body."""
        items = body.get("input")
        told = [i.get("output") for i in items if isinstance(i, dict) and i.get("type", "").endswith("_output")] \
            if isinstance(items, list) else []
        if told:
            return response([output_message(self._summary(told))], model=self.model)
        return response([reasoning_item(), *[function_call(*c) for c in self.calls]], model=self.model)

    @staticmethod
    def _summary(told: list[Any]) -> str:
        return "Here is what the tools said:\n" + "\n".join(f"- {t}" for t in told)


# -- the server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received: its path and parsed JSON body."""

    path: str
    body: dict[str, Any]


class FakeOpenAIServer:
    """Serves canned Chat Completions and Responses payloads on 127.0.0.1 and records requests.

    When an endpoint's queue is empty the `model` answers, if one is given;
    otherwise the server answers 500. Create clients
    with ``max_retries=0`` (as `client` and `async_client` do) so that shows
    up at once.
    """

    def __init__(self, *, chat: Iterable[Payload] = (), responses: Iterable[Payload] = (),
                 model: ScriptedModel | None = None) -> None:
        self.model = model  # answers whatever the queues do not
        self._queues: dict[str, deque[Payload]] = {"chat": deque(chat), "responses": deque(responses)}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -----------------------------------------------------------

    def add_chat(self, *payloads: Payload) -> None:
        with self._lock:
            self._queues["chat"].extend(payloads)

    def add_responses(self, *payloads: Payload) -> None:
        with self._lock:
            self._queues["responses"].extend(payloads)

    def requests_to(self, endpoint: str) -> list[dict[str, Any]]:
        """Bodies sent to ``"chat"`` (/chat/completions) or ``"responses"`` (/responses), in order."""
        suffix = "/chat/completions" if endpoint == "chat" else "/responses"
        with self._lock:
            return [r.body for r in self.requests if r.path.endswith(suffix)]

    # -- lifecycle -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running: use it as a context manager or call start()")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def client(self, **kwargs: Any) -> Any:
        """A real ``openai.OpenAI`` client pointed at this server."""
        from openai import OpenAI

        return OpenAI(api_key="sk-test-not-a-key", base_url=self.base_url, max_retries=0, **kwargs)

    def async_client(self, **kwargs: Any) -> Any:
        """A real ``openai.AsyncOpenAI`` client pointed at this server."""
        from openai import AsyncOpenAI

        return AsyncOpenAI(api_key="sk-test-not-a-key", base_url=self.base_url, max_retries=0, **kwargs)

    def start(self) -> "FakeOpenAIServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                status, payload = owner._answer(self.path, body)
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(RecordedRequest(path, body))
            if path.rstrip("/").endswith("/chat/completions"):
                queue = self._queues["chat"]
            elif path.rstrip("/").endswith("/responses"):
                queue = self._queues["responses"]
            else:
                return 404, {"error": {"message": f"no route for {path}", "type": "invalid_request_error"}}
            if not queue and self.model is not None:
                entry: Payload = self.model.chat if queue is self._queues["chat"] else self.model.responses
            elif not queue:
                return 500, {"error": {"message": f"no canned payload left for {path}", "type": "server_error"}}
            else:
                entry = queue.popleft()
        try:
            payload = entry(body) if callable(entry) else entry
            return 200, dict(payload)
        except Exception as exc:  # noqa: BLE001 - a broken script shows up as a server error, not a hang
            return 500, {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}}
