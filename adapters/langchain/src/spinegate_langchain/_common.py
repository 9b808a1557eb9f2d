"""Pieces shared by the governed tool and the middleware: LangChain call -> ToolCall, output -> text."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, Tool
from spinegate import Decision, Gate, ToolCall

FRAMEWORK = "langchain"
#: Reason code for a tool call LangChain handed over in a shape the gate cannot read.
MALFORMED_TOOL_CALL = "MALFORMED_TOOL_CALL"

log = logging.getLogger("spinegate_langchain")


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


def model_arguments(tool: BaseTool | None, tool_input: Any) -> dict[str, Any] | None:
    """The arguments as the model (or caller) proposed them, or None if unusable.

    A string input (single-input tools) is keyed by the tool's one argument name,
    or `__arg1` as LangChain's own OpenAI conversion names it.
    """
    if isinstance(tool_input, str):
        key = "__arg1"
        if tool is not None and not (isinstance(tool, Tool) and not tool.args_schema):
            try:
                keys = [k for k in tool.args if k != "kwargs"]
                if len(keys) == 1:
                    key = keys[0]
            except Exception:  # noqa: BLE001
                pass
        return {key: tool_input}
    if isinstance(tool_input, Mapping):
        skip = injected_keys(tool)
        if not all(isinstance(k, str) for k in tool_input):
            return None
        return {k: v for k, v in tool_input.items() if k not in skip}
    return None


def decide_malformed(gate: Gate, name: Any, plugin: str | None, proposal_id: str | None,
                     model: str | None, what: str) -> Decision:
    """Record a refusal for a call whose shape the gate cannot read (fail closed)."""
    function = name if isinstance(name, str) and name else "<unnamed tool>"
    call = ToolCall(function=function, plugin=plugin, arguments={}, proposal_id=proposal_id,
                    framework=FRAMEWORK, model=model)
    return gate.deny(call, MALFORMED_TOOL_CALL, what)


def output_text(result: Any) -> tuple[str | None, bool]:
    """(text to record, failed) for what a tool or the tool node returned.

    A `ToolMessage` with status "error" (LangChain's handled tool error) counts
    as a failed call; a `Command` is recorded by the tool messages it carries.
    """
    failed = False
    content: Any = result
    if isinstance(result, ToolMessage):
        failed = result.status == "error"
        content = result.content
    else:
        update = getattr(result, "update", None)  # langgraph.types.Command
        if update is not None and type(result).__name__ == "Command":
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


def record(gate: Gate, decision: Decision, *, result: Any = None, error: BaseException | None = None) -> None:
    """Write the outcome receipt of an approved call that ran (or failed).

    The call has already happened, so a receipt that cannot be written is
    logged rather than raised: raising now would hide a result that exists and
    invite the model to run the tool again. The next `check` fails closed if
    the log stays unwritable.
    """
    try:
        if error is not None:
            gate.record_outcome(decision, error=error)
            return
        text, failed = output_text(result)
        gate.record_outcome(decision, output=text, status="failed" if failed else "success")
    except Exception:  # noqa: BLE001
        log.exception("spinegate: the outcome receipt for decision %s could not be written", decision.receipt_id)


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
