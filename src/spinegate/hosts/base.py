"""What every host module provides: its payload read as a `HookEvent`, the gate's answer in its format,
and where `spinegate init` wires the hook. Pure (the settings files are read and written by `init`).

A host is a small object, not a framework: `parse` for what comes in,
`decided` / `passed_through` / `acknowledged` / `failed` for what goes out,
and `HookWiring` for the one settings file `init` merges its hooks into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..decision import Decision, ToolCall
from .events import (
    EventKind,
    HookEvent,
    HookInputError,
    HookReply,
    cwd_field,
    load_payload,
    object_field,
    session_field,
    split_mcp_name,
    text_field,
)
from .explain import ask_text, refusal_text


@dataclass(frozen=True, slots=True)
class HookWiring:
    """Where and how `spinegate init` wires a host's hooks.

    `settings` is the settings file relative to the project; `events` maps
    each `EventKind` the host reports to its event name there; `template`
    is the JSON of one hook entry, `{command}` standing for the command.
    `project_variable` is the environment variable the host sets to the
    project directory for hook commands (None: the hook finds the project
    from its working directory).
    """

    settings: str
    events: tuple[tuple[str, EventKind], ...]
    project_variable: str | None
    timeout_field: str | None = "timeout"
    timeout_value: int = 30
    extra_fields: tuple[tuple[str, Any], ...] = ()
    matcher: str | None = "*"
    top_level: tuple[tuple[str, Any], ...] = ()


class Host:
    """One coding-agent host's hook protocol. Subclasses fill in the names and the answers."""

    name: str = ""
    #: The framework name receipts carry (`executor.type`).
    framework: str = ""
    #: True when the host asks its person itself when told to ("ask"); else escalations are refused.
    can_ask: bool = False
    wiring: HookWiring
    source: str = ""  # where the format is documented

    # -- in --------------------------------------------------------------------------------

    def parse(self, raw: bytes | str) -> HookEvent:
        """The event in the hook's standard input; HookInputError for anything this host never sends."""
        return self.event(load_payload(raw))

    def event(self, data: dict[str, Any]) -> HookEvent:
        raise NotImplementedError

    def tool_call(self, name: str, arguments: dict[str, Any], tool_use_id: str | None, model: str | None,
                  mcp: tuple[str, str] | None) -> ToolCall:
        """The `ToolCall` for a tool `name`: an MCP tool as plugin = its server, function = its tool."""
        plugin, function = (mcp[0], mcp[1]) if mcp is not None else (None, name)
        return ToolCall(function=function, plugin=plugin, arguments=self.arguments(name, arguments),
                        proposal_id=tool_use_id, framework=self.framework, model=model)

    def arguments(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments the gate sees for tool `name` (a host may add derived ones, such as a patch's paths)."""
        return arguments

    def mcp_name(self, name: str) -> tuple[str, str] | None:
        """(server, tool) when `name` is an MCP tool of this host, else None."""
        return split_mcp_name(name)

    # -- out -------------------------------------------------------------------------------

    def decided(self, event: HookEvent, decision: Decision) -> HookReply:
        """The answer to a call the gate decided: allow, deny (with the refusal text) or ask."""
        if decision.approved:
            return self.allow(event, f"spinegate approved {decision.tool_name} (receipt {decision.receipt_id})",
                              decision)
        if decision.escalated:
            return self.ask(event, ask_text(decision), decision)
        return self.deny(event, refusal_text(decision), decision)

    def allow(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        raise NotImplementedError

    def deny(self, event: HookEvent, reason: str, decision: Decision | None) -> HookReply:
        raise NotImplementedError

    def ask(self, event: HookEvent, reason: str, decision: Decision) -> HookReply:
        # A host that cannot ask never gets here (its calls are checked without host approval); refuse anyway.
        return self.deny(event, reason + " This agent cannot ask a person here, so the call is refused.", decision)

    def passed_through(self, event: HookEvent, reason: str) -> HookReply:
        """A call some other part of spinegate decides (an MCP server behind `spinegate mcp-proxy`)."""
        return self.allow(event, reason, None)

    def acknowledged(self, event: HookEvent) -> HookReply:
        """The answer to an event that only records (after a tool, a prompt, anything else): go on."""
        return HookReply()

    def failed(self, event: HookEvent | None, message: str) -> HookReply:
        """spinegate could not decide (bad input, unreadable manifest, unwritable log).

        Before a tool this blocks the call, in the host's JSON and with exit
        code 2; after a tool or on a prompt it warns and lets the agent go on
        (the tool already ran; a person's prompt is not a tool call).
        """
        text = f"spinegate: {message}"
        if event is None or event.kind is EventKind.BEFORE_TOOL:
            return HookReply.block(f"spinegate blocked this call: {message}")
        return self.warning(event, text)

    def warning(self, event: HookEvent | None, text: str) -> HookReply:
        return HookReply(stderr=text + "\n")


class ClaudeLikeHost(Host):
    """Hosts whose payloads follow Claude Code's: `hook_event_name`, `tool_name`, `tool_input`, `tool_use_id`."""

    before_tool = "PreToolUse"
    after_tool = "PostToolUse"
    tool_failed = "PostToolUseFailure"
    prompt = "UserPromptSubmit"

    def event(self, data: dict[str, Any]) -> HookEvent:
        kind = self.kind_of(text_field(data, "hook_event_name"))
        session = session_field(data)
        cwd = cwd_field(data)
        if kind in (EventKind.PROMPT, EventKind.OTHER):
            return HookEvent(kind, session, cwd)
        name = text_field(data, "tool_name", required=True)
        assert name is not None
        arguments = object_field(data, "tool_input")
        tool_use_id = data.get("tool_use_id")
        if tool_use_id is not None and not isinstance(tool_use_id, (str, int)):
            raise HookInputError("tool_use_id must be a string")
        use_id = str(tool_use_id) if tool_use_id is not None else None
        model = data.get("model") if isinstance(data.get("model"), str) else None
        mcp = self.mcp_name(name)
        server = data.get("mcp_server")
        source = server.get("source") if isinstance(server, dict) and isinstance(server.get("source"), str) else None
        if mcp is not None and isinstance(server, dict) and isinstance(server.get("name"), str):
            # the host's own word for the server's config key wins over splitting the tool's name
            tool = name[len("mcp__") + len(server["name"]) + 2:] if name.startswith(f"mcp__{server['name']}__") \
                else mcp[1]
            mcp = (server["name"], tool)
        call = self.tool_call(name, arguments, use_id, model, mcp)
        output: Any = None
        error: str | None = None
        if kind is EventKind.AFTER_TOOL:
            output = data.get("tool_response")
        elif kind is EventKind.TOOL_FAILED:
            error = str(data.get("error") or "the tool failed")
        return HookEvent(kind, session, cwd, call, use_id, output, error,
                         mcp_server=mcp[0] if mcp else None, mcp_tool=mcp[1] if mcp else None, raw_name=name,
                         mcp_source=source)

    def kind_of(self, event_name: str | None) -> EventKind:
        if event_name is None:
            # the original hook convention: a bare call with tool_name and tool_input, to decide
            return EventKind.BEFORE_TOOL
        return {self.before_tool: EventKind.BEFORE_TOOL, self.after_tool: EventKind.AFTER_TOOL,
                self.tool_failed: EventKind.TOOL_FAILED, self.prompt: EventKind.PROMPT}.get(event_name,
                                                                                            EventKind.OTHER)


__all__ = ["ClaudeLikeHost", "Host", "HookWiring"]
