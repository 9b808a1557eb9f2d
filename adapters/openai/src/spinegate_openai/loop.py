"""The whole tool loop in one call: ask the model, gate and run its calls, send the results, repeat.

    result = run_tool_loop(client, gate, {"search": search}, model="gpt-4.1-mini",
                           messages=[{"role": "user", "content": "..."}], tool_specs=specs)
    print(result.response.choices[0].message.content)

Each loop makes at most `max_rounds` requests to the model. If the answer to
the last one still asks for tools, `ToolLoopLimitExceeded` is raised and those
calls are neither gated nor run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spinegate import Gate
from spinegate.errors import SpinegateError

from .interceptor import RESPONSES_CALL_TYPES, ToolCallInterceptor, ToolFunction, _get, parameters_from_specs


class ToolLoopLimitExceeded(SpinegateError):
    """The model still asked for tools after `max_rounds` requests."""

    def __init__(self, max_rounds: int, response: Any) -> None:
        self.max_rounds = max_rounds
        self.response = response
        super().__init__(f"the model still asked for tools after {max_rounds} requests (max_rounds); "
                         "its last tool calls were not run. Raise max_rounds or check the conversation.")


@dataclass
class ToolLoopResult:
    """The model's final answer and the conversation that led to it.

    `transcript` is the message list (Chat Completions) or every input item
    sent (Responses). `rounds` counts requests made to the model.
    """

    response: Any
    transcript: list[Any] = field(default_factory=list)
    rounds: int = 0
    results: list[Any] = field(default_factory=list)


def _setup(gate: Gate, tools: Mapping[str, ToolFunction], tool_specs: Sequence[Any] | None, plugin: str | None,
           interceptor: ToolCallInterceptor | None, max_rounds: int,
           create_kwargs: Mapping[str, Any]) -> tuple[ToolCallInterceptor, dict[str, Any]]:
    """The interceptor to use and the keyword arguments for every request."""
    if max_rounds < 1:
        raise ValueError("max_rounds must be at least 1")
    gatekeeper = interceptor or ToolCallInterceptor(gate, tools, plugin=plugin,
                                                    parameters=parameters_from_specs(tool_specs))
    extra = dict(create_kwargs)
    if tool_specs is not None:
        extra["tools"] = list(tool_specs)
    return gatekeeper, extra


def _assistant_message(message: Any) -> dict[str, Any]:
    if isinstance(message, Mapping):
        return dict(message)
    dumped: dict[str, Any] = message.model_dump(exclude_none=True, exclude_unset=True)
    return dumped


def _chat_calls(response: Any) -> tuple[Any, bool]:
    """The assistant message of a ChatCompletion and whether it asks for tools (no choices: it does not)."""
    choices = _get(response, "choices") or []
    message = _get(choices[0], "message") if choices else None
    return message, message is not None and bool(_get(message, "tool_calls"))


def _responses_has_calls(response: Any) -> bool:
    types = (_get(item, "type") for item in (_get(response, "output") or []))
    return any(isinstance(t, str) and t in RESPONSES_CALL_TYPES for t in types)


def run_tool_loop(client: Any, gate: Gate, tools: Mapping[str, ToolFunction], *, model: str,
                  messages: Iterable[Any], tool_specs: Sequence[Any] | None = None, max_rounds: int = 8,
                  plugin: str | None = None, interceptor: ToolCallInterceptor | None = None,
                  **create_kwargs: Any) -> ToolLoopResult:
    """Chat Completions tool loop with a sync `OpenAI` client. `create_kwargs` go to every request."""
    gatekeeper, extra = _setup(gate, tools, tool_specs, plugin, interceptor, max_rounds, create_kwargs)
    transcript = list(messages)
    results: list[Any] = []
    for round_number in range(1, max_rounds + 1):
        response = client.chat.completions.create(model=model, messages=transcript, **extra)
        message, has_calls = _chat_calls(response)
        if not has_calls:
            return ToolLoopResult(response, transcript, round_number, results)
        if round_number == max_rounds:
            raise ToolLoopLimitExceeded(max_rounds, response)
        transcript.append(_assistant_message(message))
        turn = gatekeeper.process(response)
        results.extend(turn)
        transcript.extend(r.reply for r in turn)
    raise AssertionError("unreachable")  # pragma: no cover


async def arun_tool_loop(client: Any, gate: Gate, tools: Mapping[str, ToolFunction], *, model: str,
                         messages: Iterable[Any], tool_specs: Sequence[Any] | None = None, max_rounds: int = 8,
                         plugin: str | None = None, interceptor: ToolCallInterceptor | None = None,
                         **create_kwargs: Any) -> ToolLoopResult:
    """`run_tool_loop` with an `AsyncOpenAI` client; the calls of one turn run concurrently."""
    gatekeeper, extra = _setup(gate, tools, tool_specs, plugin, interceptor, max_rounds, create_kwargs)
    transcript = list(messages)
    results: list[Any] = []
    for round_number in range(1, max_rounds + 1):
        response = await client.chat.completions.create(model=model, messages=transcript, **extra)
        message, has_calls = _chat_calls(response)
        if not has_calls:
            return ToolLoopResult(response, transcript, round_number, results)
        if round_number == max_rounds:
            raise ToolLoopLimitExceeded(max_rounds, response)
        transcript.append(_assistant_message(message))
        turn = await gatekeeper.aprocess(response)
        results.extend(turn)
        transcript.extend(r.reply for r in turn)
    raise AssertionError("unreachable")  # pragma: no cover


def run_responses_tool_loop(client: Any, gate: Gate, tools: Mapping[str, ToolFunction], *, model: str,
                            input: Any, tool_specs: Sequence[Any] | None = None, max_rounds: int = 8,
                            plugin: str | None = None, interceptor: ToolCallInterceptor | None = None,
                            **create_kwargs: Any) -> ToolLoopResult:
    """Responses API tool loop with a sync client, chained by `previous_response_id`.

    Each follow-up request sends only the call outputs and the previous
    response's id, so the service must store responses (the default).
    """
    gatekeeper, extra = _setup(gate, tools, tool_specs, plugin, interceptor, max_rounds, create_kwargs)
    transcript: list[Any] = list(input) if isinstance(input, list) else [input]
    next_input: Any = input
    previous: str | None = extra.pop("previous_response_id", None)
    results: list[Any] = []
    for round_number in range(1, max_rounds + 1):
        if previous is not None:
            extra["previous_response_id"] = previous
        response = client.responses.create(model=model, input=next_input, **extra)
        if not _responses_has_calls(response):
            return ToolLoopResult(response, transcript, round_number, results)
        if round_number == max_rounds:
            raise ToolLoopLimitExceeded(max_rounds, response)
        turn = gatekeeper.process(response)
        results.extend(turn)
        next_input = [r.reply for r in turn]
        transcript.extend(next_input)
        previous = response.id
    raise AssertionError("unreachable")  # pragma: no cover


async def arun_responses_tool_loop(client: Any, gate: Gate, tools: Mapping[str, ToolFunction], *, model: str,
                                   input: Any, tool_specs: Sequence[Any] | None = None, max_rounds: int = 8,
                                   plugin: str | None = None, interceptor: ToolCallInterceptor | None = None,
                                   **create_kwargs: Any) -> ToolLoopResult:
    """`run_responses_tool_loop` with an `AsyncOpenAI` client; the calls of one turn run concurrently."""
    gatekeeper, extra = _setup(gate, tools, tool_specs, plugin, interceptor, max_rounds, create_kwargs)
    transcript: list[Any] = list(input) if isinstance(input, list) else [input]
    next_input: Any = input
    previous: str | None = extra.pop("previous_response_id", None)
    results: list[Any] = []
    for round_number in range(1, max_rounds + 1):
        if previous is not None:
            extra["previous_response_id"] = previous
        response = await client.responses.create(model=model, input=next_input, **extra)
        if not _responses_has_calls(response):
            return ToolLoopResult(response, transcript, round_number, results)
        if round_number == max_rounds:
            raise ToolLoopLimitExceeded(max_rounds, response)
        turn = await gatekeeper.aprocess(response)
        results.extend(turn)
        next_input = [r.reply for r in turn]
        transcript.extend(next_input)
        previous = response.id
    raise AssertionError("unreachable")  # pragma: no cover
