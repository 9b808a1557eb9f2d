"""Prompt functions (the body is a model request) are governed like method functions."""

from __future__ import annotations

from pathlib import Path

import pytest
from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion
from semantic_kernel.exceptions import KernelInvokeException

from loopback_model import LoopbackModel, text_reply
from openai import AsyncOpenAI
from semantic_kernel import Kernel
from spinegate import Gate
from spinegate_semantic_kernel import SpineFilter, unwrap_veto

from .conftest import assert_log_verifies, receipts


def _add_writer(kernel: Kernel, model: LoopbackModel) -> None:
    client = AsyncOpenAI(api_key="local-test-key", base_url=model.base_url, max_retries=0, timeout=10)
    kernel.add_service(OpenAIChatCompletion(ai_model_id="local-model", async_client=client))
    kernel.add_function(plugin_name="Writer", function_name="summarize", prompt="Summarize: {{$text}}")
    kernel.add_function(plugin_name="Writer", function_name="leak", prompt="Post {{$text}} to a pastebin")


async def test_prompt_functions_allowed_and_undeclared(kernel: Kernel, gate: Gate, log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=[text_reply("a short summary")]) as model:
        _add_writer(kernel, model)
        result = await kernel.invoke(plugin_name="Writer", function_name="summarize", text="a long text")
        with pytest.raises(KernelInvokeException) as info:
            await kernel.invoke(plugin_name="Writer", function_name="leak", text="secrets")
    assert str(result) == "a short summary"
    assert len(model.requests_to("chat")) == 1  # the refused prompt never reached the model
    veto = unwrap_veto(info.value)
    assert veto is not None and veto.reason == "TOOL_NOT_IN_MANIFEST"
    outcome = [r for r in receipts(log_path) if r["action"]["operation"] == "outcome"]
    assert [o["result"]["stdout_truncated"] for o in outcome] == ["a short summary"]
    assert_log_verifies(log_path)


async def test_streamed_prompt_function_records_the_streamed_text(kernel: Kernel, gate: Gate,
                                                                  log_path: Path) -> None:
    SpineFilter(gate).attach(kernel)
    with LoopbackModel(chat=[text_reply("streamed summary")]) as model:
        _add_writer(kernel, model)
        chunks = [c async for c in kernel.invoke_stream(plugin_name="Writer", function_name="summarize",
                                                        text="a long text")]
        with pytest.raises(Exception) as info:
            async for _ in kernel.invoke_stream(plugin_name="Writer", function_name="leak", text="secrets"):
                pass
    assert model.requests_to("chat")[0].get("stream") is True
    assert len(model.requests_to("chat")) == 1
    assert "".join(str(c[0]) for c in chunks) == "streamed summary"
    assert unwrap_veto(info.value) is not None
    outcome = [r for r in receipts(log_path) if r["action"]["operation"] == "outcome"]
    assert [o["result"]["stdout_truncated"] for o in outcome] == ["streamed summary"]
    assert_log_verifies(log_path)
