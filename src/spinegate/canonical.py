"""Canonical serialisation, byte-for-byte as SPEC.md defines it. Pure.

Receipts serialise as Python's ``json.dumps(value, sort_keys=True,
separators=(",", ":"))`` with its defaults (``ensure_ascii`` on); the
receipt hash itself, and its fast paths, are `receipt_hash`'s. Manifests
hash with sorted keys, no whitespace, raw UTF-8 and numbers exactly as
written in the file. Arguments hash like receipts, with a stable stand-in for
values that are not JSON, and survive nesting deeper than the recursion limit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

_dumps = json.dumps

def canonical_json(value: Any) -> str:
    """Serialise `value` exactly as the receipt hash rule requires."""
    return _dumps(value, sort_keys=True, separators=(",", ":"))


def sha256_hex(data: str | bytes) -> str:
    """SHA-256 of text (as UTF-8) or bytes, lowercase hex."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Arguments: any Python value, hashed stably.


def _stand_in(obj: Any) -> Any:
    """JSON stand-in for a value that is not JSON data (bytes, objects, sets)."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {"__bytes_sha256__": hashlib.sha256(bytes(obj)).hexdigest(), "length": len(obj)}
    if isinstance(obj, (set, frozenset)):
        return sorted(canonical_arguments(x) for x in obj)
    if isinstance(obj, tuple):
        return list(obj)
    dump = getattr(obj, "model_dump", None)  # pydantic models
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:  # noqa: BLE001 - fall back to the type name below
            pass
    return {"__object__": f"{type(obj).__module__}.{type(obj).__qualname__}"}


def _string_keys(value: Any) -> Any:
    """Copy of `value` whose dict keys are all strings (json.dumps's own key rules)."""
    stack: list[tuple[Any, Any]] = []
    root = _copy_shell(value)
    stack.append((value, root))
    while stack:
        src, dst = stack.pop()
        if isinstance(src, dict):
            for k, v in src.items():
                key = k if isinstance(k, str) else _dumps(k, default=str).strip('"')
                child = _copy_shell(v)
                dst[key] = child
                if child is not v:
                    stack.append((v, child))
        else:
            for v in src:
                child = _copy_shell(v)
                dst.append(child)
                if child is not v:
                    stack.append((v, child))
    return root


def _copy_shell(value: Any) -> Any:
    if isinstance(value, dict):
        return {}
    if isinstance(value, (list, tuple)):
        return []
    return value


def _arguments_encoder() -> Callable[[Any], str] | None:
    """json's own C encoder, made once, for the settings `json.dumps` would use.

    `json.dumps(..., sort_keys=True, separators=(",", ":"), default=_stand_in)`
    builds a JSONEncoder and a C encoder on every call; reusing one C encoder
    gives the same bytes for less than half the time. It is made without a
    circular-reference table: a cycle then ends in RecursionError instead of
    ValueError, and `canonical_arguments` treats both alike.
    """
    try:
        from json.encoder import c_make_encoder  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - CPython always has it
        return None
    if c_make_encoder is None:  # pragma: no cover
        return None
    encode = c_make_encoder(None, _stand_in, encode_basestring_ascii, None, ":", ",", True, False, True)

    def run(value: Any) -> str:
        if isinstance(value, str):  # json.dumps special-cases a bare string
            return encode_basestring_ascii(value)
        return "".join(encode(value, 0))

    return run


_encode_arguments = _arguments_encoder()


def _plain_arguments(arguments: Any) -> str:
    if _encode_arguments is not None:
        return _encode_arguments(arguments)
    return _dumps(arguments, sort_keys=True, separators=(",", ":"), default=_stand_in)  # pragma: no cover


def canonical_arguments(arguments: Any) -> str:
    """Canonical JSON of a call's arguments, for the receipt's argument hash.

    Never raises for ordinary Python data: objects that are not JSON get a
    stand-in, non-string keys are stringified, and nesting deeper than the
    interpreter's recursion limit is encoded iteratively.
    """
    try:
        return _plain_arguments(arguments)
    except TypeError:  # mixed key types cannot be sorted
        return canonical_arguments(_string_keys(arguments))
    except (RecursionError, ValueError):
        return iterative_canonical_json(arguments, default=_stand_in)


def arguments_hash(arguments: Any) -> str:
    return sha256_hex(canonical_arguments(arguments))


def iterative_canonical_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """The same bytes as `canonical_json`, without recursion (any depth).

    Used for hostile, deeply nested input; tested against `json.dumps`.
    Circular references are written as a marker instead of looping forever.
    """
    out: list[str] = []
    # Work items: either a literal string to emit, or a value to encode.
    stack: list[tuple[bool, Any]] = [(False, value)]
    active: set[int] = set()
    while stack:
        is_literal, item = stack.pop()
        if is_literal:
            if isinstance(item, tuple):  # ("leave", id) marker
                active.discard(item[1])
            else:
                out.append(item)
            continue
        if isinstance(item, str):
            out.append(encode_basestring_ascii(item))
        elif item is None:
            out.append("null")
        elif item is True:
            out.append("true")
        elif item is False:
            out.append("false")
        elif isinstance(item, int):
            out.append(int.__repr__(item))
        elif isinstance(item, float):
            out.append(_float_repr(item))
        elif isinstance(item, (dict, list, tuple)):
            if id(item) in active:
                out.append('"<circular>"')
                continue
            active.add(id(item))
            pending: list[tuple[bool, Any]] = [(True, ("leave", id(item)))]
            if isinstance(item, dict):
                keys = sorted(item.keys())
                pending.append((True, "}"))
                for i in range(len(keys) - 1, -1, -1):
                    k = keys[i]
                    pending.append((False, item[k]))
                    pending.append((True, ("," if i else "") + encode_basestring_ascii(str(k)) + ":"))
                pending.append((True, "{"))
            else:
                pending.append((True, "]"))
                for i in range(len(item) - 1, -1, -1):
                    pending.append((False, item[i]))
                    if i:
                        pending.append((True, ","))
                pending.append((True, "["))
            stack.extend(pending)
        elif default is not None:
            stack.append((False, default(item)))
        else:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
    return "".join(out)


def _float_repr(x: float) -> str:
    if x != x:
        return "NaN"
    if x == float("inf"):
        return "Infinity"
    if x == -float("inf"):
        return "-Infinity"
    return float.__repr__(x)


# --------------------------------------------------------------------------
# Manifests: numbers as written in the file, raw UTF-8.


class RawNumber:
    """A JSON number kept exactly as written, so the manifest hash sees its text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def value(self) -> int | float:
        try:
            return int(self.text)
        except ValueError:
            return float(self.text)

    def __repr__(self) -> str:
        return f"RawNumber({self.text})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def manifest_canonical(value: Any) -> str:
    """Sorted keys, no whitespace, raw UTF-8, numbers as written."""
    if isinstance(value, dict):
        return "{" + ",".join(
            encode_basestring(k) + ":" + manifest_canonical(value[k]) for k in sorted(value)
        ) + "}"
    if isinstance(value, list):
        return "[" + ",".join(manifest_canonical(v) for v in value) + "]"
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def manifest_hash(raw: dict[str, Any]) -> str:
    """The manifest hash of a raw manifest document (as parsed by `manifest.parse_raw_manifest`)."""
    body = {k: v for k, v in raw.items() if k != "manifest_hash"}
    return sha256_hex(manifest_canonical(body))
