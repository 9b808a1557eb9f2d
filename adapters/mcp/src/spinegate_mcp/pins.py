"""Tool definition pins: the defence against a server that changes a tool after it was approved.

A tool's definition is what the model reads and the person approved: its name,
description and input schema. `definition_hash` hashes exactly those three,
canonically (sorted keys, no whitespace, as spinegate hashes arguments), so a
changed word in the description or a new schema property changes the hash and
nothing else does (titles, icons and annotations are presentation).

`ToolPins` remembers the hash of each tool when it is first listed. A later
listing whose hash differs is a changed definition: the proxy hides the tool and
refuses calls to it. Without a file the pins last as long as the proxy; with
`--pin FILE` they are kept in FILE, so a definition that changed between two
runs is caught too. The file is JSON, keyed by server name so that one file can
serve several proxies:

    {"spinegate_mcp_pins": 1,
     "servers": {"filesystem": {"read_file": "<sha256>", ...}}}

A new tool is pinned when first seen (trust on first use) and added to the
file; a changed pin is never overwritten. To accept a changed definition after
reviewing it, delete its line from the file (or the file) and restart the proxy.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from spinegate.canonical import arguments_hash

FORMAT_KEY = "spinegate_mcp_pins"
FORMAT_VERSION = 1
#: Seconds to wait for another proxy holding the pin file's lock.
LOCK_TIMEOUT = 10.0

PinState = Literal["new", "pinned", "changed"]


class PinFileError(Exception):
    """The pin file cannot be read, parsed or written. The message names the file, the place and the fix."""


def definition_hash(tool: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the tool's name, description and input schema."""
    return arguments_hash({
        "name": tool.get("name"),
        "description": tool.get("description"),
        "inputSchema": tool.get("inputSchema"),
    })


@dataclass(frozen=True, slots=True)
class PinCheck:
    """What the pins say about one listed tool: `new` (pinned now), `pinned` (unchanged) or `changed`."""

    state: PinState
    pinned: str | None
    current: str

    @property
    def changed(self) -> bool:
        return self.state == "changed"


class ToolPins:
    """Pinned definition hashes by (server, tool); in memory, and in `path` when given.

    Thread-safe. The file is read when the pins are created (a malformed file
    raises PinFileError: the proxy does not start on pins it cannot trust), and
    rewritten atomically (a temporary file renamed over it, under a lock file
    `<path>.lock`) whenever a new tool is pinned, merging what other proxies
    pinned in the meantime.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._pins: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        if self.path is not None:
            self._pins = _read_pin_file(self.path)

    def check(self, server: str, tool: Mapping[str, Any]) -> PinCheck:
        """Compare `tool` with its pin; pin it (and write the file) when it has none."""
        name = tool.get("name")
        current = definition_hash(tool)
        if not isinstance(name, str):
            return PinCheck("changed", None, current)  # a tool without a name can never match a pin
        with self._lock:
            pinned = self._pins.get(server, {}).get(name)
            if pinned is None:
                pinned = self._pin(server, name, current)
                if pinned == current:
                    return PinCheck("new", current, current)
            if pinned == current:
                return PinCheck("pinned", pinned, current)
            return PinCheck("changed", pinned, current)

    def pinned(self, server: str, tool: str) -> str | None:
        """The pinned hash of `tool`, or None."""
        with self._lock:
            return self._pins.get(server, {}).get(tool)

    def _pin(self, server: str, name: str, digest: str) -> str:
        """Record `digest` for `name` (in the file too); returns the pin in force, which another proxy
        may have written first."""
        if self.path is None:
            self._pins.setdefault(server, {})[name] = digest
            return digest
        try:
            with FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT):
                on_disk = _read_pin_file(self.path)
                existing = on_disk.get(server, {}).get(name)
                if existing is None:
                    on_disk.setdefault(server, {})[name] = digest
                    _write_pin_file(self.path, on_disk)
                self._pins = on_disk
                return existing or digest
        except Timeout:
            raise PinFileError(f"{self.path}: another process holds {self.path}.lock for more than "
                               f"{LOCK_TIMEOUT:g} s; if no proxy is running, delete the lock file") from None


def _read_pin_file(path: Path) -> dict[str, dict[str, str]]:
    """The pins in `path` ({} when the file does not exist yet); PinFileError for anything else unusable."""
    if not path.exists():
        return {}
    if not path.is_file():  # a FIFO or device would hang the reader
        raise PinFileError(f"{path}: not a regular file; --pin takes a JSON file (it is created if missing)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PinFileError(f"{path}: cannot be read: {exc}") from None
    if not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PinFileError(f"{path}: not JSON ({exc}); fix or delete the file (its tools are then pinned "
                           "again when first listed)") from None
    if not isinstance(doc, dict) or doc.get(FORMAT_KEY) != FORMAT_VERSION or not isinstance(doc.get("servers"), dict):
        raise PinFileError(f"{path}: not a spinegate-mcp pin file (expected {{\"{FORMAT_KEY}\": {FORMAT_VERSION}, "
                           "\"servers\": {...}}); pass another path to --pin or delete the file")
    pins: dict[str, dict[str, str]] = {}
    for server, tools in doc["servers"].items():
        if not isinstance(tools, dict):
            raise PinFileError(f"{path}: servers.{server} must be an object of tool name to SHA-256")
        for tool, digest in tools.items():
            if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
                raise PinFileError(f"{path}: servers.{server}.{tool} is not a SHA-256 hex digest; "
                                   "delete that entry to pin the tool again")
        pins[server] = dict(tools)
    return pins


def _write_pin_file(path: Path, pins: Mapping[str, Mapping[str, str]]) -> None:
    """Write `pins` to `path` atomically: a reader sees the old file or the new one, never a part.

    Called under the pin file's lock, so one fixed temporary name beside it is enough.
    """
    doc = {FORMAT_KEY: FORMAT_VERSION, "servers": {s: dict(sorted(t.items())) for s, t in sorted(pins.items())}}
    staging = path.with_name(f".{path.name}.writing")
    try:
        with open(staging, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(staging, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            staging.unlink(missing_ok=True)
        raise PinFileError(f"{path}: cannot be written: {exc}; check the directory's permissions") from None
