"""Checking a log against its witness: the copies of its checkpoints kept somewhere else.

The witness (see `witness`) holds every checkpoint the gate signed, so it is
never behind the log by more than `checkpoint_every` receipts. A log rolled
back to an older copy (receipts and checkpoint file together), or missing a
whole session, still verifies on its own; against its witness it does not:

- `WITNESS_ROLLBACK`: the witness holds a checkpoint covering more of a
  session than the log (or its checkpoint file) holds;
- `WITNESS_SESSION_MISSING`: the witness saw a session the log has no trace of;
- `WITNESS_MISMATCH`: the log's receipts, recomputed, are not what a
  witnessed checkpoint committed to, or the log's checkpoint file holds a
  different checkpoint under the same index (a fork);
- `WITNESS_UNREADABLE`: a witness line that is not a checkpoint, or (with
  public keys given) not signed by any of them.

One streaming pass over the log; memory grows with the sessions the witness
saw, not with the log.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import canonical_json
from .checkpoints import Commitment, receipt_like, signature_ok, well_formed
from .jsonl_store import checkpoint_path_for, read_checkpoint_lines
from .keys import PublicKey, key_id, load_public_key
from .log_lines import StreamedLog, json_objects
from .reasons import WITNESS_MISMATCH, WITNESS_ROLLBACK, WITNESS_SESSION_MISSING, WITNESS_UNREADABLE
from .receipt_hash import recompute_receipt_hash
from .verify import MAX_REPORTED, Failure, FailureList


@dataclass
class WitnessReport(FailureList):
    """What comparing a log with its witness found."""

    path: str
    witness: str
    lines: int = 0  # witness lines read
    sessions: int = 0  # sessions the witness saw
    checked: int = 0  # of them, sessions whose log reaches the witness's last checkpoint and matches it
    failures: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        return (f"witness {self.witness}: {self.state()}: {self.sessions} sessions witnessed in {self.lines} lines, "
                f"{self.checked} reached and matched by the log")


class _Witnessed:
    """One session as the witness saw it: its latest checkpoint, and the log's commitment folded up to it."""

    __slots__ = ("commitment", "latest", "line", "matched", "seen")

    def __init__(self, line: int, cp: dict[str, Any]) -> None:
        self.line = line
        self.latest = cp
        self.commitment = Commitment()
        self.seen = False  # any receipt of the session in the log
        self.matched: bool | None = None  # compared at the witnessed count: True / False; None: never reached


def check_witness(log_path: str | os.PathLike[str] | StreamedLog, witness_lines: Iterable[tuple[int, Any]],
                  witness: str, *,
                  keys: Sequence[PublicKey] = (), checkpoints_path: str | os.PathLike[str] | None = None,
                  log_name: str | None = None) -> WitnessReport:
    """Compare a JSONL log (and its checkpoint file, if there is one) with the checkpoints its witness holds.

    `witness_lines` are (line or row number, parsed checkpoint or None when
    the line is not canonical JSON), as `jsonl_store.read_checkpoint_lines`
    gives them; `witness` names the witness in messages. With `keys`, a
    witness line must be signed by one of them. `log_name` names the log in
    messages (default: its path). A `StreamedLog` (the ledger) brings its own
    checkpoints (`checkpoints_path` is then ignored).
    """
    log = log_path if isinstance(log_path, StreamedLog) else os.fspath(log_path)
    name = log_name or (log.name if isinstance(log, StreamedLog) else log)
    report = WitnessReport(name, witness)
    trusted: dict[str, Ed25519PublicKey] = {}
    for one in keys:
        pub = load_public_key(one)
        trusted[key_id(pub)] = pub

    def fail(reason: str, detail: str, *, file: str, line: int | None, session: str | None,
             seq: int | None = None) -> None:
        if len(report.failures) < MAX_REPORTED:
            report.failures.append(Failure(reason, detail, file, line, None, session, seq))

    sessions: dict[str, _Witnessed] = {}
    for n, cp in witness_lines:
        report.lines += 1
        problem = "not canonical JSON" if cp is None else well_formed(cp)
        if problem is None and trusted:
            signer = trusted.get(cp["key_id"])
            if signer is None or not signature_ok(signer, cp):
                problem = "not signed by any of the given keys"
        if problem is not None:
            fail(WITNESS_UNREADABLE, f"not a witnessed checkpoint: {problem}", file=witness, line=n,
                 session=cp.get("session_id") if isinstance(cp, dict) else None)
            continue
        sid = cp["session_id"]
        known = sessions.get(sid)
        if known is None:
            sessions[sid] = _Witnessed(n, cp)
        elif cp["index"] > known.latest["index"]:
            known.latest, known.line = cp, n
    report.sessions = len(sessions)

    if isinstance(log, StreamedLog):
        in_checkpoint_file = _compare_checkpoints(log.checkpoint_lines(), log.checkpoints_name, sessions, fail)
    else:
        cpath = _checkpoint_file(log, checkpoints_path)
        in_checkpoint_file = set() if cpath is None else \
            _compare_checkpoints(read_checkpoint_lines(cpath), cpath, sessions, fail)
    for n, data, line in json_objects(log):
        w = sessions.get(data.get("session_id"))  # type: ignore[arg-type]
        if w is None or not receipt_like(data):
            continue
        w.seen = True
        c = w.commitment
        if c.count >= w.latest["count"]:
            continue  # past what the witness saw: the log may run ahead of it by up to `every` receipts
        try:
            computed = recompute_receipt_hash(data, line)
        except (ValueError, TypeError, RecursionError):
            continue  # cannot be folded in: the count comes up short, reported below
        c.add(computed, data["previous_receipt_hash"], data["sequence_number"])
        if c.count == w.latest["count"]:
            w.matched = c.matches(w.latest)
            if not w.matched:
                fail(WITNESS_MISMATCH, f"the session's first {c.count} receipts are not what checkpoint "
                     f"{w.latest['index']} (witness line {w.line}) committed to: rewritten since it was witnessed",
                     file=name, line=n, session=data["session_id"], seq=data["sequence_number"])

    for sid, w in sessions.items():
        cp = w.latest
        if w.matched is not None:  # compared at the witnessed count (a mismatch is reported already)
            report.checked += int(w.matched)
        elif not w.seen and sid not in in_checkpoint_file:
            fail(WITNESS_SESSION_MISSING, f"the witness saw this session (checkpoint {cp['index']}, witness line "
                 f"{w.line}, {cp['count']} receipts up to sequence {cp['sequence_number']}); the log has no trace "
                 "of it: the session was removed", file=name, line=None, session=sid)
        elif cp["count"] == 0:
            report.checked += 1  # witnessed when it opened, before any receipt: nothing more to compare
        else:
            fail(WITNESS_ROLLBACK, f"the witness holds checkpoint {cp['index']} (witness line {w.line}) covering "
                 f"{cp['count']} receipts up to sequence {cp['sequence_number']}; the log holds "
                 f"{w.commitment.count} of them: rolled back to an older copy, or its tail cut",
                 file=name, line=None, session=sid, seq=w.commitment.sequence_number)
    return report


def _checkpoint_file(log_path: str, checkpoints_path: str | os.PathLike[str] | None) -> str | None:
    """The log's checkpoint file, if it is a regular file (a pipe or device planted there is never read)."""
    cpath = os.fspath(checkpoints_path) if checkpoints_path is not None else checkpoint_path_for(log_path)
    try:
        return cpath if stat.S_ISREG(os.stat(cpath).st_mode) else None
    except OSError:
        return None


def _compare_checkpoints(lines: Iterable[tuple[int, Any]], cpath: str, sessions: dict[str, _Witnessed],
                         fail: Any) -> set[str]:
    """The log's own checkpoints (`lines`, named `cpath`) against the witness: each witnessed latest checkpoint
    there, and the same. Returns the sessions they name."""
    have: dict[str, int] = {}
    for n, cp in lines:
        if not isinstance(cp, dict) or well_formed(cp) is not None:
            continue
        have.setdefault(cp["session_id"], 0)
        w = sessions.get(cp["session_id"])
        if w is None:
            continue
        have[cp["session_id"]] = max(have[cp["session_id"]], cp["index"])
        if cp["index"] == w.latest["index"] and canonical_json(cp) != canonical_json(w.latest):
            fail(WITNESS_MISMATCH, f"checkpoint {cp['index']} differs from the one the witness holds under the "
                 f"same index (witness line {w.line}): the checkpoint chain was forked or rewritten",
                 file=cpath, line=n, session=cp["session_id"], seq=cp["sequence_number"])
    for sid, w in sessions.items():
        if sid in have and have[sid] < w.latest["index"]:
            fail(WITNESS_ROLLBACK, f"the checkpoint file ends at checkpoint {have[sid]} of this session; the "
                 f"witness holds checkpoint {w.latest['index']} (witness line {w.line}): rolled back",
                 file=cpath, line=None, session=sid, seq=w.latest["sequence_number"])
    return set(have)


def witness_lines_of_file(path: str | os.PathLike[str]) -> Iterable[tuple[int, Any]]:
    """The lines of a witness file, as `check_witness` takes them."""
    return read_checkpoint_lines(os.fspath(path))
