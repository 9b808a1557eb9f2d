"""Writing signed checkpoints for one session, through the receipt store (used by the gate).

The emitter folds every receipt it writes into the session's commitment
(`Checkpointer.add`); a checkpoint is signed after the session's first
receipt is due (an opening checkpoint, before it), every N receipts and when
the gate closes. A checkpoint that cannot be written (its file is a
directory or a pipe, the disk is full, the ledger refuses it) fails the
receipt that made it due, so the gate denies that call, exactly as for a
receipt that cannot be written; it is retried with every next receipt, each
denied until one is signed. Only the opening checkpoint, written when the
gate opens, waits for the first receipt to be retried (and deny it). With a
witness (`witness`), every checkpoint is also appended there, and failing
to do so fails the same way. Continuing a session rebuilds the commitment
from the store and refuses to sign over a log that no longer matches the
session's last checkpoint.

Imports nothing from verification: the write path stays small.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .canonical import canonical_json
from .checkpoints import (
    CHECKPOINT_TYPE,
    CHECKPOINT_VERSION,
    DEFAULT_CHECKPOINT_EVERY,
    Commitment,
    checkpoint_hash,
    receipt_like,
    sign_checkpoint,
    signature_ok,
    well_formed,
)
from .errors import ReceiptLogError, ReceiptWriteError
from .keys import SigningKey, key_id, load_private_key
from .receipt_body import format_timestamp
from .receipt_hash import recompute_receipt_hash
from .store import ReceiptStore
from .witness import Witness

log = logging.getLogger("spinegate")

_VERIFY_FIX = "run `spinegate verify LOG --public-key KEY.pub` and investigate"


class Checkpointer:
    """Signs checkpoints for one session and appends them to the store.

    The emitter calls `add` for every receipt it writes (under the gate's
    lock) and the gate calls `close` when it closes.
    """

    def __init__(self, key: SigningKey | Ed25519PrivateKey, store: ReceiptStore, *, session_id: str,
                 every: int = DEFAULT_CHECKPOINT_EVERY, clock: Callable[[], datetime],
                 witness: Witness | None = None) -> None:
        if every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, not {every}")
        self.key = load_private_key(key)
        self.key_id = key_id(self.key.public_key())
        self.store = store
        self.witness = witness
        self._unwitnessed: list[tuple[dict[str, Any], str]] = []  # in the store, not yet in the witness
        self.session_id = session_id
        self.every = every
        self.clock = clock
        self.commitment = Commitment()
        self.index = 0
        self.previous: str | None = None
        self.since = 0  # receipts added since the last checkpoint written
        self.last_error: BaseException | None = None
        self.written = 0
        self._owed = False  # an opening / reopening checkpoint must be signed before (or with) the next receipt

    @property
    def location(self) -> str:
        return getattr(self.store, "checkpoints_location", self.store.location)

    def resume(self) -> None:
        """Continue an existing session: rebuild the commitment from the store, check it, continue the chain.

        Raises ReceiptLogError if the log no longer matches the session's last
        checkpoint (the gate must not sign over a tampered log) or if that
        checkpoint does not verify under this key.
        """
        last: dict[str, Any] | None = None
        for record in self.store.session_checkpoints(self.session_id):
            cp = record.data
            if well_formed(cp) is None and (last is None or cp["index"] > last["index"]):
                last = cp
        if last is not None:
            if last["key_id"] != self.key_id or not signature_ok(self.key.public_key(), last):
                raise ReceiptLogError(f"the last checkpoint of session {self.session_id} does not verify under "
                                      "this signing key", path=self.location, fix=_VERIFY_FIX)
            self.index, self.previous = last["index"], checkpoint_hash(last)
        log_location = self.store.location
        checked = last is None
        for record in self.store.session_receipts(self.session_id):
            data = record.data
            if not receipt_like(data):
                continue
            self.commitment.add(recompute_receipt_hash(data, record.text), data.get("previous_receipt_hash"),
                                data["sequence_number"])
            if last is not None and self.commitment.sequence_number == last["sequence_number"]:
                if not self.commitment.matches(last):
                    raise ReceiptLogError(
                        f"session {self.session_id}: the receipts up to sequence {last['sequence_number']} no "
                        f"longer match checkpoint {last['index']}", path=log_location, fix=_VERIFY_FIX)
                checked = True
        if last is not None and last["count"] == 0:
            checked = True  # only the opening checkpoint: it committed to nothing
        if last is None and self.commitment.count:
            # A signed session has a checkpoint from before its first receipt: these receipts were never
            # signed, or their checkpoints were deleted. Signing now would vouch for whatever is there.
            raise ReceiptLogError(f"session {self.session_id}: {self.commitment.count} receipts in the log and no "
                                  "checkpoint of it; refusing to sign over receipts no key vouched for",
                                  path=self.location, fix="start a new session (no session_id), or run `spinegate "
                                  "verify LOG --public-key KEY.pub` and investigate")
        if not checked:
            raise ReceiptLogError(f"session {self.session_id}: the log ends before its last checkpoint "
                                  f"(sequence {last['sequence_number'] if last else '?'})", path=log_location)
        self.since = self.commitment.sequence_number - (last["sequence_number"] if last else 0)
        # Reopening a closed session: sign that it goes on, so receipts after a final checkpoint are never honest.
        self._owed = last is not None and bool(last["final"])
        if self._owed and self.since > 0 and last is not None:
            raise ReceiptLogError(f"session {self.session_id}: {self.since} receipt(s) follow its final checkpoint "
                                  f"(sequence {last['sequence_number']}); refusing to sign over them",
                                  path=log_location, fix=_VERIFY_FIX)
        if self.since >= self.every:
            self._try_checkpoint(final=False)
        elif self._owed:
            self._settle("reopening")

    def open_session(self) -> None:
        """Sign the opening checkpoint of a new session (count 0), before its first receipt is written.

        So every signed session that has a receipt has a checkpoint, and a
        session fabricated in the log (with none) is caught
        (`SESSION_UNSIGNED`). If it cannot be written, `add` retries after
        the first receipt.
        """
        if self.index == 0 and self.commitment.count == 0:
            self._owed = True
            self._settle("opening")

    def _settle(self, what: str) -> None:
        """Write the owed opening / reopening checkpoint, keeping the every-N cadence; on failure, retry later."""
        since = self.since
        try:
            self._write_checkpoint(final=False)
        except (ReceiptLogError, OSError) as exc:
            self.last_error = exc
            log.warning("could not write the %s checkpoint of session %s (retrying with the next receipt): %s",
                        what, self.session_id, exc)
        self.since = since

    def add(self, sequence_number: int, computed_hash: str, previous_hash: str | None) -> None:
        """Fold one written receipt into the commitment; sign a checkpoint every N (and any owed one).

        Raises ReceiptWriteError when a checkpoint due now (or a witness copy
        still owed) cannot be written: the receipt stays counted, and the
        call it covers is denied. The next receipt tries again.
        """
        self.commitment.add(computed_hash, previous_hash, sequence_number)
        self.since += 1
        try:
            if self._unwitnessed:
                self._witness_owed()
            if self.since >= self.every:
                self.checkpoint(final=False)
            elif self._owed:  # the opening / reopening checkpoint could not be written: the session still needs it
                since = self.since
                self._write_checkpoint(final=False)
                self.since = since  # keeps the every-N cadence
        except (ReceiptLogError, OSError) as exc:
            self.last_error = exc
            log.warning("could not write a checkpoint of session %s, so the call is denied: %s", self.session_id,
                        exc)
            raise _checkpoint_not_written(exc, self.location) from exc

    def checkpoint(self, *, final: bool = False) -> dict[str, Any] | None:
        """Sign and append a checkpoint of everything so far (None for an empty session)."""
        if self.commitment.count == 0:
            return None
        return self._write_checkpoint(final=final)

    def _write_checkpoint(self, *, final: bool) -> dict[str, Any]:
        c = self.commitment
        unsigned = {
            "type": CHECKPOINT_TYPE, "version": CHECKPOINT_VERSION, "session_id": self.session_id,
            "index": self.index + 1, "sequence_number": c.sequence_number, "count": c.count,
            "timestamp": format_timestamp(self.clock()), "key_id": self.key_id,
            "previous_checkpoint": self.previous, "head_receipt_hash": c.head, "digest": c.digest.hex(),
            "tree_head": c.tree.root().hex(), "every": self.every, "final": final,
        }
        cp = sign_checkpoint(self.key, unsigned)
        line = canonical_json(cp)
        self.store.write_checkpoint(cp, line)
        self.index += 1
        self.previous = checkpoint_hash(cp)
        self.since = 0
        self.written += 1
        self.last_error = None
        self._owed = False
        if self.witness is not None:
            self._unwitnessed.append((cp, line))
            self._witness_owed()
        return cp

    def _witness_owed(self) -> None:
        """Append the checkpoints the store holds and the witness does not yet, oldest first."""
        witness = self.witness
        assert witness is not None
        while self._unwitnessed:
            cp, line = self._unwitnessed[0]
            try:
                witness.append(cp, line)
            except (ReceiptLogError, OSError) as exc:
                raise ReceiptWriteError(f"checkpoint {cp['index']} of session {self.session_id} could not be "
                                        f"copied to the witness: {exc}", path=witness.location,
                                        fix="make the witness writable (or reachable)") from exc
            self._unwitnessed.pop(0)

    def _try_checkpoint(self, *, final: bool) -> None:
        try:
            self.checkpoint(final=final)
        except (ReceiptLogError, OSError) as exc:
            self.last_error = exc
            log.warning("could not write a checkpoint of session %s (retrying with the next receipt): %s",
                        self.session_id, exc)

    def close(self) -> None:
        """Write the final checkpoint (and any witness copy still owed). Raises ReceiptWriteError if it cannot."""
        try:
            if self.commitment.count:
                self.checkpoint(final=True)
            elif self.index:  # a session that never wrote a receipt: close its chain all the same
                self._write_checkpoint(final=True)
        except (ReceiptLogError, OSError) as exc:
            raise _checkpoint_not_written(exc, self.location) from exc


def _checkpoint_not_written(exc: BaseException, location: str) -> ReceiptWriteError:
    """The error that denies a call whose checkpoint could not be written, naming the file and the cause once."""
    if isinstance(exc, ReceiptLogError):
        text = str(exc)
        if exc.fix and text.endswith(f" (fix: {exc.fix})"):
            text = text[: -len(f" (fix: {exc.fix})")]
        if text.startswith(f"{exc.path}: "):
            text = text[len(exc.path) + 2:]
        return ReceiptWriteError(f"the signed checkpoint could not be written: {text}", path=exc.path, fix=exc.fix)
    return ReceiptWriteError(f"the signed checkpoint could not be written: {exc}", path=location,
                             fix="make the checkpoint file writable")

