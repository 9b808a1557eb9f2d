"""Fixtures for the LangChain adapter tests: a sealed manifest, a gate, real tools, a fake chat model."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool, tool

from spinegate import Gate, seal_manifest, verify_path
from spinegate.jsonl_store import flush_deferred

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "fixtures" / "interop" / "receipt.schema.json").read_text(encoding="utf-8"))


def entry(function: str, effect: str, allowed: bool = True, reason: str | None = None,
          plugin: str | None = None, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"plugin": plugin, "function": function, "effect_class": effect, "allowed": allowed,
                         "reason": reason, "max_calls_per_session": None}
    e.update(extra)
    return e


FUNCTIONS = [
    entry("add", "SHELL_SAFE"),
    entry("lookup", "SHELL_SAFE"),
    entry("echo", "SHELL_SAFE"),
    entry("delete_everything", "SHELL_DANGEROUS", False, "DESTRUCTIVE_OPERATION_BLOCKED"),
    entry("deploy", "SHELL_MUTATING", requires_confirmation=True),
    entry("explode", "SHELL_SAFE"),
    entry("Read", "SHELL_SAFE", plugin="Files"),
]


class FakeToolModel(GenericFakeChatModel):
    """LangChain's GenericFakeChatModel plus `bind_tools` (returning self), as LangChain's own tests do."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> FakeToolModel:
        return self


def ai_calls(*calls: tuple[str, dict[str, Any], str], model: str = "fake-chat-1") -> AIMessage:
    """An AIMessage asking for tools: (name, args, id) each; several make a parallel turn."""
    return AIMessage(content="", response_metadata={"model_name": model},
                     tool_calls=[{"name": n, "args": a, "id": i, "type": "tool_call"} for n, a, i in calls])


def fake_model(*turns: AIMessage) -> FakeToolModel:
    return FakeToolModel(messages=iter(list(turns) + [AIMessage(content="all done")]))


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": "1.1.0", "posture": "NORMAL", "functions": FUNCTIONS}), encoding="utf-8")
    seal_manifest(path)
    return path


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "receipts.jsonl"


@pytest.fixture
def gate(manifest_path: Path, log_path: Path) -> Iterator[Gate]:
    g = Gate.open(manifest_path, receipts=log_path, git={"branch": "main", "commit_before": None,
                                                         "commit_after": None})
    yield g
    g.close()


@pytest.fixture
def open_gate(manifest_path: Path, log_path: Path) -> Iterator[Callable[..., Gate]]:
    """Open a gate with options (an approver, a timeout); closed after the test."""
    opened: list[Gate] = []

    def make(**options: Any) -> Gate:
        g = Gate.open(manifest_path, receipts=log_path, **options)
        opened.append(g)
        return g

    yield make
    for g in opened:
        g.close()


@pytest.fixture
def calls() -> Counter[str]:
    """How many times each tool body ran."""
    return Counter()


@pytest.fixture
def tools(calls: Counter[str]) -> dict[str, BaseTool]:
    """Real LangChain tools (from @tool) that count their runs."""

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        calls["add"] += 1
        return a + b

    @tool
    async def lookup(key: str) -> str:
        """Look a key up (async tool)."""
        calls["lookup"] += 1
        return f"value of {key}"

    @tool
    def delete_everything(path: str) -> str:
        """Delete everything under a path."""
        calls["delete_everything"] += 1
        return f"deleted {path}"

    @tool
    def deploy(env: str) -> str:
        """Deploy to an environment."""
        calls["deploy"] += 1
        return f"deployed to {env}"

    @tool
    def explode(reason: str) -> str:
        """A tool that fails."""
        calls["explode"] += 1
        raise RuntimeError(f"boom: {reason}")

    return {t.name: t for t in (add, lookup, delete_everything, deploy, explode)}


def receipts(path: Path) -> list[dict[str, Any]]:
    flush_deferred(path)  # outcomes the gate has sealed but not yet appended
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def check_log(path: Path) -> list[dict[str, Any]]:
    """Verify the chain and validate each receipt against the interop schema; return the receipts."""
    flush_deferred(path)
    report = verify_path(path)
    assert report.ok, report.summary()
    rows = receipts(path)
    for row in rows:
        jsonschema.validate(row, SCHEMA)
    return rows


def decisions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["action"]["operation"] == "decision"]


def outcomes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["action"]["operation"] == "outcome"]


@pytest.fixture
def h() -> SimpleNamespace:
    """The helpers above, for test modules (importlib mode cannot import conftest by name)."""
    return SimpleNamespace(entry=entry, ai_calls=ai_calls, fake_model=fake_model, FakeToolModel=FakeToolModel,
                           receipts=receipts, check_log=check_log, decisions=decisions, outcomes=outcomes,
                           SCHEMA=SCHEMA, ROOT=ROOT)
