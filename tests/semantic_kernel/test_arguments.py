"""Properties of the KernelArguments -> ToolCall argument translation."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from semantic_kernel.contents import ChatHistory

from semantic_kernel import Kernel
from spinegate_semantic_kernel import sanitize_arguments

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
non_data = st.sampled_from([Kernel(), ChatHistory(), print, object(), lambda: 1])
mixed = st.recursive(
    json_values | non_data | st.binary(max_size=8) | st.tuples(st.integers(), st.text(max_size=3)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_json_arguments_pass_through_unchanged(arguments: dict[str, Any]) -> None:
    result = sanitize_arguments(arguments)
    assert result.data == arguments
    assert result.omitted == ()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), mixed, max_size=5))
def test_any_arguments_become_json_and_only_kernel_objects_are_left_out(arguments: dict[str, Any]) -> None:
    result = sanitize_arguments(arguments)
    json.dumps(result.data, allow_nan=False)  # always plain JSON
    assert set(result.data) | set(result.omitted) == set(arguments)
    assert not set(result.data) & set(result.omitted)
    assert set(result.omitted) == {k for k, v in arguments.items() if isinstance(v, (Kernel, ChatHistory))}
    for name, value in result.data.items():  # any other object is kept as a stand-in naming its type
        if not isinstance(arguments[name], (str, int, float, bool, list, dict, tuple, bytes, type(None))):
            assert value == {"__object__": f"{type(arguments[name]).__module__}.{type(arguments[name]).__qualname__}"}


def test_non_finite_floats_are_written_as_text() -> None:
    data = sanitize_arguments({"a": math.nan, "b": [math.inf]}).data
    assert data == {"a": "nan", "b": ["inf"]}
