"""Where the time of one `gate.check` goes: a component breakdown and a cProfile listing.

    python bench/profile_check.py [--calls N] [--top K]

The breakdown times each step of the lean path (a plain entry, the
manifest watched, the native sealer) on its own, best of five runs of N
calls, next to the whole check, the same check on the general path and a
check with its (deferred) outcome receipt, so the figures are comparable
with `bench/run.py`'s. The cProfile listing shows the lean path by
function (its own overhead inflates small functions; read it for shares).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _util import GIT, write_manifest  # noqa: E402

from spinegate import Gate, ToolCall  # noqa: E402
from spinegate.decision import Decision, Verdict  # noqa: E402
from spinegate.native import describe, native  # noqa: E402
from spinegate.receipts import Receipt  # noqa: E402

DECISION_SLOTS = ("verdict", "reason", "effect_class", "call", "rule", "receipt", "entry", "target_paths", "shadow",
                  "would_have", "decided_by", "escalation_receipt_id")


def best_us(fn: Callable[[], Any], n: int) -> float:
    for _ in range(min(1000, n)):
        fn()
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    print(f"receipt path: {describe()}")
    if native is None:
        print("the lean path needs the native extension; only the whole check is timed")
    tmp = tempfile.mkdtemp(prefix="spinegate-profile-")
    manifest = write_manifest(tmp)
    time.sleep(2.5)  # let the manifest settle, so the watcher takes over from the per-check stat
    gate = Gate.open(manifest, receipts=os.path.join(tmp, "r.jsonl"), git=GIT)
    general = Gate.open(manifest, receipts=os.path.join(tmp, "general.jsonl"), git=GIT)
    general._lean = general._lean_outcomes = None
    call = ToolCall(plugin="Bench", function="noop", arguments={"path": "notes/a.txt", "limit": 10})
    for _ in range(3):
        gate.check(call)
        general.check(call)
    n = a.calls
    rows: list[tuple[str, Callable[[], Any]]] = [
        ("gate.check (whole, lean path)", lambda: gate.check(call)),
        ("gate.check (general path)", lambda: general.check(call)),
        ("check + deferred outcome", lambda: gate.record_outcome(gate.check(call), output="ok", deferred=True)),
    ]
    lean = gate._lean
    plan = lean._plans.get((call.plugin, call.function)) if lean is not None else None
    if native is not None and plan is not None:
        sealer = gate.emitter.sealer
        description = plan.prefix + "0" * 64
        fields = (None, None, 1, None, "python", "unknown", plan.tool, "decision", plan.effect_text, 0.0,
                  description, None, [], plan.reversibility, "success", None, None, None, None, [], [], [], 1,
                  2**31 - 1, 1, 0, 0, 1.25, 0.0, "NORMAL", "0" * 64)
        head = sealer.seal(*fields)
        receipt = Receipt(None, None, head)
        watch = plan.watch
        rows += [
            ("  integrity: watcher flag", lambda: watch._watch is None or watch._watch.changed),
            ("  integrity: manifest and entry fields",
             lambda: plan.manifest.__dict__ == plan.manifest_fields and plan.entry.__dict__ == plan.entry_fields),
            ("  arguments: canonical form + SHA-256", lambda: native.arguments_digest(call.arguments)),
            ("  seal: ids, time, canonical receipt, SHA-256", lambda: sealer.seal(*fields)),
            ("  store append (one write)", lambda: gate.store.write_receipt(receipt)),
            ("  os.write alone", lambda: os.write(gate.store._fd, head[0])),  # type: ignore[attr-defined]
            ("  Decision (filled slot by slot in C)", lambda: native.SlotBuilder(Decision, DECISION_SLOTS)(
                Verdict.APPROVE, None, plan.effect, call, plan.rule, receipt, plan.entry, (), False, None, None,
                None)),
        ]
    print(f"{'step':46s} {'µs/call':>9s}")
    for name, fn in rows:
        print(f"{name:46s} {best_us(fn, n):9.2f}")
    print()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        gate.check(call)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(a.top)
    gate.close()
    general.close()


if __name__ == "__main__":
    main()
