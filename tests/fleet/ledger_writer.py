"""A writer process for the fleet tests: one gate on the ledger, N calls, each approved receipt id on stdout.

    python ledger_writer.py MANIFEST DSN N [--key SIGNING_KEY] [--session ID] [--keep-going]

A receipt id is printed (and flushed) only after `check` returned approved:
it is a receipt an agent was given, which the ledger must hold whatever
happens to this process afterwards (the tests SIGKILL some). A denial is
printed as `DENIED <reason>`; it ends the run unless --keep-going.
"""

from __future__ import annotations

import argparse
import sys

from spinegate import Gate, ToolCall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("dsn")
    ap.add_argument("count", type=int)
    ap.add_argument("--key")
    ap.add_argument("--session")
    ap.add_argument("--keep-going", action="store_true")
    a = ap.parse_args()
    git = {"branch": "main", "commit_before": None, "commit_after": None}
    with Gate.open(a.manifest, receipts=a.dsn, git=git, signing_key=a.key, checkpoint_every=5,
                   session_id=a.session) as gate:
        for i in range(a.count):
            decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": f"f{i}"}))
            if not decision.approved:
                print(f"DENIED {decision.reason}", flush=True)
                if not a.keep_going:
                    return 1
                continue
            print(decision.receipt_id, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
