"""Checking a JSONL log against its signed checkpoints, and inclusion proofs for one receipt.

`verify_checkpoints` authenticates every checkpoint, checks each session's
checkpoint chain, then re-reads the log in one streaming pass and compares
each session's receipts with what its checkpoints signed. Whatever it finds
is named with the stable codes of `reasons.CHECKPOINT_FAILURES`.

Fleets sign with more than one key over time: each checkpoint names its key
(`key_id`, the SHA-256 of the raw public key), any number of trusted public
keys may be given, and the report says which key signed which sessions. A
session is signed by one key from its first checkpoint to its last.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import canonical_json
from .checkpoints import Commitment, checkpoint_hash, receipt_leaf, receipt_like, signature_ok, well_formed
from .jsonl_store import checkpoint_path_for, find_torn_tail, read_checkpoint_lines, session_records
from .keys import PublicKey, key_id, load_public_key
from .log_lines import StreamedLog, json_objects
from .merkle import inclusion_proof, leaf_hash, verify_inclusion
from .reasons import (
    CHECKPOINT_CHAIN_BROKEN,
    CHECKPOINT_FILE_INVALID,
    CHECKPOINT_FILE_MISSING,
    CHECKPOINT_KEY_MISMATCH,
    CHECKPOINT_MALFORMED,
    CHECKPOINT_MISSING,
    CHECKPOINT_REORDERED,
    CHECKPOINT_SIGNATURE_INVALID,
    CHECKPOINT_TORN,
    NO_CHECKPOINTS,
    RECEIPT_NOT_CANONICAL,
    RECEIPT_REWRITTEN,
    RECEIPTS_DELETED,
    RECEIPTS_INSERTED,
    SESSION_UNSIGNED,
    TAIL_TRUNCATED,
)
from .receipt_hash import canonical_line_hash, receipt_hash, recompute_receipt_hash
from .verify import Failure, FailureList

#: (line in the checkpoint file, checkpoint)
_Anchor = tuple[int, dict[str, Any]]

@dataclass
class KeySignatures:
    """What one trusted key signed in a log: how many checkpoints, of which sessions."""

    checkpoints: int = 0
    sessions: set[str] = field(default_factory=set)


@dataclass
class CheckpointReport(FailureList):
    """What checking a log against its signed checkpoints found.

    `key_id` is the first key given (the only one, usually); `key_ids` every
    key given, and `signed_by` what each of them signed.
    """

    path: str
    checkpoints_path: str
    key_id: str
    key_ids: list[str] = field(default_factory=list)
    signed_by: dict[str, KeySignatures] = field(default_factory=dict)
    checkpoints: int = 0
    verified_checkpoints: int = 0
    sessions: int = 0
    covered_receipts: int = 0
    uncovered: dict[str, int] = field(default_factory=dict)  # session -> receipts after its last checkpoint
    unclosed: list[str] = field(default_factory=list)  # sessions whose last checkpoint is not final
    failures: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        tail = sum(self.uncovered.values())
        text = (f"checkpoints {self.checkpoints_path}: {self.state()}: {self.verified_checkpoints} of "
                f"{self.checkpoints} checkpoints verify under {self.keys_text()}, covering "
                f"{self.covered_receipts} receipts in {self.sessions} sessions")
        if tail:
            text += f"; {tail} receipts after the last checkpoint of their session are protected by the chain only"
        if self.unclosed:
            k = len(self.unclosed)
            text += (f"; {k} session{'s' if k != 1 else ''} without a final checkpoint (still open, crashed, or "
                     "cut back together with their last checkpoints: compare with a copy kept elsewhere)")
        return text


    def keys_text(self) -> str:
        """`key <id>` for one key; for several, each key with what it signed."""
        ids = self.key_ids or [self.key_id]
        if len(ids) == 1:
            return f"key {ids[0]}"
        parts = []
        for kid in ids:
            signed = self.signed_by.get(kid, KeySignatures())
            k = len(signed.sessions)
            parts.append(f"key {kid} ({signed.checkpoints} checkpoints, {k} session{'s' if k != 1 else ''})")
        return f"{len(ids)} keys: " + ", ".join(parts)


class _SessionCheck:
    """One session's state during the check: its authentic checkpoints and the commitment over its receipts."""

    __slots__ = ("anchors", "checkpoints", "commitment", "content_failed", "last_line")

    def __init__(self) -> None:
        self.commitment = Commitment()
        self.anchors: deque[_Anchor] = deque()  # checkpoints not yet reached by the log, by sequence
        self.checkpoints: list[_Anchor] = []
        self.last_line: int | None = None
        self.content_failed = False


def _is_regular(p: str) -> bool:
    """True for a regular file (after following symlinks); False for anything else, including nothing."""
    try:
        return stat.S_ISREG(os.stat(p).st_mode)
    except OSError:
        return False


class _Verification:
    """One run of `verify_checkpoints`: reads the checkpoints, then streams the log once."""

    def __init__(self, log: str | StreamedLog, keys: dict[str, Ed25519PublicKey], cpath: str) -> None:
        self.log = log
        self.log_path = log.name if isinstance(log, StreamedLog) else log
        self.keys = keys
        kids = list(keys)
        self.cpath = cpath
        self.report = CheckpointReport(self.log_path, cpath, kids[0], kids, {kid: KeySignatures() for kid in kids})
        self.sessions: dict[str, _SessionCheck] = {}
        self.wrong_key_sessions: set[str] = set()
        self.session_keys: dict[str, str] = {}  # session -> the key that signed its first authentic checkpoint

    def fail(self, reason: str, detail: str, *, file: str | None = None, line: int | None = None,
             session: str | None = None, seq: int | None = None) -> None:
        self.report.failures.append(Failure(reason, detail, file or self.cpath, line, None, session, seq))

    def session(self, sid: str) -> _SessionCheck:
        st = self.sessions.get(sid)
        if st is None:
            st = self.sessions[sid] = _SessionCheck()
        return st

    # -- the checkpoint file -----------------------------------------------------------

    def read_checkpoints(self) -> None:
        """Authenticate every checkpoint and check each session's chain."""
        if isinstance(self.log, StreamedLog):  # the ledger's checkpoint table: always there, rows never torn
            for n, cp in self.log.checkpoint_lines():
                self.authenticate(n, cp)
        else:
            self.read_checkpoint_file()
        for sid, st in self.sessions.items():
            _check_chain(sid, st.checkpoints, self.fail)
            self.queue_anchors(sid, st)

    def read_checkpoint_file(self) -> None:
        """Authenticate every checkpoint of the checkpoint file (nothing read unless it is a regular file)."""
        cpath = self.cpath
        if not os.path.exists(cpath):
            self.fail(CHECKPOINT_FILE_MISSING, "no checkpoint file next to the log: nothing signed to check against")
            return
        if not _is_regular(cpath):
            # A pipe or device (/dev/zero, say) planted there would hang or exhaust the verifier.
            self.fail(CHECKPOINT_FILE_INVALID, "the checkpoint path is not a regular file (a directory, device or "
                      "pipe): not read")
            return
        torn = find_torn_tail(cpath)
        if torn is not None:
            with open(cpath, "rb") as fh:
                lines = fh.read(torn).count(b"\n")
            self.fail(CHECKPOINT_TORN, "the checkpoint file ends in a partial line (an interrupted write); "
                      "`spinegate recover` moves it aside", line=lines + 1)
        for n, cp in read_checkpoint_lines(cpath):
            self.authenticate(n, cp)

    def authenticate(self, n: int, cp: Any) -> None:
        """Count one checkpoint line, and keep it for its session if it is well formed and signed by the key."""
        self.report.checkpoints += 1
        problem = "not canonical JSON (whitespace, key order, escapes or duplicate keys)" if cp is None \
            else well_formed(cp)
        if problem:
            self.fail(CHECKPOINT_MALFORMED, f"not a checkpoint: {problem}", line=n)
            return
        sid = cp["session_id"]
        kid = cp["key_id"]
        pub = self.keys.get(kid)
        if pub is None:
            if any(signature_ok(other, cp) for other in self.keys.values()):
                self.fail(CHECKPOINT_SIGNATURE_INVALID, "the key_id field was edited", line=n, session=sid,
                          seq=cp["sequence_number"])
            elif sid not in self.wrong_key_sessions:
                self.wrong_key_sessions.add(sid)
                given = ", ".join(f"{k[:16]}..." for k in self.keys)
                self.fail(CHECKPOINT_KEY_MISMATCH, f"signed by key {kid[:16]}..., not by the given "
                          f"key{'s' if len(self.keys) > 1 else ''} {given} (wrong public key, or checkpoints from "
                          "another signer)", line=n, session=sid, seq=cp["sequence_number"])
            return
        if not signature_ok(pub, cp):
            self.fail(CHECKPOINT_SIGNATURE_INVALID, f"checkpoint {cp['index']}: the signature does not verify: "
                      "forged or edited", line=n, session=sid, seq=cp["sequence_number"])
            return
        first = self.session_keys.setdefault(sid, kid)
        if first != kid:
            # The gate never continues a session with another key: one was used to extend the other's session.
            self.fail(CHECKPOINT_KEY_MISMATCH, f"checkpoint {cp['index']} is signed by key {kid[:16]}..., but the "
                      f"session's checkpoints before it by key {first[:16]}...: a session is signed by one key",
                      line=n, session=sid, seq=cp["sequence_number"])
            return
        self.report.verified_checkpoints += 1
        signed = self.report.signed_by[kid]
        signed.checkpoints += 1
        signed.sessions.add(sid)
        self.session(sid).checkpoints.append((n, cp))

    def queue_anchors(self, sid: str, st: _SessionCheck) -> None:
        """The session's checkpoints by sequence number, opening (empty) ones checked and set aside."""
        st.anchors = deque(sorted(st.checkpoints, key=lambda t: (t[1]["sequence_number"], t[1]["index"])))
        while st.anchors and st.anchors[0][1]["count"] == 0:  # opening (or empty final) checkpoints
            line, cp = st.anchors.popleft()
            if cp["sequence_number"] != 0 or not Commitment().matches(cp):
                self.fail(CHECKPOINT_MALFORMED, f"checkpoint {cp['index']} covers no receipts but does not commit "
                          "to an empty session", line=line, session=sid, seq=cp["sequence_number"])

    # -- the log -------------------------------------------------------------------------

    def stream_log(self) -> bool:
        """One pass over the log, comparing each session with its checkpoints as they come; True if any receipt."""
        seen_any = False
        for n, data, line in json_objects(self.log):
            if not receipt_like(data) or not isinstance(data.get("session_id"), str):
                continue
            computed = self.receipt_hash_of(data, line, n)
            if computed is None:
                continue  # not serialisable as a receipt: missing from the commitment, so reported below
            seen_any = True
            self.fold(data, computed, n)
        return seen_any

    def receipt_hash_of(self, data: dict[str, Any], line: str, n: int) -> str | None:
        """The receipt's recomputed hash; a line that is not the canonical spelling is reported."""
        try:
            computed = canonical_line_hash(data, line)
            if computed is None:
                computed = receipt_hash(data)
                if canonical_json(data) != line:
                    # Same object to Python, but duplicate keys can read differently elsewhere.
                    self.fail(RECEIPT_NOT_CANONICAL, "the line is not the canonical JSON the gate writes "
                              "(duplicate keys, whitespace, key order or escapes): readers other than this one "
                              "may see different content", file=self.log_path, line=n,
                              session=data["session_id"], seq=data["sequence_number"])
        except (ValueError, TypeError, RecursionError):
            return None
        return computed

    def fold(self, data: dict[str, Any], computed: str, n: int) -> None:
        """Add one receipt to its session's commitment and settle the checkpoints it reaches."""
        sid = data["session_id"]
        st = self.session(sid)
        c = st.commitment
        seq = data["sequence_number"]
        # A checkpoint whose sequence number the log skipped past: its receipt is gone.
        while st.anchors and seq > st.anchors[0][1]["sequence_number"]:
            cl, cp = st.anchors.popleft()
            self.fail(RECEIPTS_DELETED, f"checkpoint {cp['index']} (line {cl}) covers sequence "
                      f"{cp['sequence_number']}, but the log has no such receipt (it goes from {c.sequence_number} "
                      "on): receipts deleted", file=self.log_path, line=n, session=sid, seq=cp["sequence_number"])
            st.content_failed = True
        c.add(computed, data["previous_receipt_hash"], seq)
        st.last_line = n
        while st.anchors and seq == st.anchors[0][1]["sequence_number"]:
            cl, cp = st.anchors.popleft()
            self.compare(cp, cl, st, sid, n)

    def compare(self, cp: dict[str, Any], cl: int, st: _SessionCheck, sid: str, n: int) -> None:
        """The session's receipts so far against checkpoint `cp`, reached at log line `n`."""
        c = st.commitment
        where: dict[str, Any] = {"file": self.log_path, "line": n, "session": sid, "seq": cp["sequence_number"]}
        if c.count < cp["count"]:
            self.fail(RECEIPTS_DELETED, f"checkpoint {cp['index']} (line {cl}) signed {cp['count']} receipts up to "
                      f"sequence {cp['sequence_number']}; the log holds {c.count}: {cp['count'] - c.count} deleted",
                      **where)
            st.content_failed = True
        elif c.count > cp["count"]:
            self.fail(RECEIPTS_INSERTED, f"checkpoint {cp['index']} (line {cl}) signed {cp['count']} receipts up "
                      f"to sequence {cp['sequence_number']}; the log holds {c.count}", **where)
            st.content_failed = True
        elif not st.content_failed and not c.matches(cp):
            lo = max((t[1]["sequence_number"] for t in st.checkpoints
                      if t[1]["sequence_number"] < cp["sequence_number"]), default=0)
            self.fail(RECEIPT_REWRITTEN, f"the receipts do not match what checkpoint {cp['index']} (line {cl}) "
                      f"signed: at least one receipt with sequence {lo + 1}..{cp['sequence_number']} was rewritten "
                      "(hashes recomputed or not)", **where)
            st.content_failed = True

    # -- after the log ---------------------------------------------------------------------

    def settle(self, seen_any: bool) -> None:
        """What the end of the log says: checkpoints never reached, receipts after the last one, unsigned sessions."""
        for sid, st in self.sessions.items():
            if st.anchors:  # checkpoints the log never reached
                self.truncated(sid, st)
            if st.checkpoints:
                self.tail_after_last_checkpoint(sid, st)
            elif st.commitment.count:
                self.report.uncovered[sid] = st.commitment.count
                if self.report.verified_checkpoints and sid not in self.wrong_key_sessions:
                    # The gate signs an opening checkpoint before a session's first receipt.
                    self.fail(SESSION_UNSIGNED, f"{st.commitment.count} receipt(s) of this session, and no checkpoint "
                              "of it (a signing gate writes one before a session's first receipt): a session added "
                              "to the log, or one whose checkpoints were all deleted", file=self.log_path,
                              line=st.last_line, session=sid)
        if self.report.verified_checkpoints == 0 and not any(
                f.reason in (CHECKPOINT_FILE_MISSING, CHECKPOINT_FILE_INVALID, CHECKPOINT_KEY_MISMATCH)
                for f in self.report.failures):
            # Even with no receipt: an emptied log with an emptied checkpoint file proves nothing was signed.
            what = "the log holds receipts, but" if seen_any else "the log holds no receipts, and"
            self.fail(NO_CHECKPOINTS, f"{what} no checkpoint verifies under the given "
                      f"key{'s' if len(self.keys) > 1 else ''}: nothing signed vouches for it (a signing gate "
                      "writes a checkpoint when it opens, even before any receipt)")

    def truncated(self, sid: str, st: _SessionCheck) -> None:
        c = st.commitment
        cl, cp = st.anchors[-1]
        self.fail(TAIL_TRUNCATED, f"checkpoint {cp['index']} (line {cl}) covers {cp['count']} receipts up to "
                  f"sequence {cp['sequence_number']}, but the log ends at sequence {c.sequence_number} "
                  f"after {c.count} receipts of this session ({len(st.anchors)} checkpoint(s) not reached): "
                  "its tail was cut off", file=self.log_path, line=st.last_line, session=sid,
                  seq=cp["sequence_number"])

    def tail_after_last_checkpoint(self, sid: str, st: _SessionCheck) -> None:
        c = st.commitment
        report = self.report
        report.sessions += 1
        last = max(st.checkpoints, key=lambda t: t[1]["index"])[1]
        report.covered_receipts += min(c.count, last["count"])
        after = c.count - last["count"]
        if after > 0 and last["final"]:
            # A closed gate writes nothing more; a resumed one signs a checkpoint before going on.
            self.fail(RECEIPTS_INSERTED, f"{after} receipt(s) follow the session's final checkpoint "
                      f"({last['index']}, sequence {last['sequence_number']}): appended after it was closed",
                      file=self.log_path, line=st.last_line, session=sid, seq=last["sequence_number"] + 1)
        if after > 0:
            report.uncovered[sid] = after
            # A writer that dies between a receipt and its checkpoint leaves exactly `every`.
            if after > last["every"]:
                self.fail(CHECKPOINT_MISSING, f"{after} receipts follow the session's last checkpoint "
                          f"({last['index']}, sequence {last['sequence_number']}), which was written every "
                          f"{last['every']}: later checkpoints were deleted", session=sid,
                          seq=last["sequence_number"] + last["every"])
        if not last["final"]:
            report.unclosed.append(sid)


def verify_checkpoints(log_path: str | os.PathLike[str] | StreamedLog, public_key: PublicKey | Sequence[PublicKey],
                       checkpoints_path: str | os.PathLike[str] | None = None) -> CheckpointReport:
    """Check a JSONL log (or a `StreamedLog`: the ledger) against its signed checkpoints, in one streaming pass.

    `public_key` is one trusted key (a PEM file or a loaded key) or several.
    A streamed log brings its own checkpoints (`checkpoints_path` is then ignored).
    Run it together with the chain verification (`verify_path`): this pass
    checks what the chain cannot, namely that the log still holds exactly the
    receipts the key holders signed, up to each session's last checkpoint.
    """
    if isinstance(log_path, StreamedLog):
        log: str | StreamedLog = log_path
        cpath = log_path.checkpoints_name
    else:
        log = os.fspath(log_path)
        cpath = os.fspath(checkpoints_path) if checkpoints_path is not None else checkpoint_path_for(log)
    given = [public_key] if isinstance(public_key, (str, os.PathLike, Ed25519PublicKey)) else list(public_key)
    if not given:
        raise ValueError("verify_checkpoints needs at least one public key")
    keys: dict[str, Ed25519PublicKey] = {}
    for one in given:
        pub = load_public_key(one)
        keys.setdefault(key_id(pub), pub)
    run = _Verification(log, keys, cpath)
    run.read_checkpoints()
    run.settle(run.stream_log())
    return run.report


def _check_chain(sid: str, cps: list[_Anchor], fail: Any) -> None:
    """One session's authentic checkpoints, in file order: indexes 1..k, in order, each linked to the one before."""
    if not cps:
        return
    for (_, a), (line, b) in pairwise(cps):
        if b["index"] < a["index"]:
            fail(CHECKPOINT_REORDERED, f"checkpoint {b['index']} comes after checkpoint {a['index']} in the file: "
                 "out of order", line=line, session=sid, seq=b["sequence_number"])
            break
    by_index: dict[int, _Anchor] = {}
    for line, cp in cps:
        if cp["index"] in by_index:
            fail(CHECKPOINT_CHAIN_BROKEN, f"two checkpoints claim index {cp['index']} (lines "
                 f"{by_index[cp['index']][0]} and {line}): duplicated or forked", line=line, session=sid,
                 seq=cp["sequence_number"])
            continue
        by_index[cp["index"]] = (line, cp)
    last = max(by_index)
    missing = [i for i in range(1, last + 1) if i not in by_index]
    if missing:
        first_after = next(i for i in range(missing[0], last + 1) if i in by_index)
        line, cp = by_index[first_after]
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        fail(CHECKPOINT_MISSING, f"checkpoint{'s' if len(missing) > 1 else ''} {shown} of the session "
             f"{'are' if len(missing) > 1 else 'is'} missing (the chain runs to checkpoint {last}): deleted",
             line=line, session=sid, seq=cp["sequence_number"])
    for i, (line, cp) in sorted(by_index.items()):
        before = by_index.get(i - 1)
        if i == 1:
            expected = None
        elif before is None:
            continue  # already reported as missing
        else:
            expected = checkpoint_hash(before[1])
        if cp["previous_checkpoint"] != expected:
            fail(CHECKPOINT_CHAIN_BROKEN, f"checkpoint {i}: previous_checkpoint does not match checkpoint "
                 f"{i - 1}" if i > 1 else "checkpoint 1: previous_checkpoint must be null", line=line,
                 session=sid, seq=cp["sequence_number"])


# --------------------------------------------------------------------------
# Inclusion proofs over a log


def session_leaves(log_path: str | os.PathLike[str], session_id: str) -> list[tuple[dict[str, Any], bytes]]:
    """(receipt, RFC 6962 leaf hash) for every receipt of a session, in log order."""
    out = []
    for record in session_records(os.fspath(log_path), session_id):
        data = record.data
        if receipt_like(data):
            out.append((data, leaf_hash(receipt_leaf(recompute_receipt_hash(data, record.text),
                                                     data["previous_receipt_hash"]))))
    return out


def prove_receipt(log_path: str | os.PathLike[str], checkpoint: dict[str, Any], receipt_id: str) -> dict[str, Any]:
    """An inclusion proof of one receipt under a checkpoint's tree head (hex strings, JSON-ready)."""
    leaves = session_leaves(log_path, checkpoint["session_id"])[: checkpoint["count"]]
    for i, (data, _) in enumerate(leaves):
        if data["receipt_id"] == receipt_id:
            proof = inclusion_proof([h for _, h in leaves], i)
            return {"receipt_id": receipt_id, "leaf_index": i, "tree_size": len(leaves),
                    "audit_path": [p.hex() for p in proof], "tree_head": checkpoint["tree_head"]}
    raise KeyError(f"receipt {receipt_id} is not among the {len(leaves)} receipts the checkpoint covers")


def verify_receipt_proof(receipt: dict[str, Any], proof: dict[str, Any], checkpoint: dict[str, Any],
                         public_key: Ed25519PublicKey | str | os.PathLike[str]) -> bool:
    """Check one receipt against a signed checkpoint and an inclusion proof, without the log."""
    pub = load_public_key(public_key)
    if well_formed(checkpoint) or checkpoint["key_id"] != key_id(pub) or not signature_ok(pub, checkpoint):
        return False
    try:  # a hostile receipt or proof is a failed proof, never a crash
        if proof.get("tree_size") != checkpoint["count"] or proof.get("tree_head") != checkpoint["tree_head"]:
            return False
        index = proof["leaf_index"]
        if not isinstance(index, int) or isinstance(index, bool) or receipt.get("session_id") != \
                checkpoint["session_id"]:
            return False
        leaf = leaf_hash(receipt_leaf(receipt_hash(receipt), receipt.get("previous_receipt_hash")))
        path = [bytes.fromhex(p) for p in proof["audit_path"]]
        if any(len(p) != 32 for p in path):
            return False
        return verify_inclusion(leaf, index, checkpoint["count"], path, bytes.fromhex(checkpoint["tree_head"]))
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return False


def iter_checkpoints(path: str | os.PathLike[str]) -> Iterable[dict[str, Any]]:
    """The parsed checkpoint records of a sidecar file (malformed lines skipped)."""
    for _, cp in read_checkpoint_lines(os.fspath(path)):
        if isinstance(cp, dict):
            yield cp
