"""Where the time of one `gate.check` goes: a component breakdown and a cProfile listing.

    python bench/profile_check.py [--calls N] [--top K]

The breakdown times each step of the hot path on its own (best of three
runs of N calls), so the figures are comparable with `bench/run.py`'s
check p50. The cProfile listing shows the same path by function (its own
overhead inflates small functions; read it for shares, not absolute times).
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
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _util import GIT, write_manifest  # noqa: E402

import spinegate.gate as gate_module  # noqa: E402
from spinegate import Gate, ToolCall  # noqa: E402
from spinegate.canonical import arguments_hash  # noqa: E402
from spinegate.receipt_body import format_timestamp, seal  # noqa: E402


def best_us(fn: Callable[[], Any], n: int) -> float:
    for _ in range(min(1000, n)):
        fn()
    return min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="spinegate-profile-")
    manifest = write_manifest(tmp)
    time.sleep(2.5)  # let the manifest's stat fingerprint settle, as an older manifest's has
    gate = Gate.open(manifest, receipts=os.path.join(tmp, "r.jsonl"), git=GIT)
    call = ToolCall(plugin="Bench", function="noop", arguments={"path": "notes/a.txt", "limit": 10})
    entry = gate.manifest.lookup("Bench", "noop")
    cls = gate.classifier.classify(call, entry)
    receipt = gate.check(call).receipt
    assert receipt is not None
    line = receipt.to_json()
    body = {k: v for k, v in receipt.items() if k not in ("previous_receipt_hash", "receipt_hash")}
    n = a.calls
    rows = [
        ("gate.check (whole)", lambda: gate.check(call)),
        ("  _prepare (integrity + decision)", lambda: gate._prepare(call)),
        ("    _check_integrity", gate._check_integrity),
        ("      manifest.unchanged()", gate.manifest.unchanged),
        ("      os.stat(manifest)", lambda: os.stat(gate._manifest_path)),  # type: ignore[arg-type]
        ("    manifest.lookup", lambda: gate.manifest.lookup("Bench", "noop")),
        ("    classifier.classify", lambda: gate.classifier.classify(call, entry)),
        ("    evaluator.evaluate", lambda: gate.evaluator.evaluate(call, entry, cls, gate.session.posture,
                                                                  gate.session, gate.limits)),  # type: ignore[arg-type]
        ("  arguments_hash", lambda: arguments_hash(call.arguments)),
        ("  receipt id", getattr(gate_module, "new_receipt_id", lambda: str(uuid.uuid4()))),
        ("  timestamp", getattr(gate.emitter, "_now_utc_text",
                                lambda: format_timestamp(datetime.now(UTC)))),
        ("  seal (canonical form + SHA-256)", lambda: seal(dict(body), None)),
        ("  session.snapshot", lambda: gate.session.snapshot(time.monotonic(), gate.limits)),
        ("  store.append (write + flock)", lambda: gate.store.append(line)),
    ]
    print(f"{'step':40s} {'µs/call':>9s}")
    for name, fn in rows:
        print(f"{name:40s} {best_us(fn, n):9.2f}")
    print()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        gate.check(call)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(a.top)
    gate.close()


if __name__ == "__main__":
    main()
