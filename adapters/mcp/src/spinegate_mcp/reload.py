"""SIGHUP: load the changed manifest into a running proxy, written as a `reload` receipt.

When the manifest file changes under a running proxy, the gate refuses every
call (MANIFEST_INTEGRITY_FAILURE) until it is told to reload. `kill -HUP PID`
does that: `gate.areload(...)` reads the file again and, once its seal
verifies, decides by it and writes a `reload` receipt naming both manifest
hashes; a file that does not load or verify keeps every call refused, and the
proxy says why on stderr. The session's chain, posture and budgets carry on.
"""

from __future__ import annotations

import logging
import os
import signal

import anyio

from spinegate import Gate

log = logging.getLogger("spinegate_mcp")

async def reload(gate: Gate, by: str) -> bool:
    """Reload the gate's manifest from its file; True when the new one is in force."""
    try:
        receipt = await gate.areload(by=by)
    except Exception as exc:  # noqa: BLE001 - ManifestError, or the receipt could not be written
        log.error("spinegate-mcp: the manifest was not reloaded, so every call stays refused: %s", exc)
        return False
    log.warning("spinegate-mcp: manifest reloaded (reload receipt %s)", receipt.receipt_id)
    return True


async def reload_on_hangup(gate: Gate) -> None:
    """Reload `gate` each time the process receives SIGHUP, until cancelled."""
    with anyio.open_signal_receiver(signal.SIGHUP) as signals:
        async for _ in signals:
            await reload(gate, f"SIGHUP to spinegate mcp-proxy (pid {os.getpid()})")
