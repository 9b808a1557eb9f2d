"""The Semantic Kernel filter never writes a receipt on the event loop's thread (fsync durability)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loop_guard import guard_receipt_writes
from loopback_model import LoopbackModel, tool_then_answer
from semantic_kernel import Kernel
from spinegate import Gate, GovernanceVeto
from spinegate_semantic_kernel import SpineFilter, unwrap_veto

from .test_auto_invoke import _chat

CALLS = [("call_read", "Files-read", {"path": "notes.txt"}), ("call_delete", "Files-delete", {"path": "notes.txt"})]


@pytest.fixture
def durable_gate(manifest_path: Path, tmp_path: Path) -> Iterator[Gate]:
    with Gate.open(manifest_path, receipts=tmp_path / "durable.jsonl", durability="fsync",
                   git={"branch": "test", "commit_before": None, "commit_after": None}) as g:
        yield g


async def test_model_chosen_and_direct_calls(kernel: Kernel, plugin: Any, durable_gate: Gate,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    offenders = guard_receipt_writes(monkeypatch)
    SpineFilter(durable_gate).attach(kernel)
    with LoopbackModel(chat=tool_then_answer(CALLS)) as model:
        await _chat(kernel, model)
    assert await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt") is not None
    with pytest.raises(Exception) as info:
        await kernel.invoke(plugin_name="Files", function_name="delete", path="a.txt")
    assert isinstance(unwrap_veto(info.value), GovernanceVeto)
    assert plugin.calls == {"read": 2}
    assert offenders == []
