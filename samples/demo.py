"""spinegate in one page: gate a few calls, show the receipts, verify the log.

    python samples/demo.py [--receipts PATH]

No API key and no agent framework needed: the calls below are what an agent
might propose. Each one is decided before it would run, and every decision,
approve or deny, leaves a hash-chained receipt.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from spinegate import Gate, ToolCall, verify_path

HERE = Path(__file__).resolve().parent

PROPOSED = [
    ToolCall(plugin="Files", function="Read", arguments={"path": "notes/plan.md"}, proposal_id="call-1"),
    ToolCall(plugin="Files", function="Write", arguments={"path": "notes/plan.md", "text": "v2"}, proposal_id="call-2"),
    ToolCall(plugin="Files", function="Delete", arguments={"path": "notes/"}, proposal_id="call-3"),
    ToolCall(plugin="Secrets", function="WriteEnv", arguments={"key": "API_TOKEN", "value": "s3cr3t"},
             proposal_id="call-4"),
    ToolCall(plugin="Shell", function="Run", arguments={"cmd": "curl https://example.com"}, proposal_id="call-5"),
    ToolCall(plugin=None, function="search", arguments={"query": "quarterly report"}, proposal_id="call-6"),
]


def run_tool(call: ToolCall) -> str:
    """Stand-in for the real tool: only ever reached for approved calls."""
    return f"{call.tool_name} ran with {json.dumps(dict(call.arguments), sort_keys=True)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=Path, default=None, help="receipt log (default: a new temporary file)")
    args = parser.parse_args()
    log = args.receipts or Path(tempfile.mkdtemp(prefix="spinegate-demo-")) / "receipts.jsonl"

    with Gate.open(HERE / "manifest.json", receipts=log) as gate:
        print(f"session {gate.session_id}, posture {gate.posture.value}, receipts -> {log}\n")
        for call in PROPOSED:
            decision = gate.check(call)
            if decision.approved:
                output = run_tool(call)
                gate.record_outcome(decision, output=output)
                print(f"  ALLOW {call.tool_name:<17} {decision.effect_class.value:<17} -> {output}")
            else:
                print(f"  DENY  {call.tool_name:<17} {decision.effect_class.value:<17} {decision.reason}")
        print(f"\nbudget now: {json.dumps(gate.budget())}")

    print("\nreceipts written (one per decision, one per outcome):")
    for line in log.read_text(encoding="ascii").splitlines():
        r = json.loads(line)
        print(f"  #{r['sequence_number']:<2} {r['action']['operation']:<9} {r['action']['tool']:<17} "
              f"{r['result']['status']:<8} hash {r['receipt_hash'][:16]}.. prev "
              f"{(r['previous_receipt_hash'] or 'null')[:16]}")

    report = verify_path(log)
    print(f"\n{report.summary()}")
    for failure in report.failures:
        print(f"  {failure}")
    print(f"check it yourself: spinegate verify {log}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
