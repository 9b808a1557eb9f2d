"""Pieces shared by the governed tool and the middleware: LangChain call -> ToolCall, output -> text.

Needs langchain-core only: LangGraph's `Command` is read when LangGraph is
installed (it is where a tool can return one).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, TypeVar

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.pydantic import get_fields

from spinegate import Decision, Gate, ToolCall
from spinegate.reasons import MALFORMED_TOOL_CALL

try:
    from langgraph.types import Command
except ImportError:  # langchain-core alone: no graph, so no tool returns a Command
    Command = None  # type: ignore[assignment,misc]

FRAMEWORK = "langchain"

T = TypeVar("T")

#: What the caller gets on deny: a refusal the model can read, or `GovernanceVeto` raised.
OnDeny = Literal["refuse", "raise"]


def checked_on_deny(on_deny: str) -> OnDeny:
    """`on_deny`, or ValueError when it is neither "refuse" nor "raise"."""
    if on_deny not in ("refuse", "raise"):
        raise ValueError(f"on_deny must be 'refuse' or 'raise', not {on_deny!r}")
    return on_deny  # type: ignore[return-value]


def injected_keys(tool: BaseTool | None) -> frozenset[str]:
    """Argument names LangChain fills in itself (state, store, runtime), not the model.

    They are not the model's proposal, and their values (a whole graph state, a
    runtime object) are neither stable nor hashable, so they stay out of the receipt.
    """
    if tool is None:
        return frozenset()
    try:
        return frozenset(getattr(tool, "_injected_args_keys", frozenset()))
    except Exception:  # noqa: BLE001 - a tool whose signature cannot be read injects nothing we know of
        return frozenset()


def string_input_key(tool: BaseTool | None) -> str:
    """The argument LangChain binds a string input to: the first field of a pydantic args schema.

    That is the argument the tool body receives, so the gate (and any path or
    command rule on that argument) must see the string under that name. A
    plain `Tool` without a schema, or a tool unknown here, uses `__arg1`, the
    name LangChain's OpenAI conversion gives it.
    """
    schema = getattr(tool, "args_schema", None)
    if isinstance(schema, type):
        try:
            fields = get_fields(schema)
        except Exception:  # noqa: BLE001 - not a pydantic model: LangChain refuses string input to it anyway
            return "__arg1"
        if fields:
            return str(next(iter(fields)))
    return "__arg1"


def model_arguments(tool: BaseTool | None, tool_input: Any) -> dict[str, Any] | None:
    """The arguments as the model (or caller) proposed them, or None if unusable.

    A string input (single-input tools) is keyed by the argument it fills (see `string_input_key`).
    """
    if isinstance(tool_input, str):
        return {string_input_key(tool): tool_input}
    if type(tool_input) is dict:  # the common case, without the abstract-class check and the generator below
        skip = injected_keys(tool)
        for k in tool_input:
            if not isinstance(k, str):
                return None
        if not skip:
            return dict(tool_input)
        return {k: v for k, v in tool_input.items() if k not in skip}
    if isinstance(tool_input, Mapping):
        skip = injected_keys(tool)
        if not all(isinstance(k, str) for k in tool_input):
            return None
        return {k: v for k, v in tool_input.items() if k not in skip}
    return None


def malformed_call(name: Any, plugin: str | None, proposal_id: str | None, model: str | None) -> ToolCall:
    """The ToolCall recorded for a call whose shape the gate cannot read (no arguments: there are none to trust)."""
    function = name if isinstance(name, str) and name else "<unnamed tool>"
    return ToolCall(function=function, plugin=plugin, arguments={}, proposal_id=proposal_id,
                    framework=FRAMEWORK, model=model)


def decide_malformed(gate: Gate, name: Any, plugin: str | None, proposal_id: str | None,
                     model: str | None, what: str) -> Decision:
    """Record a refusal for a call whose shape the gate cannot read (fail closed)."""
    return gate.deny(malformed_call(name, plugin, proposal_id, model), MALFORMED_TOOL_CALL, what)


async def adecide_malformed(gate: Gate, name: Any, plugin: str | None, proposal_id: str | None,
                            model: str | None, what: str) -> Decision:
    """`decide_malformed` for async paths: never blocks the event loop on fsync."""
    return await gate.adeny(malformed_call(name, plugin, proposal_id, model), MALFORMED_TOOL_CALL, what)


def output_text(result: Any) -> tuple[str | None, bool]:
    """(text to record, failed) for what a tool or the tool node returned.

    A `ToolMessage` with status "error" (LangChain's handled tool error) counts
    as a failed call; a `Command` is recorded by the tool messages it carries.
    """
    if type(result) is str:  # the common case, without the abstract-class check below
        return result, False
    failed = False
    content: Any = result
    if isinstance(result, ToolMessage):
        failed = result.status == "error"
        content = result.content
    elif Command is not None and isinstance(result, Command) and result.update is not None:
        update = result.update
        messages = update.get("messages") if isinstance(update, Mapping) else None
        tool_messages = [m for m in (messages or []) if isinstance(m, ToolMessage)]
        if tool_messages:
            failed = any(m.status == "error" for m in tool_messages)
            content = [m.content for m in tool_messages]
            if len(content) == 1:
                content = content[0]
        else:
            content = update
    if content is None:
        return None, failed
    if isinstance(content, str):
        return content, failed
    try:
        return json.dumps(content, sort_keys=True, ensure_ascii=False, default=str), failed
    except (TypeError, ValueError):
        return repr(content), failed


def _outcome(result: Any, error: BaseException | None) -> dict[str, Any]:
    """`Gate.record_outcome` keyword arguments for what the call returned or raised."""
    if error is not None:
        return {"error": error}
    text, failed = output_text(result)
    return {"output": text, "status": "failed" if failed else "success"}


def run_recorded(gate: Gate, decision: Decision, run: Callable[[], T], *, record: bool) -> T:
    """Run an approved call; with `record`, write its outcome receipt. Exceptions are recorded and re-raised.

    The call has already happened when its outcome is written, so a receipt
    that cannot be written is logged (`Gate.try_record_outcome`), not raised;
    with the gate's `outcome_receipts="async"` (the default) it is sealed now
    and appended without waiting.
    """
    try:
        result = run()
    except BaseException as exc:
        if record:
            gate.try_record_outcome(decision, **_outcome(None, exc), deferred=gate.defers_outcomes)
        raise
    if record:
        gate.try_record_outcome(decision, **_outcome(result, None), deferred=gate.defers_outcomes)
    return result


async def arun_recorded(gate: Gate, decision: Decision, run: Callable[[], Awaitable[T]], *, record: bool) -> T:
    """`run_recorded` for async calls."""
    try:
        result = await run()
    except BaseException as exc:
        if record:
            await gate.atry_record_outcome(decision, **_outcome(None, exc), deferred=gate.defers_outcomes)
        raise
    if record:
        await gate.atry_record_outcome(decision, **_outcome(result, None), deferred=gate.defers_outcomes)
    return result


def model_of(state: Any, tool_call_id: str | None) -> str | None:
    """The model name on the AIMessage that proposed `tool_call_id`, when the provider reports one."""
    if not tool_call_id:
        return None
    messages = state.get("messages") if isinstance(state, Mapping) else getattr(state, "messages", state)
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, AIMessage) and any(tc.get("id") == tool_call_id for tc in message.tool_calls):
            meta = message.response_metadata or {}
            name = meta.get("model_name") or meta.get("model")
            return name if isinstance(name, str) and name else None
    return None
