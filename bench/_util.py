"""Shared helpers for the benchmark: timing loops, percentiles, a bench manifest."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from spinegate.manifest_file import seal_manifest

#: Tools the benchmark declares (plugin, function, effect class).
BENCH_ENTRIES: list[tuple[str | None, str, str]] = [
    ("Bench", "noop", "SHELL_SAFE"),
    (None, "noop_tool", "SHELL_SAFE"),
    (None, "slow_tool", "SHELL_SAFE"),
    ("Files", "Read", "SHELL_SAFE"),
]


def write_manifest(directory: str) -> str:
    """Write and seal a manifest declaring every tool the benchmark calls."""
    path = os.path.join(directory, "bench-manifest.json")
    doc = {
        "version": "1.0.0",
        "posture": "NORMAL",
        "functions": [
            {"plugin": p, "function": f, "effect_class": e, "allowed": True, "reason": None,
             "max_calls_per_session": None}
            for p, f, e in BENCH_ENTRIES
        ],
        "manifest_hash": "",
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
    seal_manifest(path)
    return path


GIT = {"branch": "bench", "commit_before": None, "commit_after": None}


def percentile(samples_ns: list[int], q: float) -> float:
    """The q-th percentile (0..100) of nanosecond samples, in microseconds."""
    s = sorted(samples_ns)
    if not s:
        return float("nan")
    i = min(len(s) - 1, max(0, round(q / 100.0 * (len(s) - 1))))
    return s[i] / 1000.0


def time_calls(fn: Callable[[], Any], n: int, warmup: int) -> list[int]:
    """Run `fn` warmup + n times; return the n per-call durations in ns."""
    for _ in range(warmup):
        fn()
    pc = time.perf_counter_ns
    out = [0] * n
    for i in range(n):
        t = pc()
        fn()
        out[i] = pc() - t
    return out


def time_interleaved(fns: dict[str, Callable[[], Any]], n: int, warmup: int, rounds: int = 5) -> dict[str, list[int]]:
    """Time several variants in alternating rounds, so drift hits them all alike."""
    samples: dict[str, list[int]] = {k: [] for k in fns}
    per = max(1, n // rounds)
    for fn in fns.values():
        time_calls(fn, 0, warmup)
    for _ in range(rounds):
        for k, fn in fns.items():
            samples[k].extend(time_calls(fn, per, 0))
    return samples


def time_async_interleaved(fns: dict[str, Callable[[], Awaitable[Any]]], n: int, warmup: int,
                           rounds: int = 5) -> dict[str, list[int]]:
    """`time_interleaved` for coroutine functions, on one event loop."""

    async def run() -> dict[str, list[int]]:
        pc = time.perf_counter_ns
        samples: dict[str, list[int]] = {k: [] for k in fns}
        per = max(1, n // rounds)
        for fn in fns.values():
            for _ in range(warmup):
                await fn()
        for _ in range(rounds):
            for k, fn in fns.items():
                buf = samples[k]
                for _ in range(per):
                    t = pc()
                    await fn()
                    buf.append(pc() - t)
        return samples

    return asyncio.run(run())


def busy_wait(seconds: float) -> None:
    """Spin for `seconds` (a steadier stand-in for a tool's work than sleep)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def hammer(checks: list[Callable[[], bool]], seconds: float) -> tuple[list[int], float, list[BaseException]]:
    """Run each of `checks` in a loop on its own thread for `seconds`: (calls done per thread, elapsed, errors).

    A check that returns False (a refused call) stops its thread with an error.
    """
    stop = threading.Event()
    counts = [0] * len(checks)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        check = checks[i]
        try:
            while not stop.is_set():
                if not check():
                    raise RuntimeError("a check was refused")
                counts[i] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(checks))]
    start = time.perf_counter()
    for th in threads:
        th.start()
    time.sleep(seconds)
    stop.set()
    for th in threads:
        th.join()
    return counts, time.perf_counter() - start, errors

