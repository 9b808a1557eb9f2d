"""`canonical_arguments` on a reused C encoder against `json.dumps` itself."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from perf_strategies import values

from spinegate.canonical import _stand_in, _string_keys, canonical_arguments, iterative_canonical_json


def reference(arguments: Any) -> str:
    """The general definition: json.dumps with the stand-in, then the fallbacks."""
    try:
        return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=_stand_in)
    except TypeError:
        return reference(_string_keys(arguments))
    except (RecursionError, ValueError):
        return iterative_canonical_json(arguments, default=_stand_in)


@settings(max_examples=500, deadline=None)
@given(values)
def test_canonical_arguments_matches_json_dumps(value: Any) -> None:
    assert canonical_arguments(value) == reference(value)


def test_cycles_and_depth_match() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert canonical_arguments(loop) == reference(loop)
    deep: dict[str, Any] = {}
    for _ in range(3000):
        deep = {"x": deep}
    assert canonical_arguments(deep) == reference(deep)
    assert canonical_arguments("plain") == json.dumps("plain")
