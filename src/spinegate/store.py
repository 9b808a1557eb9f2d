"""The receipt store interface: what every place receipts are kept must do.

A store keeps sealed receipts and signed checkpoints, append-only. It does
not build, number or chain receipts: the emitter owns a session's chain
state (sequence number, previous hash) and hands the store each receipt
sealed, with its canonical line (`Receipt.to_json()`). A store owns:

- appending a sealed receipt, durable to its `durability` setting: `write_receipt`
  puts it in the store and returns a ticket, `sync(ticket)` returns once it
  is as durable as promised (so concurrent writers can share one fsync, or
  one database commit); a receipt must never be lost or reordered after
  `sync` returned, and a store that cannot keep that promise raises
  `ReceiptWriteError` (the gate then denies);
- serialising writers (threads, processes) so lines never interleave and
  nothing is appended after a torn record;
- reading back: the last receipt of a session (to continue its chain), the
  receipts of one session, or every receipt, in the order written;
- the same for signed checkpoints: `write_checkpoint` makes every receipt
  written so far durable first, then the checkpoint (a checkpoint never
  covers a receipt that could still be lost).

Implementations: `jsonl_store.JsonlReceiptStore` (a JSONL file and a
checkpoint sidecar; the default), `postgres_store.PostgresReceiptStore` (a
PostgreSQL ledger many hosts share, for a `postgresql://` URL; the extra
`spinegate[postgres]`) and `memory_store.MemoryReceiptStore` (tests and
benchmarks). `open_store` picks one for `Gate.open(receipts=...)`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from .receipts import Receipt

#: "flush": to the operating system before the call runs (survives the process, not the machine);
#: "fsync": to the disk (survives a power cut), with group commit.
Durability = Literal["flush", "fsync"]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One receipt or checkpoint read back from a store.

    `position` says where it is (a 1-based line number in a file, the row
    order in a database); `data` is its parsed JSON object; `text` is
    exactly what was stored (for the gate's own writes, the canonical line,
    which makes re-hashing cheap).
    """

    position: int
    data: dict[str, Any]
    text: str


@runtime_checkable
class ReceiptStore(Protocol):
    """Where receipts and checkpoints are kept. See the module docstring for what a store must own."""

    #: Where the store is, for messages: a path, a DSN without its password, "<memory>".
    location: str
    durability: Durability

    def write_receipt(self, receipt: Receipt) -> int:
        """Append one sealed receipt; return the ticket to pass to `sync`. Raises ReceiptWriteError."""
        ...

    def sync(self, ticket: int) -> None:
        """Return once the receipt with `ticket` is as durable as `durability` promises."""
        ...

    def last_receipt(self, session_id: str) -> dict[str, Any] | None:
        """The last receipt written for `session_id`, parsed, or None. Raises ReceiptLogError if unreadable."""
        ...

    def session_receipts(self, session_id: str) -> Iterator[StoredRecord]:
        """Every complete receipt of `session_id` that parses as a JSON object, in the order written."""
        ...

    def all_receipts(self) -> Iterator[StoredRecord]:
        """Every complete receipt that parses as a JSON object, in the order written."""
        ...

    def write_checkpoint(self, checkpoint: Mapping[str, Any], line: str) -> None:
        """Make every receipt written so far durable, then append a signed checkpoint (its canonical `line`)."""
        ...

    def session_checkpoints(self, session_id: str) -> Iterator[StoredRecord]:
        """Every complete checkpoint of `session_id` whose line is canonical JSON, in the order written."""
        ...

    def all_checkpoints(self) -> Iterator[StoredRecord]:
        """Every complete checkpoint whose line is canonical JSON, in the order written."""
        ...

    def close(self) -> None:
        """Make everything durable and release the store. Idempotent."""
        ...


#: How a PostgreSQL connection URL starts (libpq accepts both spellings).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(text: str) -> bool:
    """True for a `postgresql://` (or `postgres://`) connection URL, as opposed to a file path."""
    return text.startswith(POSTGRES_SCHEMES)


def open_store(receipts: ReceiptStore | str | os.PathLike[str], *, durability: Durability = "flush",
               checkpoints: str | os.PathLike[str] | None = None, signing: bool = False) -> ReceiptStore:
    """The store for `Gate.open(receipts=...)`: a path opens a JSONL store, a `postgresql://` URL the
    PostgreSQL ledger; a store object is used as it is.

    `checkpoints` (the checkpoint file of a JSONL log, default
    `<log>.checkpoints.jsonl`) and `signing` (open the checkpoint file now,
    so a torn one stops the gate at open) apply to a path only: the ledger
    keeps checkpoints in its own table, and commits every receipt before the
    call runs whatever `durability` says.
    """
    if isinstance(receipts, str) and is_postgres_url(receipts):
        if checkpoints is not None:
            raise ValueError("checkpoints= names the checkpoint file of a JSONL log; the PostgreSQL ledger keeps "
                             "its checkpoints in its own table")
        from .postgres_store import PostgresReceiptStore

        return PostgresReceiptStore(receipts)
    if isinstance(receipts, (str, os.PathLike)):
        from .jsonl_store import JsonlReceiptStore

        return JsonlReceiptStore(receipts, durability=durability, checkpoints=checkpoints, open_checkpoints=signing)
    if isinstance(receipts, ReceiptStore):
        return receipts
    raise TypeError(f"receipts must be a path or a ReceiptStore, not {type(receipts).__name__}")
