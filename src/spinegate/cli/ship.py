"""`spinegate ship LOG --to postgresql://...`: copy a local log and its checkpoints into the ledger."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ReceiptLogError
from ..ship import ShipError, ship_log
from ..store import is_postgres_url
from ._common import InputPath, fail


@click.command("ship")
@click.argument("log", type=InputPath("file"))
@click.option("--to", "to", required=True, help="The ledger: a postgresql:// URL.")
@click.option("--checkpoints", "checkpoints", default=None, type=InputPath("file"),
              help="The log's checkpoint file, if not LOG.checkpoints.jsonl.")
def command(log: Path, to: str, checkpoints: Path | None) -> None:
    """Copy the receipts of LOG (and its signed checkpoints) into the PostgreSQL ledger.

    Idempotent and resumable: what the ledger already holds is skipped, so
    running it again (from cron, or after a cut-short run) only adds what is
    new. Each receipt is checked first (schema, hash, chain) and stored
    exactly as the log holds it; a checkpoint waits until the receipts it
    covers are in. Exits 0 when everything was shipped, 1 when a line stops
    it (not a valid receipt, or the ledger holds it differently; all before
    it is shipped), 2 when LOG or the ledger cannot be read or written.
    """
    if not is_postgres_url(to):
        fail(f"--to {to!r} is not a postgresql:// URL", "pass the ledger's URL, postgresql://user@host:port/db")
    try:
        result = ship_log(log, to, checkpoints=checkpoints)
    except ShipError as exc:
        fail(str(exc), code=1)
    except ReceiptLogError as exc:
        fail(str(exc), "check the log, the ledger's URL and the role's privileges")
    click.echo(result.summary())
