"""Generate a large, valid receipt log quickly (for the verify benchmark).

Receipts look like the gate's own (decisions and outcomes, approvals and
denials, several interleaved session chains) and are sealed with
`spinegate.receipts.seal`, the same code the gate uses, so the log verifies.

    python bench/genlog.py OUT.jsonl 1000000 [--sessions 8]
"""

from __future__ import annotations

import argparse
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from spinegate.receipt_body import format_timestamp, seal

_TOOLS = [("Files.Read", "SHELL_SAFE", "REVERSIBLE"), ("Files.Write", "SCOPED_WRITE", "REVERSIBLE"),
          ("Web.Fetch", "NETWORK_ATTEMPT", "IRREVERSIBLE"), ("search", "SHELL_SAFE", "REVERSIBLE")]


def generate(path: str, count: int, sessions: int = 8) -> int:
    """Write `count` receipts in `sessions` interleaved chains to `path`; return bytes written."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    heads: list[tuple[int, str | None]] = [(0, None)] * sessions
    sids = [uuid.uuid4().hex[:12] for _ in range(sessions)]
    instances = [str(uuid.uuid4()) for _ in range(sessions)]
    size = 0
    buf: list[str] = []
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        for i in range(count):
            s = i % sessions
            seq, prev = heads[s]
            tool, effect, rev = _TOOLS[i % len(_TOOLS)]
            denied = i % 10 == 7
            outcome = not denied and i % 3 == 0
            args = hashlib.sha256(str(i).encode()).hexdigest()
            body = {
                "receipt_id": str(uuid.uuid4()),
                "session_id": sids[s],
                "proposal_id": uuid.uuid4().hex,
                "sequence_number": seq + 1,
                "timestamp": format_timestamp(start + timedelta(microseconds=137 * i)),
                "executor": {"type": "python", "model": "unknown", "instance_id": instances[s]},
                "action": {
                    "tool": tool, "operation": "outcome" if outcome else "decision", "effect_class": effect,
                    "risk_delta": 0.15 if denied else 0.0,
                    "description": (f"denied {tool}: posture ELEVATED blocks network access; args_sha256={args}"
                                    if denied else f"approved {tool}: posture NORMAL allows {effect}; "
                                    f"args_sha256={args}"),
                    "command": None, "target_paths": ["docs/notes.txt"] if effect == "SCOPED_WRITE" else [],
                    "reversibility": rev,
                },
                "result": {
                    "status": "blocked" if denied else "success", "exit_code": 0 if outcome else None,
                    "blocked_by": "ELEVATED_BLOCKS_NETWORK" if denied else None,
                    "diff_hash": args if outcome else None, "files_created": [], "files_modified": [],
                    "files_deleted": [], "stdout_truncated": "ok" if outcome else None,
                },
                "budget_snapshot": {
                    "steps_used": seq + 1, "steps_remaining": 0, "commands_used": seq // 2, "writes_used": seq // 4,
                    "files_touched": 1, "runtime_elapsed_seconds": round(i * 0.000137, 2),
                    "session_risk_score": 0.15 if denied else 0.0, "current_posture": "NORMAL",
                },
                "git_context": {"branch": "main", "commit_before": None, "commit_after": None},
            }
            receipt = seal(body, prev)
            heads[s] = (seq + 1, receipt.receipt_hash)
            buf.append(receipt.to_json())
            if len(buf) >= 4096:
                chunk = "\n".join(buf) + "\n"
                fh.write(chunk)
                size += len(chunk)
                buf.clear()
        if buf:
            chunk = "\n".join(buf) + "\n"
            fh.write(chunk)
            size += len(chunk)
    return size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("count", type=int)
    ap.add_argument("--sessions", type=int, default=8)
    a = ap.parse_args()
    print(generate(a.out, a.count, a.sessions))


if __name__ == "__main__":
    main()
