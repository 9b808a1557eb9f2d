"""A writer process for the fleet tests: one gate on the ledger, N calls, each approved receipt id on stdout.

    python ledger_writer.py MANIFEST DSN N [SIGNING_KEY]

A receipt id is printed (and flushed) only after `check` returned approved:
it is a receipt an agent was given, which the ledger must hold whatever
happens to this process afterwards (the tests SIGKILL some).
"""

from __future__ import annotations

import sys

from spinegate import Gate, ToolCall


def main() -> int:
    manifest, dsn, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    key = sys.argv[4] if len(sys.argv) > 4 else None
    git = {"branch": "main", "commit_before": None, "commit_after": None}
    with Gate.open(manifest, receipts=dsn, git=git, signing_key=key, checkpoint_every=5) as gate:
        for i in range(count):
            decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={"path": f"f{i}"}))
            if not decision.approved:
                print(f"DENIED {decision.reason}", flush=True)
                return 1
            print(decision.receipt_id, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
