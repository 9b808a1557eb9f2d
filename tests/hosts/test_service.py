"""The hook service: decisions, outcomes tied to them, posture restored by a prompt, MCP pass-through, reload."""

from __future__ import annotations

import json
from pathlib import Path

from hosts_support import decision, post, pre, prompt, receipts
from spinegate.helper.index import IndexedStore
from spinegate.helper.layout import ProjectLayout
from spinegate.hosts.mcp_servers import wire_mcp_proxy
from spinegate.hosts.service import HookService
from spinegate.manifest_file import seal_manifest
from spinegate.verify import verify_path


def verified(project: Path) -> None:
    report = verify_path(project / ".spinegate" / "receipts.jsonl")
    assert report.ok, [str(f) for f in report.failures]


def test_an_allowed_call_and_its_outcome_share_the_call_id(project: Path, service: HookService) -> None:
    target = str(project / "notes.txt")
    reply = service.answer("claude-code", pre("Write", {"file_path": target, "content": "x"}, use_id="toolu_1"))
    verdict, reason = decision(reply.stdout)
    assert verdict == "allow" and reply.exit_code == 0
    service.answer("claude-code", post("Write", {"file_path": target, "content": "x"}, use_id="toolu_1",
                                       response={"type": "create", "filePath": target}))
    made = receipts(project)
    assert [(r["proposal_id"], r["action"]["operation"], r["result"]["status"]) for r in made] == [
        ("toolu_1", "decision", "success"), ("toolu_1", "outcome", "success")]
    assert made[0]["receipt_id"] in reason and made[0]["receipt_id"] in made[1]["action"]["description"]
    assert made[1]["result"]["diff_hash"] and made[0]["session_id"] == "s1"
    verified(project)


def test_an_outcome_arriving_in_another_process_finds_its_decision_in_the_log(project: Path,
                                                                              store: IndexedStore) -> None:
    manifest = ProjectLayout.of(project).manifest
    first = HookService(manifest, store, project=str(project))
    first.answer("claude-code", pre("Bash", {"command": "ls"}, use_id="toolu_7"))
    first.close()
    second = HookService(manifest, store, project=str(project))  # a new hook process: nothing in memory
    second.answer("claude-code", json.dumps({"hook_event_name": "PostToolUseFailure", "session_id": "s1",
                                             "tool_name": "Bash", "tool_input": {"command": "ls"},
                                             "tool_use_id": "toolu_7", "error": "exit status 2"}))
    second.close()
    made = receipts(project)
    assert [r["action"]["operation"] for r in made] == ["decision", "outcome"]
    assert made[1]["result"]["status"] == "failed" and made[0]["receipt_id"] in made[1]["action"]["description"]
    verified(project)


def test_an_escalation_is_asked_and_the_approved_call_gets_its_outcome(project: Path, service: HookService) -> None:
    arguments = {"url": "https://example.com", "prompt": "summarise"}
    verdict, reason = decision(service.answer("claude-code", pre("WebFetch", arguments, use_id="toolu_9")).stdout)
    assert verdict == "ask" and "requires confirmation" in reason
    service.answer("claude-code", post("WebFetch", arguments, use_id="toolu_9", response="<html>"))
    escalation, outcome = receipts(project)
    assert escalation["action"]["operation"] == "escalation" and escalation["receipt_id"] in reason
    assert outcome["action"]["operation"] == "outcome" and escalation["receipt_id"] in outcome["action"]["description"]
    verified(project)


def test_a_new_prompt_takes_a_locked_down_session_back_to_the_manifest_posture(project: Path,
                                                                              service: HookService) -> None:
    for n in range(6):  # refused destructive commands add risk until the session locks down
        verdict, _ = decision(service.answer("claude-code", pre("Bash", {"command": "rm -rf /tmp/elsewhere"},
                                                                use_id=f"d{n}")).stdout)
        assert verdict == "deny"
    write = {"file_path": str(project / "a.txt"), "content": "x"}
    verdict, reason = decision(service.answer("claude-code", pre("Write", write, use_id="w1")).stdout)
    assert verdict == "deny" and "LOCKDOWN" in reason
    assert service.answer("claude-code", prompt()).stdout == ""  # nothing reaches the model's context
    posture = receipts(project)[-1]
    assert posture["action"]["operation"] == "posture"
    assert "LOCKDOWN to NORMAL" in posture["action"]["description"] and "risk reset" in posture["action"]["description"]
    assert decision(service.answer("claude-code", pre("Write", write, use_id="w2")).stdout)[0] == "allow"
    count = len(receipts(project))
    service.answer("claude-code", prompt())  # nothing to restore: no receipt
    assert len(receipts(project)) == count
    verified(project)


def test_mcp_servers_behind_the_proxy_pass_through_others_are_decided(project: Path, service: HookService) -> None:
    servers, wired = wire_mcp_proxy({"files": {"command": "npx", "args": ["server-files", "."]},
                                     "remote": {"type": "http", "url": "https://example.com/mcp"}},
                                    "spinegate", ".spinegate/manifest.json", ".spinegate/receipts.jsonl",
                                    ".spinegate/pins.json")
    assert wired == ["files"]
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    verdict, reason = decision(service.answer("claude-code", pre("mcp__files__read_file", {"path": "a"},
                                                                 use_id="m1")).stdout)
    assert verdict == "allow" and "mcp-proxy" in reason
    assert receipts(project) == []  # one call, one decision: the proxy's
    user_server = pre("mcp__files__read_file", {"path": "a"}, use_id="m2",
                      mcp_server={"name": "files", "source": "user"})  # same name, not the project's server
    assert decision(service.answer("claude-code", user_server).stdout)[0] == "deny"
    verdict, reason = decision(service.answer("claude-code", pre("mcp__remote__fetch", {}, use_id="m3")).stdout)
    assert verdict == "deny" and "TOOL_NOT_IN_MANIFEST" in reason
    decided = receipts(project)
    assert [(r["proposal_id"], r["action"]["tool"]) for r in decided] == [("m2", "files.read_file"),
                                                                           ("m3", "remote.fetch")]


def test_a_changed_manifest_is_refused_until_it_is_reloaded(project: Path, service: HookService) -> None:
    read = pre("Read", {"file_path": str(project / "a.txt")}, use_id="r1")
    assert decision(service.answer("claude-code", read).stdout)[0] == "allow"
    manifest = project / ".spinegate" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["functions"] = [f for f in data["functions"] if f["function"] != "WebSearch"]
    manifest.write_text(json.dumps(data, indent=1))
    verdict, reason = decision(service.answer("claude-code", read).stdout)
    assert verdict == "deny" and "MANIFEST_INTEGRITY_FAILURE" in reason
    seal_manifest(manifest)
    reloaded = service.reload(by="test")
    assert len(reloaded) == 1 and reloaded[0]["action"]["operation"] == "reload"
    assert decision(service.answer("claude-code", read).stdout)[0] == "allow"
    verified(project)


def test_posture_set_to_the_manifest_posture_restores_it(project: Path, service: HookService) -> None:
    service.answer("claude-code", pre("Read", {"file_path": str(project / "a")}, use_id="r1"))
    tightened = service.set_posture("s1", "LOCKDOWN", by="ops")
    assert "from NORMAL to LOCKDOWN by ops" in tightened["action"]["description"]
    restored = service.set_posture("s1", "NORMAL", by="alice")
    assert "restored from LOCKDOWN to NORMAL by alice" in restored["action"]["description"]
    verified(project)


def test_an_unreadable_manifest_blocks_every_call(project: Path, service: HookService) -> None:
    (project / ".spinegate" / "manifest.json").write_text("{not json")
    reply = service.answer("claude-code", pre("Read", {"file_path": "a"}, use_id="r1"))
    assert reply.exit_code == 2 and "manifest" in reply.stderr.lower()
    warned = service.answer("claude-code", prompt())  # a prompt is not a tool call: warned, not blocked
    assert warned.exit_code == 0 and "spinegate" in json.loads(warned.stdout)["systemMessage"]
    assert receipts(project) == []


def test_secrets_and_the_gates_own_files_are_refused(project: Path, service: HookService) -> None:
    (project / ".env").write_text("TOKEN=1\n")
    verdict, reason = decision(service.answer("claude-code", pre("Read", {"file_path": str(project / ".env")},
                                                                 use_id="s1")).stdout)
    assert verdict == "deny" and ".env" in reason
    for target in (project / ".spinegate" / "manifest.json", project / ".claude" / "settings.json"):
        verdict, reason = decision(service.answer("claude-code", pre(
            "Write", {"file_path": str(target), "content": "{}"}, use_id=f"w-{target.name}")).stdout)
        assert verdict == "deny" and "RESTRICTED_WRITE_FORBIDDEN" in reason
    verdict, reason = decision(service.answer("claude-code", pre("Bash", {"command": "cat .env"},
                                                                 use_id="b1")).stdout)
    assert verdict == "deny"
    assert decision(service.answer("claude-code", pre("Bash", {"command": "ls -la && git status"},
                                                      use_id="b2")).stdout)[0] == "allow"


def test_relative_paths_resolve_where_the_agent_works(project: Path, service: HookService) -> None:
    sub = project / "pkg"
    sub.mkdir()
    inside = pre("Bash", {"command": "touch made.txt"}, use_id="t1", cwd=str(sub))
    assert decision(service.answer("claude-code", inside).stdout)[0] == "allow"
    made = receipts(project)[-1]
    assert str(sub / "made.txt") in made["action"]["target_paths"]
    outside = pre("Bash", {"command": "touch ../../escaped.txt"}, use_id="t2", cwd=str(sub))
    verdict, reason = decision(service.answer("claude-code", outside).stdout)
    assert verdict == "deny" and "escaped.txt" in reason
