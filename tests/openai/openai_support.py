"""Helpers for the OpenAI adapter tests: the manifest, counting tools, one canned turn, receipt checks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RECEIPT_SCHEMA = REPO / "fixtures" / "interop" / "receipt.schema.json"
GIT = {"branch": "test", "commit_before": None, "commit_after": None}


def _entry(function: str, effect: str, allowed: bool = True, reason: str | None = None) -> dict[str, Any]:
    return {"plugin": None, "function": function, "effect_class": effect, "allowed": allowed,
            "reason": reason, "max_calls_per_session": None}


MANIFEST = {
    "version": "1.0.0",
    "posture": "NORMAL",
    "functions": [
        _entry("search", "SHELL_SAFE"),
        _entry("lookup", "SHELL_SAFE"),
        _entry("explode", "SHELL_SAFE"),
        _entry("delete_file", "SHELL_DANGEROUS", False, "DESTRUCTIVE_OPERATION_BLOCKED"),
        _entry("declared_only", "SHELL_SAFE"),
        _entry("apply_patch", "SCOPED_WRITE"),
    ],
}

SEARCH_PARAMS = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"],
                 "additionalProperties": False}
LOOKUP_PARAMS = {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"],
                 "additionalProperties": False}
PATH_PARAMS = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"],
               "additionalProperties": False}

CHAT_SPECS = [
    {"type": "function", "function": {"name": n, "description": n, "parameters": p}}
    for n, p in (("search", SEARCH_PARAMS), ("lookup", LOOKUP_PARAMS), ("delete_file", PATH_PARAMS),
                 ("explode", PATH_PARAMS))
]
RESPONSES_SPECS = [{"type": "function", "name": s["function"]["name"], "parameters": s["function"]["parameters"]}
                   for s in CHAT_SPECS]


class Tools:
    """Real callables (sync and async) that count how often their bodies ran."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    def _ran(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def search(self, query: str) -> dict[str, Any]:
        self._ran("search")
        return {"query": query, "hits": [f"{query}-1", f"{query}-2"]}

    async def lookup(self, key: str) -> str:
        self._ran("lookup")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.05)
        self.in_flight -= 1
        return f"value of {key}"

    def delete_file(self, path: str) -> str:
        self._ran("delete_file")
        return f"deleted {path}"

    def explode(self, path: str) -> str:
        self._ran("explode")
        raise OSError(f"disk on fire at {path}")

    def undeclared(self, path: str) -> str:
        self._ran("undeclared")
        return "must not run"

    def mapping(self) -> dict[str, Callable[..., Any]]:
        return {"search": self.search, "lookup": self.lookup, "delete_file": self.delete_file,
                "explode": self.explode, "undeclared": self.undeclared}


def read_receipts(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="ascii").splitlines()]


def decisions(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Decision receipts by proposal id."""
    return {r["proposal_id"]: r for r in rows if r["action"]["operation"] == "decision"}


def outcomes(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Outcome receipts by proposal id."""
    return {r["proposal_id"]: r for r in rows if r["action"]["operation"] == "outcome"}


# -- one canned model turn with several calls: good, forbidden, malformed ------------------

from loopback_model import (  # noqa: E402
    chat_completion,
    chat_custom_tool_call,
    chat_tool_call,
    custom_tool_call,
    function_call,
    output_message,
    reasoning_item,
    response,
)

# call id -> (tool name, arguments as the model wrote them, what must happen)
TURN: list[tuple[str, str, Any, str]] = [
    ("call_search", "search", {"query": "alpha"}, "ran"),
    ("call_lookup_1", "lookup", {"key": "k1"}, "ran"),
    ("call_lookup_2", "lookup", {"key": "k2"}, "ran"),
    ("call_delete", "delete_file", {"path": "/etc"}, "DESTRUCTIVE_OPERATION_BLOCKED"),
    ("call_badjson", "search", '{"query": "unterminated', "INVALID_ARGUMENTS_JSON"),
    ("call_notobject", "search", "[1, 2]", "ARGUMENTS_NOT_OBJECT"),
    ("call_mismatch", "search", {"q": 1}, "ARGUMENTS_SCHEMA_MISMATCH"),
    ("call_nocallable", "declared_only", {}, "NO_CALLABLE_FOR_TOOL"),
    ("call_unknown", "undeclared", {"path": "x"}, "TOOL_NOT_IN_MANIFEST"),
    ("call_explode", "explode", {"path": "a"}, "failed"),
]
CUSTOM = ("call_custom", "apply_patch", "*** Begin Patch", "UNSUPPORTED_TOOL_CALL_TYPE")
EXPECTED = {cid: what for cid, _, _, what in [*TURN, CUSTOM]}
ORDER = [cid for cid, *_ in TURN] + [CUSTOM[0]]


def chat_turn(model: str = "gpt-test") -> dict[str, Any]:
    calls = [chat_tool_call(cid, name, args) for cid, name, args, _ in TURN]
    calls.append(chat_custom_tool_call(CUSTOM[0], CUSTOM[1], CUSTOM[2]))
    return chat_completion(tool_calls=calls, model=model)


def responses_turn(model: str = "gpt-test") -> dict[str, Any]:
    items: list[dict[str, Any]] = [reasoning_item()]
    items += [function_call(cid, name, args) for cid, name, args, _ in TURN]
    items.append(custom_tool_call(CUSTOM[0], CUSTOM[1], CUSTOM[2]))
    items.append(output_message("working on it"))
    return response(items, model=model)


def check_turn_receipts(rows: list[dict[str, Any]], *, model: str = "gpt-test") -> None:
    """Every call has a decision receipt keyed by its call id; outcomes exactly for the calls that ran."""
    made = decisions(rows)
    done = outcomes(rows)
    assert set(made) == set(EXPECTED)
    for cid, what in EXPECTED.items():
        r = made[cid]
        assert r["executor"]["type"] == "openai"
        assert r["executor"]["model"] == model
        if what in ("ran", "failed"):
            assert r["result"]["status"] == "success", cid
            assert r["result"]["blocked_by"] is None
            assert done[cid]["result"]["status"] == ("success" if what == "ran" else "failed")
        else:
            assert r["result"]["status"] == "blocked", cid
            assert r["result"]["blocked_by"] == what, cid
            assert cid not in done, cid
    # decisions are written in the model's order
    decision_order = [r["proposal_id"] for r in rows if r["action"]["operation"] == "decision"]
    assert decision_order == ORDER


def check_replies(replies: list[dict[str, Any]], *, api: str) -> None:
    """One answer per call, in order, with the right id field and readable text."""
    id_field = "tool_call_id" if api == "chat" else "call_id"
    text_field = "content" if api == "chat" else "output"
    assert [r[id_field] for r in replies] == ORDER
    by_id = {r[id_field]: r for r in replies}
    for cid, what in EXPECTED.items():
        text = by_id[cid][text_field]
        assert isinstance(text, str)
        if what == "ran":
            assert "spinegate refused" not in text
        elif what == "failed":
            assert text.startswith("Error: the tool explode failed: OSError: disk on fire at a")
        else:
            assert text.startswith("spinegate refused the call")
            assert what in text and "receipt " in text and "did not run" in text
    if api == "chat":
        assert all(r["role"] == "tool" for r in replies)
    else:
        types = [r["type"] for r in replies]
        assert types == ["function_call_output"] * len(TURN) + ["custom_tool_call_output"]
