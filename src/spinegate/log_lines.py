"""The lines of a JSONL receipt log as every reader that copies or compares it sees them.

Complete lines only: a last line without its newline is torn (still being
written, or cut by a crash) and ends the reading. What verification only
warns about is tolerated: a CR before the newline, and a UTF-8 byte-order
mark at the very start of the log. Used by export, ship, and the checkpoint
and witness checks; the chain verifier reads bytes itself, for speed. A log
that is not a file (the PostgreSQL ledger) is read through a `StreamedLog`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import ReceiptLogError

BOM_TEXT = "\ufeff"


@dataclass(frozen=True)
class StreamedLog:
    """A receipt log that is not a file (the PostgreSQL ledger), as the verifiers read it.

    Each call of `receipt_lines` streams the log's lines again (bytes, each
    with its newline), and `checkpoint_lines` its checkpoints ((number,
    parsed checkpoint or None when not canonical JSON), as
    `jsonl_store.read_checkpoint_lines` gives a file's); every pass must see
    the same content (the ledger reads from one snapshot). `name` and
    `checkpoints_name` name them in reports.
    """

    name: str
    checkpoints_name: str
    receipt_lines: Callable[[], Iterator[bytes]]
    checkpoint_lines: Callable[[], Iterator[tuple[int, Any]]]


@dataclass
class LineReader:
    """Iterates (line number, text without newline, CR or byte-order mark); `torn` tells if a torn line ended it.

    `strict_utf8`: a line that is not UTF-8 raises ReceiptLogError naming it
    (else undecodable bytes become U+FFFD, for readers that only compare).
    `path` is a JSONL file, or a `StreamedLog` whose receipt lines are read.
    """

    path: str | StreamedLog
    strict_utf8: bool = True
    torn: bool = False

    @property
    def name(self) -> str:
        """The log, in messages."""
        return self.path.name if isinstance(self.path, StreamedLog) else self.path

    def __iter__(self) -> Iterator[tuple[int, str]]:
        if isinstance(self.path, StreamedLog):
            yield from self._decoded(self.path.receipt_lines(), self.path.name)
            return
        try:
            fh = open(self.path, "rb")
        except OSError as exc:
            raise ReceiptLogError(f"cannot read: {exc.strerror or exc}", path=self.path) from None
        with fh:
            yield from self._decoded(fh, self.path)

    def _decoded(self, raws: Iterable[bytes], where: str) -> Iterator[tuple[int, str]]:
        for n, raw in enumerate(raws, start=1):
            if not raw.endswith(b"\n"):
                self.torn = True
                return
            try:
                text = raw.decode("utf-8", errors="strict" if self.strict_utf8 else "replace")
            except UnicodeDecodeError as exc:
                raise ReceiptLogError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=where,
                                      line=n) from None
            text = text[:-1].rstrip("\r")
            if n == 1 and text.startswith(BOM_TEXT):
                text = text[1:]
            yield n, text


def json_objects(path: str | os.PathLike[str] | StreamedLog) -> Iterator[tuple[int, dict[str, Any], str]]:
    """(line number, parsed object, text) for each complete line that is a JSON object; the others are skipped."""
    for n, text in LineReader(path if isinstance(path, StreamedLog) else os.fspath(path), strict_utf8=False):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            yield n, data, text
