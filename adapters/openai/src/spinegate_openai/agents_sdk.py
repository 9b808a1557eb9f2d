"""Put the gate in front of every function tool of an OpenAI Agents SDK agent.

    from spinegate_openai import govern_agent
    agent = govern_agent(agent, gate)        # a copy; the original agent is left as it was
    result = await Runner.run(agent, "...")

Each `FunctionTool` gets a tool input guardrail that asks the gate before the
tool runs. A refused call does not run: the guardrail answers with
``ToolGuardrailFunctionOutput.reject_content(...)``, so the model reads the
refusal (reason and receipt id) as the tool's output and the run goes on. A
tool output guardrail records the outcome of each approved call.

Not covered: hosted tools (web search, file search, code interpreter, image
generation, hosted MCP), which the service runs itself; tools an agent gets
at run time from its `mcp_servers`; computer, shell and apply-patch tools;
the tools of agents reached through handoffs unless those agents are governed
too. A tool name the agent does not have is rejected by the SDK itself
(ModelBehaviorError) before any guardrail runs.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from agents import Agent, FunctionTool, ToolGuardrailFunctionOutput, ToolInputGuardrail, ToolOutputGuardrail
from agents.tool import default_tool_error_function, default_tool_timeout_error_message
from agents.tool_guardrails import ToolInputGuardrailData, ToolOutputGuardrailData
from jsonschema import validators as jsonschema_validators

from spinegate import Decision, Gate, ToolCall
from spinegate.reasons import ARGUMENTS_SCHEMA_MISMATCH

from .interceptor import (
    DETAIL_LIMIT,
    FRAMEWORK,
    parse_arguments,
    schema_problem,
    serialise_result,
)

GUARDRAIL_NAME = "spinegate"
_SDK_ERROR_TEXT = default_tool_error_function(None, Exception())  # type: ignore[arg-type]


def _info(decision: Decision) -> dict[str, Any]:
    """What the SDK keeps in its guardrail results: plain data, safe to trace."""
    return {"approved": decision.approved, "reason": decision.reason, "receipt_id": decision.receipt_id,
            "effect_class": decision.effect_class.value}


def _model_name(agent: Any) -> str | None:
    model = getattr(agent, "model", None)
    if isinstance(model, str):
        return model
    name = getattr(model, "model", None)
    return name if isinstance(name, str) else None


class AgentGovernor:
    """The gate's guardrails for one set of tools; keeps approved decisions until their outcome."""

    def __init__(self, gate: Gate, *, plugin: str | None = None, record_outcomes: bool = True) -> None:
        self.gate = gate
        self.plugin = plugin
        self.record_outcomes = record_outcomes
        self._pending: dict[str, Decision] = {}
        self._lock = threading.Lock()

    def govern_tool(self, tool: FunctionTool) -> FunctionTool:
        """A copy of `tool` with the gate's input guardrail (last) and outcome guardrail (first)."""
        if any(g.get_name() == GUARDRAIL_NAME for g in tool.tool_input_guardrails or []):
            return tool
        governed = copy.copy(tool)
        validator_cls = jsonschema_validators.validator_for(tool.params_json_schema,
                                                            default=jsonschema_validators.Draft202012Validator)
        validator = validator_cls(tool.params_json_schema)
        governor = self

        async def spinegate_input(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
            return await governor._decide(validator, data)

        async def spinegate_output(data: ToolOutputGuardrailData) -> ToolGuardrailFunctionOutput:
            await governor._record(tool, data)
            return ToolGuardrailFunctionOutput.allow()

        governed.tool_input_guardrails = [*(tool.tool_input_guardrails or []),
                                          ToolInputGuardrail(spinegate_input, name=GUARDRAIL_NAME)]
        governed.tool_output_guardrails = [ToolOutputGuardrail(spinegate_output, name=GUARDRAIL_NAME),
                                           *(tool.tool_output_guardrails or [])]
        return governed

    async def _decide(self, validator: Any, data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
        ctx = data.context
        name = ctx.qualified_tool_name
        raw = ctx.tool_arguments

        def call(arguments: Mapping[str, Any]) -> ToolCall:
            return ToolCall(function=name, plugin=self.plugin, arguments=arguments, proposal_id=ctx.tool_call_id,
                            framework=FRAMEWORK, model=_model_name(data.agent))

        value, reason, detail = parse_arguments(raw)
        if value is not None:
            detail = schema_problem(validator, name, value)
            reason = ARGUMENTS_SCHEMA_MISMATCH if detail is not None else None
        if reason is not None:
            decision = await self.gate.adeny(call({"raw_arguments": raw if isinstance(raw, str) else str(raw)}),
                                             reason, detail or reason)
            text = f"{decision.refusal_message()} Detail: {(detail or reason)[:DETAIL_LIMIT]}"
            return ToolGuardrailFunctionOutput.reject_content(text, output_info=_info(decision))
        decision = await self.gate.acheck(call(value))  # type: ignore[arg-type]
        if not decision.approved:
            return ToolGuardrailFunctionOutput.reject_content(decision.refusal_message(),
                                                              output_info=_info(decision))
        if self.record_outcomes:
            with self._lock:
                self._pending[ctx.tool_call_id] = decision
        return ToolGuardrailFunctionOutput.allow(output_info=_info(decision))

    async def _record(self, tool: FunctionTool, data: ToolOutputGuardrailData) -> None:
        """Write the outcome receipt of an approved call the SDK ran (logged, not raised, if it cannot be)."""
        with self._lock:
            decision = self._pending.pop(data.context.tool_call_id, None)
        if decision is None:
            return
        text = serialise_result(data.output)
        failed = text == _SDK_ERROR_TEXT or (
            tool.timeout_seconds is not None
            and text == default_tool_timeout_error_message(tool_name=tool.name, timeout_seconds=tool.timeout_seconds))
        deferred = self.gate.defers_outcomes
        if failed:
            await self.gate.atry_record_outcome(decision, error=text, deferred=deferred)
        else:
            await self.gate.atry_record_outcome(decision, output=text, deferred=deferred)

    def pending(self) -> int:
        """Approved calls whose outcome has not been seen (a tool that raised out of the run)."""
        with self._lock:
            return len(self._pending)


def govern_agent(agent: Agent[Any], gate: Gate, *, plugin: str | None = None,
                 record_outcomes: bool = True) -> Agent[Any]:
    """A copy of `agent` whose every `FunctionTool` asks `gate` before it runs.

    Tools are looked up in the manifest as (`plugin`, tool name), `plugin`
    None by default. Other tools (hosted, computer, shell) are kept as they
    are and are not gated.
    """
    governor = AgentGovernor(gate, plugin=plugin, record_outcomes=record_outcomes)
    tools = [governor.govern_tool(t) if isinstance(t, FunctionTool) else t for t in agent.tools]
    return agent.clone(tools=tools)


def govern_function_tool(tool: FunctionTool, gate: Gate, *, plugin: str | None = None,
                         record_outcomes: bool = True) -> FunctionTool:
    """A gated copy of one `FunctionTool`, for agents assembled by hand."""
    return AgentGovernor(gate, plugin=plugin, record_outcomes=record_outcomes).govern_tool(tool)
