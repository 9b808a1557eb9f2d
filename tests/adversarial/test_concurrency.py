"""Attack by load: 100 and 1,000 concurrent calls, from threads and asyncio tasks.

Every call gets its own receipt (unique id, unique sequence number), the
chain is unbroken, and nothing deadlocks (every wait has a bound).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from adversarial_support import Tool

from spinegate import Gate, ToolCall
from spinegate.checkpoint_verify import verify_checkpoints
from spinegate.keys import write_keypair
from spinegate.verify import verify_path


def _check_log(log: Path, n: int) -> None:
    rows = [json.loads(line) for line in log.read_text(encoding="ascii").splitlines()]
    assert len(rows) == n
    assert len({r["receipt_id"] for r in rows}) == n
    assert [r["sequence_number"] for r in rows] == list(range(1, n + 1))
    report = verify_path(log)
    assert report.ok, [str(f) for f in report.failures[:5]]


@pytest.mark.parametrize("n", [100, 1000])
def test_concurrent_calls_from_threads(open_gate: Callable[..., Gate], tmp_path: Path, n: int) -> None:
    log = tmp_path / f"threads-{n}.jsonl"
    gate = open_gate(log)
    start = threading.Barrier(min(n, 100), timeout=30)
    ids: list[str] = []
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            if i < 100:
                start.wait()  # the first hundred start at the same instant
            decision = gate.check(ToolCall(plugin="Files", function="Read", arguments={"i": i}))
            assert decision.approved
            ids.append(decision.receipt_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "deadlock: threads still waiting"
    assert not errors, errors[0]
    assert len(set(ids)) == n
    gate.close()
    _check_log(log, n)


@pytest.mark.parametrize("n", [100, 1000])
@pytest.mark.parametrize("durability", ["flush", "fsync"])
async def test_concurrent_calls_from_asyncio_tasks(open_gate: Callable[..., Gate], tmp_path: Path, n: int,
                                                   durability: str) -> None:
    log = tmp_path / f"tasks-{n}-{durability}.jsonl"
    gate = open_gate(log, durability=durability)

    async def call(i: int) -> Any:
        decision = await gate.acheck(ToolCall(plugin="Files", function="Read", arguments={"i": i}))
        outcome = await gate.arecord_outcome(decision, output=f"result {i}") if decision.approved else None
        return decision, outcome

    results = await asyncio.wait_for(asyncio.gather(*(call(i) for i in range(n))), timeout=120)
    assert all(d.approved for d, _ in results)
    assert len({d.receipt_id for d, _ in results} | {o.receipt_id for _, o in results}) == 2 * n
    gate.close()
    _check_log(log, 2 * n)


def test_concurrent_signed_calls_keep_checkpoints_consistent(open_gate: Callable[..., Gate], tmp_path: Path) -> None:
    priv, pub, _ = write_keypair(tmp_path / "k")
    log = tmp_path / "signed.jsonl"
    gate = open_gate(log, signing_key=priv, checkpoint_every=7)
    tool = Tool()

    def call(i: int) -> None:
        if gate.check(ToolCall(plugin="Files", function="Read", arguments={"i": i})).approved:
            tool()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    gate.close()
    assert tool.runs == 200
    _check_log(log, 200)
    report = verify_checkpoints(log, pub)
    assert report.ok and report.covered_receipts == 200
