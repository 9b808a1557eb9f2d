"""How the interceptor reads the SDK's objects: the quick reading of pydantic models answers as `getattr` does."""

from __future__ import annotations

from collections import UserDict
from types import SimpleNamespace
from typing import Any

import pytest
from openai.types.chat import ChatCompletionMessage
from openai.types.responses import ResponseFunctionToolCall
from pydantic import BaseModel, ConfigDict

from spinegate_openai.interceptor import _get

_MISSING = object()


def _reference(obj: Any, key: str, default: Any = None) -> Any:
    """What `_get` answered before it learnt per class how to read a key."""
    if isinstance(obj, dict | UserDict):
        return obj.get(key, default)
    return getattr(obj, key, default)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "n"


class _Property(BaseModel):
    @property
    def choices(self) -> str:
        return "a property"


def _message(**extra: Any) -> ChatCompletionMessage:
    return ChatCompletionMessage.model_validate({
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}], **extra})


@pytest.mark.parametrize("obj", [
    _message(),
    _message(choices=[1], output="x", object="response"),  # the SDK keeps unknown fields as extras
    ResponseFunctionToolCall.model_validate({"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}",
                                             "namespace": "ns"}),
    ResponseFunctionToolCall.model_validate({"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}),
    ChatCompletionMessage.model_construct(role=None),  # built without validation
    _Strict(),
    _Property(),
    SimpleNamespace(role="assistant", tool_calls=None),
    {"role": "assistant", "choices": None},
    UserDict({"role": "assistant"}),
], ids=lambda o: type(o).__name__)
@pytest.mark.parametrize("key", ["role", "tool_calls", "choices", "output", "object", "namespace", "caller", "name",
                                 "model_dump", "__class__"])
def test_reads_as_getattr_does(obj: Any, key: str) -> None:
    for _ in range(2):  # the first read learns how to read the key, the second uses what it learnt
        assert _get(obj, key, _MISSING) is _reference(obj, key, _MISSING) or (
            _get(obj, key, _MISSING) == _reference(obj, key, _MISSING))


def test_a_value_set_past_pydantic_is_found() -> None:
    message = _message()
    object.__setattr__(message, "choices", ["set directly"])
    assert _get(message, "choices") == ["set directly"] == message.choices  # type: ignore[attr-defined]


def test_extras_of_one_instance_do_not_leak_into_another() -> None:
    assert _get(_message(output="x"), "output") == "x"
    assert _get(_message(), "output", "default") == "default"
