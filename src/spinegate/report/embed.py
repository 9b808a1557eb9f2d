"""How the report page carries the log: text inside `<script>` elements that nothing can break out of.

The receipts go into `<script type="application/jsonl" id="spinegate-receipts">`,
one line per line of the log. A line that is JSON goes in as written, except
that `<`, `>` and `&` become `\\u003c`, `\\u003e` and `\\u0026`: those characters
only occur inside strings in JSON, where the escape means the same character,
so the parsed values (and the hashes) are unchanged, and no `</script>` or
`<!--` can appear in the element. Anything else goes in byte for byte as
base64 behind a marker that no JSON text starts with:

    !base64 B64                  a complete line that is not JSON, not UTF-8, or holds a carriage return
                                 or a byte-order mark
    !torn B64                    the last line of the log, which has no newline (an interrupted write)
    !file B64(PATH) B64(BYTES)   one file of the per-session directory layout

The page's JavaScript (`assets/verify.js`, `entriesFromEmbedded`) reads it back.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..verify import BOM

BASE64_MARK = "!base64 "
TORN_MARK = "!torn "
FILE_MARK = "!file "


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def escape_markup(json_text: str) -> str:
    """JSON text with `<`, `>` and `&` written as JSON escapes (valid only for JSON, where they sit inside strings)."""
    return json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def embed_line(raw: bytes, *, is_json: bool, complete: bool = True) -> tuple[str, bool]:
    """(the embedded form of one JSONL line, whether it went in as JSON text).

    `is_json`: the line is UTF-8 and Python's JSON parser accepts it. A
    carriage return would become a line break in the HTML parser, and the
    HTML parser may drop a leading byte-order mark, so such a line goes in as
    base64 too (the page warns about both, as `spinegate verify` does).
    """
    if not complete:
        return TORN_MARK + _b64(raw), False
    if not is_json or b"\r" in raw or raw.startswith(BOM):
        return BASE64_MARK + _b64(raw), False
    return escape_markup(raw.decode("utf-8")), True


def embed_file(relative_path: str, raw: bytes) -> str:
    """The embedded form of one file of the per-session directory layout."""
    return FILE_MARK + _b64(relative_path.encode("utf-8", "surrogateescape")) + " " + _b64(raw)


def embed_raw_line(raw: bytes, *, complete: bool = True) -> str:
    """A line embedded byte for byte (the checkpoint file's lines go in this way)."""
    return (BASE64_MARK if complete else TORN_MARK) + _b64(raw)


def script_text(lines: list[str]) -> str:
    """The text of an embedding `<script>` element: a newline, then one line each."""
    return "\n" + "".join(line + "\n" for line in lines)


def json_for_script(value: Any) -> str:
    """JSON for a `<script type="application/json">` element (ASCII, markup characters escaped)."""
    return escape_markup(json.dumps(value, ensure_ascii=True, separators=(",", ":")))
