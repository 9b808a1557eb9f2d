"""A guard for async paths: no receipt may be written on a thread that runs an event loop.

With ``durability="fsync"`` a receipt write can wait on the disk; the
gate's async methods (`acheck`, `adeny`, `arecord_outcome`, ...) then write
on a worker thread. An adapter that calls a blocking method from async code
writes on the loop's thread instead, and this guard names it. A deferred
outcome (`record_outcome(..., deferred=True)`) is only sealed and queued
there, never waiting on the disk, so it is allowed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from spinegate.recorder import Recorder


def guard_receipt_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch the recorder so each receipt written on an event loop's thread is listed (the list returned)."""
    offenders: list[str] = []

    def guarded(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Recorder, *args: Any, **kwargs: Any) -> Any:
            try:
                if kwargs.get("deferred"):
                    raise RuntimeError("queued, not written here")
                asyncio.get_running_loop()
            except RuntimeError:
                pass  # a worker thread, or sync code: fine
            else:
                offenders.append(f"Recorder.{name} ran on the event loop's thread")
            return real(self, *args, **kwargs)

        return run

    for name in ("decision", "write"):
        monkeypatch.setattr(Recorder, name, guarded(name, getattr(Recorder, name)))
    return offenders
