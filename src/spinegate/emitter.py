"""The receipt emitter: one session chain's state, and sealing each receipt into it.

The emitter owns what makes a receipt part of its chain: the session id,
the executor instance, the git context, the sequence number and the
previous receipt's hash. It assigns the ids and the timestamp, seals the
receipt (`receipt_body.seal`) and hands it to the store; the chain moves on
only once the store took it. With a signing key it also folds each receipt
into the session's signed checkpoints (`checkpoint_writer`).

Not thread-safe by itself: the gate calls it under its lock, so that the
sequence, the chain and the session counters move together.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .checkpoint_writer import Checkpointer
from .native import NOT_HANDLED, native
from .receipt_body import format_timestamp, seal
from .receipt_hash import seal_constants
from .receipts import Receipt
from .store import ReceiptStore


def new_receipt_id(random_bytes: bytes | None = None) -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` gives, at a third of the cost.

    `random_bytes`: 16 bytes from `os.urandom` to build it from (default: drawn here).
    """
    raw = bytearray(os.urandom(16) if random_bytes is None else random_bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class ReceiptEmitter:
    """Builds, hashes and writes the receipts of one session chain.

    `clock` gives receipt timestamps (timezone-aware); None is the system
    clock, formatted without building a datetime per receipt. `sequence` and
    `previous_hash` continue an existing chain.
    """

    def __init__(self, store: ReceiptStore, *, session_id: str, instance_id: str,
                 git: Mapping[str, str | None], clock: Callable[[], datetime] | None = None,
                 sequence: int = 0, previous_hash: str | None = None) -> None:
        self.store = store
        self.session_id = session_id
        self.instance_id = instance_id
        self.git = dict(git)
        self.clock = clock
        self.sequence = sequence
        self.previous_hash = previous_hash
        self.checkpointer: Checkpointer | None = None  # signs checkpoints when the gate has a key
        # Serialised once: these fields are the same in every receipt of the session.
        self._constants = seal_constants(session_id, instance_id, self.git)
        #: The native sealer of this session's receipts (None on the pure-Python path, or for values it does not take).
        self.sealer: Any = None
        if native is not None and self._constants is not None:
            g = self.git
            self.sealer = native.Sealer(session_id, instance_id, g["branch"], g["commit_before"], g["commit_after"])
        self._second = -1
        self._second_text = ""

    def _now_utc_text(self) -> str:
        """`format_timestamp(datetime.now(timezone.utc))`, without building a datetime per receipt."""
        seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
        if seconds != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
            self._second = seconds
        return f"{self._second_text}.{micros:06d}+00:00"

    def timestamp(self) -> str:
        clock = self.clock
        if clock is None:
            return self._now_utc_text()
        moment: datetime = clock()
        return format_timestamp(moment)

    def emit(self, *, proposal_id: str | None, executor_type: str, model: str, action: dict[str, Any],
             result: dict[str, Any], budget: dict[str, Any]) -> Receipt:
        """`emit_unsynced`, then wait until the receipt is durable; raises what went wrong."""
        receipt, ticket, late = self.emit_unsynced(proposal_id=proposal_id, executor_type=executor_type,
                                                   model=model, action=action, result=result, budget=budget)
        self.store.sync(ticket)
        if late is not None:
            raise late
        return receipt

    def emit_unsynced(self, *, proposal_id: str | None, executor_type: str, model: str, action: dict[str, Any],
                      result: dict[str, Any], budget: dict[str, Any],
                      deferred: bool = False) -> tuple[Receipt, int, Exception | None]:
        """Write one receipt into the chain: (receipt, store ticket, a failure to report after syncing).

        The receipt may not be durable yet: call `store.sync(ticket)` before
        the call it covers runs (the gate does so outside its lock, so that
        concurrent calls share one fsync). If the store refuses the receipt
        this raises and the chain does not move. A checkpoint that could not
        be signed does not undo the written receipt: it comes back as the
        third item, for the caller to deny with once the receipt is counted.
        A `proposal_id` of None is generated (32 random hex digits).
        `deferred` hands the append to the store's writer thread where the
        store offers it (`defer_receipt`): the receipt is sealed and counted in
        the chain now, and is in the store before the next receipt written
        after it (the same append carries both) or within a moment.
        """
        receipt = self._seal_native(proposal_id, executor_type, model, action, result, budget) \
            if self.sealer is not None else None
        if receipt is None:
            receipt = self._seal(proposal_id, executor_type, model, action, result, budget)
        store = self.store
        defer = getattr(store, "defer_receipt", None) if deferred else None
        ticket = defer(receipt) if defer is not None else store.write_receipt(receipt)  # raises: nothing advances
        return receipt, ticket, self.advance(receipt.sequence_number, receipt.receipt_hash)

    def advance(self, sequence: int, receipt_hash: str) -> Exception | None:
        """Move the chain past a receipt the store took, and fold it into the signed checkpoints.

        A checkpoint that could not be signed does not undo the receipt: the
        failure is returned, for the caller to deny with once the receipt is counted.
        """
        previous = self.previous_hash
        self.sequence += 1
        self.previous_hash = receipt_hash
        if self.checkpointer is not None:
            try:
                self.checkpointer.add(sequence, receipt_hash, previous)
            except Exception as exc:  # noqa: BLE001 - reported after the receipt is counted; the call is denied
                return exc
        return None

    def _seal_native(self, proposal_id: str | None, executor_type: str, model: str, action: dict[str, Any],
                     result: dict[str, Any], budget: dict[str, Any]) -> Receipt | None:
        """The receipt sealed by the native sealer, or None for a shape it does not take (then `_seal`)."""
        try:
            a, r, b = action, result, budget
            if len(a) != 8 or len(r) != 8 or len(b) != 8:
                return None
            head = self.sealer.seal(
                None, proposal_id, self.sequence + 1, None if self.clock is None else self.timestamp(),
                executor_type, model, a["tool"], a["operation"], a["effect_class"], a["risk_delta"],
                a["description"], a["command"], a["target_paths"], a["reversibility"], r["status"], r["exit_code"],
                r["blocked_by"], r["diff_hash"], r["stdout_truncated"], r["files_created"], r["files_deleted"],
                r["files_modified"], b["steps_used"], b["steps_remaining"], b["commands_used"], b["writes_used"],
                b["files_touched"], b["runtime_elapsed_seconds"], b["session_risk_score"], b["current_posture"],
                self.previous_hash)
        except KeyError:
            return None
        return None if head is NOT_HANDLED else Receipt(None, None, head)

    def _seal(self, proposal_id: str | None, executor_type: str, model: str, action: dict[str, Any],
              result: dict[str, Any], budget: dict[str, Any]) -> Receipt:
        """The receipt sealed in Python (`receipt_body.seal`): the reference the native sealer matches."""
        if proposal_id is None:  # one read of random bytes for both ids
            random_bytes = os.urandom(32)
            receipt_id, proposal_id = new_receipt_id(random_bytes[:16]), random_bytes[16:].hex()
        else:
            receipt_id = new_receipt_id()
        body = {
            "receipt_id": receipt_id,
            "session_id": self.session_id,
            "proposal_id": proposal_id,
            "sequence_number": self.sequence + 1,
            "timestamp": self._now_utc_text() if self.clock is None else self.timestamp(),
            "executor": {"type": executor_type, "model": model, "instance_id": self.instance_id},
            "action": action,
            "result": result,
            "budget_snapshot": budget,
            "git_context": dict(self.git),
        }
        return seal(body, self.previous_hash, self._constants)
