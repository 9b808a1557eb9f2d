"""Which receipt path runs: the native extension `spinegate._native`, or the pure-Python one.

The native path assembles each receipt canonically from typed fields,
hashes it (SHA-256 from the platform: OpenSSL's libcrypto on Linux,
CommonCrypto on macOS) and hands the store one line to append; it also
hashes call arguments and checks stored lines for `verify` in one pass. The
pure-Python path (`receipt_body`, `receipt_hash`, `canonical`, `receipts`)
writes the same bytes; the tests hold both to ``json.dumps``.

The extension is built by ``pip install`` where a C compiler (and on Linux
OpenSSL's headers) are there; where it is not, or where
``SPINEGATE_PURE_PYTHON=1`` is set when spinegate is first imported, the
pure-Python path runs. `describe()` says which, and why (``spinegate --version``).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

#: Set to 1 to run the pure-Python receipt path (read once, when spinegate is first imported).
PURE_PYTHON_VARIABLE = "SPINEGATE_PURE_PYTHON"


def _load() -> tuple[ModuleType | None, str]:
    if os.environ.get(PURE_PYTHON_VARIABLE, "") not in ("", "0"):
        return None, f"forced by {PURE_PYTHON_VARIABLE}=1"
    try:
        from . import _native  # type: ignore[attr-defined]
    except ImportError as exc:
        return None, f"the native extension is not built here ({exc})"
    return _native, ""


#: The extension module, or None on the pure-Python path.
native: Any
native, _why_not = _load()

#: The extension's marker for "a value this code does not take: use the pure-Python path".
NOT_HANDLED: object = native.NOT_HANDLED if native is not None else object()


def is_native() -> bool:
    """True when receipts are sealed, arguments hashed and lines verified by the native extension."""
    return native is not None


def describe() -> str:
    """One line for people: which receipt path runs, with its SHA-256 source, or why the pure-Python one does."""
    if native is None:
        return f"pure-Python ({_why_not})"
    source = getattr(native, "OPENSSL_VERSION", native.SHA256_BACKEND)
    return f"native (SHA-256 from {source})"
