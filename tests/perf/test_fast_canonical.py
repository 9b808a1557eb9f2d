"""`canonical_arguments` on a reused C encoder against `json.dumps` itself."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spinegate.canonical import _stand_in, _string_keys, canonical_arguments, iterative_canonical_json


def reference(arguments: Any) -> str:
    """The general definition: json.dumps with the stand-in, then the fallbacks."""
    try:
        return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=_stand_in)
    except TypeError:
        return reference(_string_keys(arguments))
    except (RecursionError, ValueError):
        return iterative_canonical_json(arguments, default=_stand_in)


class Opaque:
    pass


chars = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None, codec=None)
keys = st.one_of(st.text(alphabet=chars, max_size=6), st.integers(-5, 5), st.floats(allow_nan=False),
                 st.none(), st.booleans())
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80), st.floats(),
    st.text(alphabet=chars, max_size=8), st.binary(max_size=4), st.just(Opaque()),
    st.frozensets(st.integers(0, 3), max_size=3),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(alphabet=chars, max_size=6), inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=3)),
    max_leaves=12,
)


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
