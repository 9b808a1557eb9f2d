"""The Semantic Kernel filter never writes a receipt on the event loop's thread (fsync durability)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior
from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion, OpenAIChatPromptExecutionSettings
from semantic_kernel.contents import ChatHistory

from loop_guard import guard_receipt_writes
from loopback_model import LoopbackModel, tool_then_answer
from openai import AsyncOpenAI
from semantic_kernel import Kernel
from spinegate import Gate, GovernanceVeto
from spinegate_semantic_kernel import SpineFilter, unwrap_veto

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
        client = AsyncOpenAI(api_key="local-test-key", base_url=model.base_url, max_retries=0, timeout=10)
        service = OpenAIChatCompletion(ai_model_id="local-model", async_client=client)
        history = ChatHistory()
        history.add_user_message("Read notes.txt, then delete it.")
        settings = OpenAIChatPromptExecutionSettings(function_choice_behavior=FunctionChoiceBehavior.Auto())
        await service.get_chat_message_content(history, settings, kernel=kernel)
    assert await kernel.invoke(plugin_name="Files", function_name="read", path="a.txt") is not None
    with pytest.raises(Exception) as info:
        await kernel.invoke(plugin_name="Files", function_name="delete", path="a.txt")
    assert isinstance(unwrap_veto(info.value), GovernanceVeto)
    assert plugin.calls == {"read": 2}
    assert offenders == []
