"""Turn Semantic Kernel's `KernelArguments` into the data the gate decides on.

`KernelArguments` is a dict that can hold anything: the model's JSON
arguments, but also a `Kernel`, an AI service, a chat history or a callback
that a caller passes along. Only data belongs in a `ToolCall` (it is hashed
into the receipt and read by argument rules), so:

- JSON values (str, int, float, bool, None, lists, tuples, dicts) are kept;
  dict keys become strings.
- Plain data objects are converted: enums to their value, dates and times to
  ISO text, UUIDs, decimals and paths (any `os.PathLike`) to text, bytes to a
  hash stand-in, dataclasses and pydantic models to their fields (Semantic
  Kernel's own models such as `Kernel`, services and `ChatHistory` excepted).
- Semantic Kernel's own objects passed as arguments (a `Kernel`, an AI
  service, a `ChatHistory`: any `KernelBaseModel`) are the framework's
  plumbing, not call data: they are left out, and their names reported in
  `SanitizedArguments.omitted`.
- Any other object is not data either, but it may be what the function acts
  on (an object whose text is a path, say), so it is never dropped silently:
  it is replaced by ``{"__object__": "module.Type"}``, the stand-in spinegate
  uses elsewhere. An argument rule that expects a path or a command line
  then cannot read it and the gate denies, rather than approving a call whose
  target it never saw.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import hashlib
import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from semantic_kernel.kernel_pydantic import KernelBaseModel

MAX_DEPTH = 64
"""Deeper nesting is cut with a stand-in: argument data that deep is not a real call."""


@dataclass(frozen=True, slots=True)
class SanitizedArguments:
    """The data part of a call's arguments, and the names left out."""

    data: dict[str, Any]
    omitted: tuple[str, ...]


def _stand_in(value: Any) -> dict[str, str]:
    """What takes the place of an object that is not data: its type's name."""
    return {"__object__": f"{type(value).__module__}.{type(value).__qualname__}"}


def _convert(value: Any, depth: int) -> Any:
    """JSON-like copy of `value`; objects that are not data become stand-ins."""
    if type(value) is str:  # the common case first (an Enum that is also a str is no plain str)
        return value
    if isinstance(value, enum.Enum):
        return _convert(value.value, depth)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(float(value))
    if depth >= MAX_DEPTH:
        return {"__truncated__": f"nesting deeper than {MAX_DEPTH}"}
    if isinstance(value, Mapping):
        return {str(k): _convert(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_convert(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [_convert(v, depth + 1) for v in value]
        return sorted(items, key=repr)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fsdecode(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return {"__bytes_sha256__": hashlib.sha256(raw).hexdigest(), "length": len(raw)}
    if isinstance(value, KernelBaseModel):  # Kernel, services, ChatHistory, plugins: not call data
        return _stand_in(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _convert(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        try:
            return _convert(dump(mode="json"), depth + 1)
        except Exception:  # noqa: BLE001 - a model that cannot dump itself is not data
            return _stand_in(value)
    return _stand_in(value)


def sanitize_arguments(arguments: Mapping[str, Any] | None) -> SanitizedArguments:
    """Split `arguments` into JSON-like data (kept, other objects as stand-ins) and SK objects (left out)."""
    data: dict[str, Any] = {}
    omitted: list[str] = []
    for key, value in (arguments or {}).items():
        if type(value) is str:  # the common case, without the abstract-class check below
            data[str(key)] = value
        elif isinstance(value, KernelBaseModel):
            omitted.append(str(key))
        else:
            data[str(key)] = _convert(value, 0)
    return SanitizedArguments(data, tuple(omitted))
