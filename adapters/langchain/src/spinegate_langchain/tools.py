"""Governed tools: a LangChain tool the agent uses in place of the original.

    from spinegate_langchain import govern_tool
    tools = [govern_tool(t, gate) for t in tools]

The proxy shows the model exactly what the original shows (name, description,
argument schema, return_direct, response_format), asks the gate before every
run, and runs the original tool only when the gate approves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, Tool
from langchain_core.tools.base import ArgsSchema
from pydantic import ConfigDict, Field

from spinegate import Decision, Gate, GovernanceVeto, ToolCall
from spinegate.errors import SpinegateError

from ._common import (
    FRAMEWORK,
    OnDeny,
    adecide_malformed,
    arun_recorded,
    checked_on_deny,
    decide_malformed,
    injected_keys,
    model_arguments,
    run_recorded,
)


class GovernedTool(BaseTool):
    """A proxy tool: the gate decides every call before the wrapped tool runs.

    On deny the wrapped tool never runs. With `on_deny="refuse"` (the default)
    the caller gets a refusal the model can read (reason and receipt id): a
    `ToolMessage` with status "error" for tool-call input, the text otherwise.
    With `on_deny="raise"` it raises `spinegate.GovernanceVeto`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    wrapped: BaseTool = Field(exclude=True)
    gate: Gate = Field(exclude=True)
    plugin: str | None = None
    on_deny: OnDeny = "refuse"
    record_outcomes: bool = True
    agent_model: str | None = None

    # -- what the model sees: exactly the wrapped tool's view ----------------------

    @property
    def tool_call_schema(self) -> ArgsSchema:
        return self.wrapped.tool_call_schema

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        return self.wrapped.get_input_schema(config)

    @property
    def _injected_args_keys(self) -> frozenset[str]:
        return injected_keys(self.wrapped)

    # -- the gate ---------------------------------------------------------------

    def _call(self, tool_input: Any, tool_call_id: str | None) -> ToolCall | None:
        arguments = model_arguments(self.wrapped, tool_input)
        if arguments is None:
            return None
        return ToolCall(function=self.name, plugin=self.plugin, arguments=arguments, proposal_id=tool_call_id,
                        framework=FRAMEWORK, model=self.agent_model)

    @staticmethod
    def _malformed_what(tool_input: Any) -> str:
        return f"the tool input is a {type(tool_input).__name__}, not a mapping of argument names to values or a string"

    def _malformed(self, tool_input: Any, tool_call_id: str | None) -> Decision:
        return decide_malformed(self.gate, self.name, self.plugin, tool_call_id, self.agent_model,
                                self._malformed_what(tool_input))

    async def _amalformed(self, tool_input: Any, tool_call_id: str | None) -> Decision:
        return await adecide_malformed(self.gate, self.name, self.plugin, tool_call_id, self.agent_model,
                                       self._malformed_what(tool_input))

    def _refuse(self, decision: Decision, tool_call_id: str | None) -> Any:
        if self.on_deny == "raise":
            raise GovernanceVeto(decision)
        text = decision.refusal_message()
        if tool_call_id is None:
            return text
        return ToolMessage(content=text, tool_call_id=tool_call_id, name=self.name, status="error")

    def run(self, tool_input: Any, *args: Any, tool_call_id: str | None = None, **kwargs: Any) -> Any:
        """Ask the gate, then run the wrapped tool (its validation, callbacks and output format)."""
        call = self._call(tool_input, tool_call_id)
        decision = self.gate.check(call) if call is not None else self._malformed(tool_input, tool_call_id)
        if not decision.approved:
            return self._refuse(decision, tool_call_id)
        return run_recorded(self.gate, decision,
                            lambda: self.wrapped.run(tool_input, *args, tool_call_id=tool_call_id, **kwargs),
                            record=self.record_outcomes)

    async def arun(self, tool_input: Any, *args: Any, tool_call_id: str | None = None, **kwargs: Any) -> Any:
        """Async `run`: `Gate.acheck`, then the wrapped tool's `arun`."""
        call = self._call(tool_input, tool_call_id)
        decision = await self.gate.acheck(call) if call is not None \
            else await self._amalformed(tool_input, tool_call_id)
        if not decision.approved:
            return self._refuse(decision, tool_call_id)
        return await arun_recorded(self.gate, decision,
                                   lambda: self.wrapped.arun(tool_input, *args, tool_call_id=tool_call_id, **kwargs),
                                   record=self.record_outcomes)

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        # Never reached: `run` is overridden so the wrapped tool's own `run` does the work.
        raise SpinegateError("GovernedTool runs through invoke/run, which ask the gate first")


class GovernedSimpleTool(GovernedTool, Tool):
    """A GovernedTool for a plain single-string `Tool`, so LangChain gives the model
    the same `__arg1` schema it gives the original. Its `func` is None: the
    wrapped tool's function is only ever reached through the gate."""


def govern_tool(tool: BaseTool, gate: Gate, *, plugin: str | None = None, on_deny: OnDeny = "refuse",
                record_outcomes: bool = True, model: str | None = None) -> GovernedTool:
    """Wrap one LangChain tool so the gate decides each call before it runs.

    The manifest entry is looked up as (`plugin`, tool name); LangChain tools
    have no plugin, so entries are declared with `"plugin": null` unless you
    pass a plugin name here. `model` names the agent's model in receipts.
    """
    if not isinstance(tool, BaseTool):
        raise TypeError(f"govern_tool takes a langchain_core BaseTool, not {type(tool).__name__}")
    checked_on_deny(on_deny)
    if isinstance(tool, GovernedTool):
        raise ValueError(f"tool {tool.name!r} is already governed; wrap the original once")
    simple = isinstance(tool, Tool) and not tool.args_schema
    cls = GovernedSimpleTool if simple else GovernedTool
    extra: dict[str, Any] = {"func": None} if simple else {}
    for optional in ("extras",):  # fields newer langchain-core versions have
        if optional in BaseTool.model_fields:
            extra[optional] = getattr(tool, optional, None)
    return cls(
        **extra,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
        return_direct=tool.return_direct,
        response_format=tool.response_format,
        metadata=tool.metadata,
        tags=tool.tags,
        wrapped=tool,
        gate=gate,
        plugin=plugin,
        on_deny=on_deny,
        record_outcomes=record_outcomes,
        agent_model=model,
    )


def govern_tools(tools: Iterable[BaseTool], gate: Gate, *, plugin: str | None = None, on_deny: OnDeny = "refuse",
                 record_outcomes: bool = True, model: str | None = None) -> list[GovernedTool]:
    """`govern_tool` for each tool of a list, with the same settings."""
    return [govern_tool(t, gate, plugin=plugin, on_deny=on_deny, record_outcomes=record_outcomes, model=model)
            for t in tools]
