"""Fail closed: no receipt means no run; arbitrary model output never crashes and never runs what it should not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai_support import GIT, MANIFEST, SEARCH_PARAMS

from loopback_model import chat_completion, chat_tool_call, function_call
from spinegate import Approval, Gate, MemoryReceiptStore, load_manifest
from spinegate.canonical import manifest_hash
from spinegate.manifest import manifest_from_raw
from spinegate_openai import ToolCallInterceptor


def _manifest(extra: list[dict[str, Any]] | None = None) -> Any:
    raw = json.loads(json.dumps(MANIFEST))
    raw["functions"] += extra or []
    raw["manifest_hash"] = manifest_hash(raw)
    return manifest_from_raw(raw)


class BrokenStore(MemoryReceiptStore):
    """A receipt store whose disk is gone."""

    def append(self, line: str) -> None:
        raise OSError("No space left on device")


def test_unwritable_receipts_mean_nothing_runs(tools) -> None:
    gate = Gate(_manifest(), BrokenStore(), git=GIT)
    results = ToolCallInterceptor(gate, tools.mapping()).process(
        chat_completion(tool_calls=[chat_tool_call("a", "search", {"query": "x"}),
                                    chat_tool_call("b", "lookup", {"key": "k"})]))
    assert tools.calls == {}
    assert all(not r.ran and r.decision.reason.startswith("RECEIPT_WRITE_FAILED") for r in results)
    assert all("did not run" in r.output for r in results)


async def test_escalation_goes_to_the_approver(tools) -> None:
    """Entries that require confirmation are put to the gate's approver before anything runs."""
    confirm = {"plugin": None, "function": "lookup", "effect_class": "SHELL_SAFE", "allowed": True, "reason": None,
               "max_calls_per_session": None, "requires_confirmation": True}
    raw = json.loads(json.dumps(MANIFEST))
    raw["functions"] = [f for f in raw["functions"] if f["function"] != "lookup"] + [confirm]
    raw["manifest_hash"] = manifest_hash(raw)
    asked: list[str] = []

    async def approver(request: Any) -> Approval:
        asked.append(request.call.arguments["key"])
        return Approval(request.call.arguments["key"] == "yes", by="reviewer")

    store = MemoryReceiptStore()
    gate = Gate(manifest_from_raw(raw), store, git=GIT, approver=approver)
    results = await ToolCallInterceptor(gate, tools.mapping()).aprocess(
        [function_call("y", "lookup", {"key": "yes"}), function_call("n", "lookup", {"key": "no"})])
    assert asked == ["yes", "no"]
    assert [r.ran for r in results] == [True, False]
    assert results[1].decision.reason == "APPROVAL_DENIED"
    assert tools.calls == {"lookup": 1}


names = st.sampled_from(["search", "lookup", "delete_file", "declared_only", "undeclared", "", "x" * 300])
raw_args = st.one_of(
    st.text(max_size=40),
    st.builds(json.dumps, st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                                       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c,
                                                                                            max_size=3),
                                       max_leaves=6)),
    st.builds(json.dumps, st.fixed_dictionaries({"query": st.text(max_size=10)})),
    st.builds(json.dumps, st.fixed_dictionaries({"key": st.text(max_size=10)})),
)
calls = st.lists(st.tuples(st.text(min_size=0, max_size=8), names, raw_args), max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(proposed=calls, use_responses=st.booleans())
def test_arbitrary_model_output_never_crashes(proposed: list[tuple[str, str, str]], use_responses: bool) -> None:
    from openai_support import Tools

    tools = Tools()
    store = MemoryReceiptStore()
    gate = Gate(_manifest(), store, git=GIT)
    interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters={"search": SEARCH_PARAMS})
    if use_responses:
        output: Any = [function_call(cid, name, args) for cid, name, args in proposed]
    else:
        output = chat_completion(tool_calls=[chat_tool_call(cid, name, args) for cid, name, args in proposed])
    results = interceptor.process(output)

    assert len(results) == len(proposed)  # one answer per call, in order
    for (cid, name, args), result in zip(proposed, results):
        assert result.reply.get("tool_call_id", result.reply.get("call_id")) == cid
        if result.ran:  # only a well-formed call to an allowed, declared tool with a callable runs
            assert name in ("search", "lookup") and result.decision.approved and cid
            parsed = json.loads(args)
            assert isinstance(parsed, dict)
            assert set(parsed) == ({"query"} if name == "search" else {"key"})
            assert name != "search" or isinstance(parsed["query"], str)
    assert tools.calls.get("delete_file", 0) == 0 and tools.calls.get("undeclared", 0) == 0
    # every call left exactly one decision receipt
    decided = [r for r in store.receipts() if r["action"]["operation"] == "decision"]
    assert len(decided) == len(proposed)


def test_manifest_loaded_from_disk_is_the_same(manifest_path) -> None:
    """The in-memory manifests used above match the sealed file the other tests use."""
    assert load_manifest(manifest_path).manifest_hash == _manifest().manifest_hash


DEEP = "[" * 100_000 + "]" * 100_000  # valid-looking JSON nested deeper than the parser's recursion limit


@pytest.mark.parametrize("use_responses", [False, True])
@pytest.mark.parametrize("raw", [DEEP, '{"query": ' + "[" * 5_000 + "]" * 5_000 + "}"])
async def test_arguments_nested_too_deeply_are_refused_not_raised(tools, use_responses: bool, raw: str) -> None:
    store = MemoryReceiptStore()
    gate = Gate(_manifest(), store, git=GIT)
    interceptor = ToolCallInterceptor(gate, tools.mapping(), parameters={"search": SEARCH_PARAMS})
    output: Any = ([function_call("deep", "search", raw)] if use_responses
                   else chat_completion(tool_calls=[chat_tool_call("deep", "search", raw)]))
    for results in (interceptor.process(output), await interceptor.aprocess(output)):
        (result,) = results
        assert not result.ran and result.decision.reason == "INVALID_ARGUMENTS_JSON"
        assert result.decision.receipt_id in result.output
    assert tools.calls == {}
    assert [r["result"]["blocked_by"] for r in store.receipts()] == ["INVALID_ARGUMENTS_JSON"] * 2


def test_odd_shapes_of_tool_calls_are_refused_not_raised(tools) -> None:
    """Payloads no schema promises (the SDK builds its objects without validating them)."""
    store = MemoryReceiptStore()
    gate = Gate(_manifest(), store, git=GIT)
    interceptor = ToolCallInterceptor(gate, tools.mapping())
    odd_type = interceptor.process({"role": "assistant", "tool_calls": [{"id": "t", "type": ["function"]}]})
    assert [(r.decision.reason, r.reply["tool_call_id"]) for r in odd_type] == [("UNSUPPORTED_TOOL_CALL_TYPE", "t")]
    not_a_list = interceptor.process({"role": "assistant", "tool_calls": {"id": "one", "type": "function",
                                                                          "function": {"name": "search"}}})
    assert [(r.decision.reason, r.reply["tool_call_id"]) for r in not_a_list] == [("INVALID_ARGUMENTS_JSON", "one")]
    assert interceptor.process([{"type": ["function_call"], "call_id": "x"}]) == []  # not a call: no answer
    assert tools.calls == {}
    assert len(store.receipts()) == 2


def test_shadow_mode_still_refuses_a_call_with_nothing_to_run(tools) -> None:
    """Shadow mode approves policy denials, but an undeclared tool with no callable cannot run: refused."""
    store = MemoryReceiptStore()
    gate = Gate(_manifest(), store, git=GIT, shadow=True)
    (result,) = ToolCallInterceptor(gate, tools.mapping()).process(
        chat_completion(tool_calls=[chat_tool_call("s", "no_such_tool", {"x": 1})]))
    assert not result.decision.approved and not result.ran
    assert result.decision.reason == "TOOL_NOT_IN_MANIFEST"
    assert result.output.startswith("spinegate refused the call to no_such_tool: TOOL_NOT_IN_MANIFEST")
    (row,) = store.receipts()
    assert row["result"]["status"] == "blocked" and row["proposal_id"] == "s"


class FailsFrom(MemoryReceiptStore):
    """A receipt store whose disk fills up after `good` receipts."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def append(self, line: str) -> None:
        if len(self.receipts()) >= self.good:
            raise OSError("No space left on device")
        super().append(line)


@pytest.mark.parametrize("use_async", [False, True])
async def test_an_unwritable_outcome_receipt_loses_no_result(tools, caplog, use_async: bool) -> None:
    """Both calls ran before their outcome receipts failed: both answers come back, the failure is logged,
    and the next turn is refused because the log is still unwritable."""
    gate = Gate(_manifest(), FailsFrom(good=2), git=GIT)
    interceptor = ToolCallInterceptor(gate, tools.mapping())
    turn = chat_completion(tool_calls=[chat_tool_call("a", "search", {"query": "x"}),
                                       chat_tool_call("b", "lookup", {"key": "k"})])
    results = await interceptor.aprocess(turn) if use_async else interceptor.process(turn)
    assert [(r.ran, r.outcome_receipt_id) for r in results] == [(True, None), (True, None)]
    assert results[1].output == "value of k"
    assert tools.calls == {"search": 1, "lookup": 1}
    assert caplog.text.count("outcome receipt for decision") == 2
    again = interceptor.process(turn)
    assert all(not r.ran and r.decision.reason.startswith("RECEIPT_WRITE_FAILED") for r in again)
    assert tools.calls == {"search": 1, "lookup": 1}
