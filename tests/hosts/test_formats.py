"""Each host's hook format: what its payloads become, and what each decision is answered with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spinegate import Gate, ToolCall
from spinegate.decision import Decision
from spinegate.hosts import EventKind, HookInputError, host_named
from spinegate.hosts.codex import patch_paths
from spinegate.hosts.events import split_mcp_name
from spinegate.manifest import manifest_from_raw
from spinegate.memory_store import MemoryReceiptStore

MANIFEST = {
    "version": "1.0.0", "posture": "NORMAL",
    "functions": [
        {"plugin": None, "function": "Read", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
         "max_calls_per_session": None},
        {"plugin": None, "function": "Fetch", "effect_class": "NETWORK_ATTEMPT", "allowed": True, "reason": None,
         "max_calls_per_session": None, "requires_confirmation": True},
    ],
}


@pytest.fixture()
def gate() -> Gate:
    return Gate(manifest_from_raw(dict(MANIFEST), verify_hash=False), MemoryReceiptStore(), git={})


def decide(gate: Gate, name: str, host: str = "claude-code") -> Decision:
    return gate.check(ToolCall(name, arguments={"x": 1}, proposal_id="t1"), host_approval=host_named(host).can_ask)


def pre(name: str = "Read", **extra: Any) -> dict[str, Any]:
    return {"hook_event_name": "PreToolUse", "session_id": "s1", "cwd": "/p", "tool_name": name,
            "tool_input": {"x": 1}, "tool_use_id": "t1", **extra}


# -- Claude Code ---------------------------------------------------------------------------------------------


def test_claude_code_answers_allow_deny_and_ask_in_hook_specific_output(gate: Gate) -> None:
    host = host_named("claude-code")
    event = host.parse(json.dumps(pre()))
    assert event.kind is EventKind.BEFORE_TOOL and event.session_id == "s1" and event.cwd == "/p"
    answers = {}
    for name in ("Read", "Nope", "Fetch"):
        decision = decide(gate, name)
        reply = host.decided(event, decision)
        assert reply.exit_code == 0 and reply.stderr == ""
        out = json.loads(reply.stdout)
        specific = out["hookSpecificOutput"]
        assert set(specific) == {"hookEventName", "permissionDecision", "permissionDecisionReason"}
        assert specific["hookEventName"] == "PreToolUse"
        assert set(out) <= {"hookSpecificOutput", "systemMessage"}  # nothing Claude Code's schema refuses
        assert decision.receipt_id in specific["permissionDecisionReason"]
        answers[name] = specific
    assert answers["Read"]["permissionDecision"] == "allow"
    assert answers["Nope"]["permissionDecision"] == "deny"
    assert "TOOL_NOT_IN_MANIFEST" in answers["Nope"]["permissionDecisionReason"]
    assert "not declared in the manifest" in answers["Nope"]["permissionDecisionReason"]
    assert answers["Fetch"]["permissionDecision"] == "ask"
    assert "requires confirmation" in answers["Fetch"]["permissionDecisionReason"]


def test_claude_code_events_other_than_pre_tool_use(gate: Gate) -> None:
    host = host_named("claude-code")
    post = host.parse(json.dumps({**pre(), "hook_event_name": "PostToolUse", "tool_response": {"stdout": "hi"}}))
    assert post.kind is EventKind.AFTER_TOOL and post.output == {"stdout": "hi"} and post.tool_use_id == "t1"
    failed = host.parse(json.dumps({**pre(), "hook_event_name": "PostToolUseFailure", "error": "exit 1"}))
    assert failed.kind is EventKind.TOOL_FAILED and failed.error == "exit 1"
    prompt = host.parse(json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "s1", "prompt": "go"}))
    assert prompt.kind is EventKind.PROMPT and prompt.call is None
    other = host.parse(json.dumps({"hook_event_name": "Stop", "session_id": "s1"}))
    assert other.kind is EventKind.OTHER
    for event in (post, prompt, other):  # nothing printed: on UserPromptSubmit it would reach the model
        reply = host.acknowledged(event)
        assert (reply.stdout, reply.stderr, reply.exit_code) == ("", "", 0)


def test_claude_code_mcp_tools_use_the_server_name_it_gives() -> None:
    host = host_named("claude-code")
    plain = host.parse(json.dumps(pre("mcp__files__read__all")))
    assert (plain.mcp_server, plain.mcp_tool) == ("files", "read__all")
    assert plain.call is not None and (plain.call.plugin, plain.call.function) == ("files", "read__all")
    named = host.parse(json.dumps(pre("mcp__my__srv__read", mcp_server={"name": "my__srv", "source": "project"})))
    assert (named.mcp_server, named.mcp_tool, named.mcp_source) == ("my__srv", "read", "project")


def test_a_failure_before_a_tool_blocks_and_after_it_warns() -> None:
    host = host_named("claude-code")
    blocked = host.failed(None, "the manifest cannot be read")
    assert blocked.exit_code == 2 and "the manifest cannot be read" in blocked.stderr
    prompt = host.parse(json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "s1"}))
    warned = host.failed(prompt, "log unwritable")
    assert warned.exit_code == 0 and "log unwritable" in json.loads(warned.stdout)["systemMessage"]


@pytest.mark.parametrize("payload", ["", "nope", "[]", "null", {}, pre(tool_input=[1]), pre(session_id="a/b"),
                                     pre(session_id=7), pre(tool_use_id={"x": 1}), pre(tool_name=3), b"\xff\xfe",
                                     b"{" * 100_000, pre(cwd="/p\x00q"), pre(cwd="/" + "p" * 5000), pre(cwd=["/p"])])
@pytest.mark.parametrize("host", ["claude-code", "codex", "gemini", "cursor"])
def test_payloads_a_host_never_sends_are_refused(host: str, payload: str | bytes | dict[str, Any]) -> None:
    agent = host_named(host)
    if isinstance(payload, dict):  # a before-tool event in the host's own naming, broken in one field
        payload = json.dumps({**pre(), **payload, "hook_event_name": agent.wiring.events[0][0]}
                             if payload else {"hook_event_name": agent.wiring.events[0][0]})
    with pytest.raises(HookInputError):
        agent.parse(payload)


# -- Codex ------------------------------------------------------------------------------------------------------


def test_codex_allows_silently_and_denies_in_json(gate: Gate) -> None:
    host = host_named("codex")
    event = host.parse(json.dumps(pre()))
    allowed = host.decided(event, decide(gate, "Read", "codex"))
    assert (allowed.stdout, allowed.exit_code) == ("", 0)  # a bare "allow" is unsupported in Codex
    denied = json.loads(host.decided(event, decide(gate, "Nope", "codex")).stdout)
    assert denied == {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                             "permissionDecisionReason": denied["hookSpecificOutput"][
                                                 "permissionDecisionReason"]}}
    assert denied["hookSpecificOutput"]["permissionDecisionReason"].strip()


def test_codex_cannot_ask_so_a_call_that_needs_a_person_is_refused(gate: Gate) -> None:
    host = host_named("codex")
    decision = decide(gate, "Fetch", "codex")
    assert decision.denied and decision.reason == "APPROVAL_REQUIRED"
    reason = json.loads(host.decided(host.parse(json.dumps(pre("Fetch"))), decision).stdout)
    text = reason["hookSpecificOutput"]["permissionDecisionReason"]
    assert "APPROVAL_REQUIRED" in text and "a person must approve" in text


def test_codex_apply_patch_exposes_the_paths_it_writes() -> None:
    patch = ("*** Begin Patch\n*** Add File: new.py\n+x\n*** Update File: src/a.py\n@@\n-a\n+b\n"
             "*** Move to: src/b.py\n*** Delete File: old.txt\n*** End Patch\n")
    assert patch_paths(patch) == ["new.py", "src/a.py", "src/b.py", "old.txt"]
    event = host_named("codex").parse(json.dumps(pre("apply_patch", tool_input={"command": patch})))
    assert event.call is not None and event.call.arguments["paths"] == ["new.py", "src/a.py", "src/b.py", "old.txt"]


# -- Gemini CLI ----------------------------------------------------------------------------------------------


def test_gemini_decisions_and_events(gate: Gate) -> None:
    host = host_named("gemini")
    event = host.parse(json.dumps({"hook_event_name": "BeforeTool", "session_id": "g1", "cwd": "/p",
                                   "tool_name": "Read", "tool_input": {"x": 1}}))
    assert event.kind is EventKind.BEFORE_TOOL and event.tool_use_id is None
    assert json.loads(host.decided(event, decide(gate, "Read", "gemini")).stdout) == {"decision": "allow"}
    denied = json.loads(host.decided(event, decide(gate, "Nope", "gemini")).stdout)
    assert denied["decision"] == "deny" and "TOOL_NOT_IN_MANIFEST" in denied["reason"]
    after = host.parse(json.dumps({"hook_event_name": "AfterTool", "session_id": "g1", "tool_name": "Read",
                                   "tool_input": {}, "tool_response": {"llmContent": "ok"}}))
    assert after.kind is EventKind.AFTER_TOOL and json.loads(host.acknowledged(after).stdout) == {}
    failed = host.parse(json.dumps({"hook_event_name": "AfterTool", "session_id": "g1", "tool_name": "Read",
                                    "tool_input": {}, "tool_response": {"error": {"message": "no such file"}}}))
    assert failed.kind is EventKind.TOOL_FAILED and failed.error == "no such file"
    assert host.parse(json.dumps({"hook_event_name": "BeforeAgent", "session_id": "g1"})).kind is EventKind.PROMPT


def test_gemini_mcp_calls_name_their_server_in_mcp_context() -> None:
    event = host_named("gemini").parse(json.dumps({
        "hook_event_name": "BeforeTool", "session_id": "g1", "tool_name": "mcp__fs__read_file", "tool_input": {},
        "mcp_context": {"server_name": "fs", "tool_name": "read_file"}}))
    assert event.call is not None and (event.call.plugin, event.call.function) == ("fs", "read_file")


# -- Cursor ---------------------------------------------------------------------------------------------------


def test_cursor_permissions_and_events(gate: Gate) -> None:
    host = host_named("cursor")
    payload = {"hook_event_name": "preToolUse", "conversation_id": "c1", "workspace_roots": ["/w"],
               "tool_name": "Read", "tool_input": {"x": 1}, "tool_use_id": "t1"}
    event = host.parse(json.dumps(payload))
    assert event.session_id == "c1" and event.cwd == "/w"
    assert json.loads(host.decided(event, decide(gate, "Read", "cursor")).stdout) == {"permission": "allow"}
    denied = json.loads(host.decided(event, decide(gate, "Nope", "cursor")).stdout)
    assert denied["permission"] == "deny" and "TOOL_NOT_IN_MANIFEST" in denied["agent_message"]
    assert "receipt" in denied["user_message"]
    asked = json.loads(host.decided(event, decide(gate, "Fetch", "cursor")).stdout)
    assert asked["permission"] == "deny"  # "ask" is not enforced for preToolUse: refused instead
    prompt = host.parse(json.dumps({"hook_event_name": "beforeSubmitPrompt", "conversation_id": "c1"}))
    assert json.loads(host.acknowledged(prompt).stdout) == {"continue": True}


def test_cursor_mcp_names_and_string_arguments() -> None:
    event = host_named("cursor").parse(json.dumps({"hook_event_name": "preToolUse", "conversation_id": "c1",
                                                   "tool_name": "MCP:db:query", "tool_input": '{"sql": "select 1"}'}))
    assert event.call is not None and (event.call.plugin, event.call.function) == ("db", "query")
    assert event.call.arguments == {"sql": "select 1"}


def test_mcp_names_split_at_the_first_separator_after_the_prefix() -> None:
    assert split_mcp_name("mcp__github__create_issue") == ("github", "create_issue")
    assert split_mcp_name("mcp__a__b__c") == ("a", "b__c")
    for name in ("mcp__", "mcp__x", "mcp____y", "Read", "mcp_x__y"):
        assert split_mcp_name(name) is None


def test_every_host_names_where_its_format_is_documented() -> None:
    for name in ("claude-code", "codex", "gemini", "cursor"):
        host = host_named(name)
        assert host.source.startswith("https://") and host.wiring.settings
    with pytest.raises(ValueError, match="claude-code"):
        host_named("vim")


def test_the_default_manifest_loads(tmp_path: Path) -> None:
    from importlib import resources

    from spinegate.manifest_file import load_manifest, seal_manifest

    target = tmp_path / "m.json"
    target.write_text(resources.files("spinegate.hosts").joinpath("default_manifest.json").read_text())
    seal_manifest(target)
    manifest = load_manifest(target)
    for tool in ("Bash", "Read", "Write", "Edit", "Grep", "Glob", "WebFetch", "apply_patch", "run_shell_command",
                 "Shell"):
        assert manifest.lookup(None, tool) is not None, tool
