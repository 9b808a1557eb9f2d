"""Witnessing: a second copy of every signed checkpoint, kept where the log's writer names.

A log and its checkpoint file can both be rolled back to an older copy, or
lose a whole session, without a trace in the two files: each checkpoint
still verifies. A *witness* closes that gap. The gate appends every
checkpoint it signs (its canonical line, as in the checkpoint file) to the
witness too: a JSONL file on another volume or host (`FileWitness`), or the
PostgreSQL ledger's witness table (`postgres_store.LedgerWitness`). The
witness only grows; `spinegate verify LOG --witness W` (`witness_check`)
then finds a log behind what its witness saw, or missing a session it saw.

A witness that cannot be written fails the checkpoint, so the call that
made the checkpoint due is denied (see `checkpoint_writer`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .store import Durability


@runtime_checkable
class Witness(Protocol):
    """Where checkpoint copies go. `append` returns once the line is as durable as the witness promises."""

    #: Where the witness is, for messages: a path, or a DSN without its password.
    location: str

    def append(self, checkpoint: Mapping[str, Any], line: str) -> None:
        """Append one signed checkpoint (its canonical `line`). Raises ReceiptWriteError if it cannot."""
        ...

    def close(self) -> None:
        """Release the witness. Idempotent."""
        ...


class FileWitness:
    """A witness file: one canonical checkpoint line per line, appended like a receipt log, never rewritten.

    Kept on another volume (or host, through a network file system) than the
    log it witnesses: the point is that whoever rolls the log back cannot
    roll this file back with it. A symbolic link at the path is not followed.
    """

    def __init__(self, path: str | os.PathLike[str], *, durability: Durability = "fsync") -> None:
        from .jsonl_store import JsonlFile

        self.location = os.fspath(path)
        self._file = JsonlFile(self.location, durability=durability, group_commit=False, follow_symlinks=False)

    def append(self, checkpoint: Mapping[str, Any], line: str) -> None:
        self._file.append(line)

    def close(self) -> None:
        self._file.close()


def witness_log_name(log_location: str) -> str:
    """How a ledger witness names the log it witnesses: this host and the log's absolute path (a URL as it is).

    `spinegate verify LOG --witness postgresql://...` computes the same name
    on the same host; elsewhere, pass it with `--witness-log`.
    """
    from .store import is_postgres_url

    if is_postgres_url(log_location) or log_location.startswith("<"):
        return log_location
    return f"{socket.gethostname()}:{os.path.abspath(log_location)}"


def open_witness(witness: Witness | str | os.PathLike[str], *, log_location: str,
                 durability: Durability = "fsync") -> Witness:
    """The witness for `Gate.open(witness=...)`: a `postgresql://` URL is the ledger's witness table (rows named
    after the log at `log_location`, see `witness_log_name`), a path a witness file, a Witness itself."""
    if isinstance(witness, (str, os.PathLike)):
        from .store import is_postgres_url

        text = os.fspath(witness)
        if is_postgres_url(text):
            from .postgres_store import LedgerWitness

            return LedgerWitness(text, log_name=witness_log_name(log_location))
        return FileWitness(text, durability=durability)
    if isinstance(witness, Witness):
        return witness
    raise TypeError(f"witness must be a path, a postgresql:// URL or a Witness, not {type(witness).__name__}")
