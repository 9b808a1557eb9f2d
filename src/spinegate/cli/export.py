"""`spinegate export SOURCE --to FILE.jsonl [--since T] [--until T]`: canonical JSONL from any store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..errors import ReceiptLogError
from ..export import export_receipts, parse_time
from ..store import is_postgres_url
from ._common import check_input_path, fail


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time (2026-01-31, "
                                 "2026-01-31T12:00:00+00:00)") from None


@click.command("export")
@click.argument("source")
@click.option("--to", "to", required=True, type=click.Path(path_type=Path),
              help="The JSONL file to write (must not exist); checkpoints go to TO.checkpoints.jsonl.")
@click.option("--since", callback=_moment, help="Only sessions whose first receipt is at or after this time "
                                                "(ISO 8601; UTC unless it says otherwise).")
@click.option("--until", callback=_moment, help="Only sessions whose first receipt is before this time.")
def command(source: str, to: Path, since: datetime | None, until: datetime | None) -> None:
    """Write the receipts of SOURCE (a JSONL log, a per-session directory, or a postgresql:// ledger) to TO.

    One receipt per line in canonical JSON (what `json.dumps(r, sort_keys=True,
    separators=(",", ":"))` writes, the format every sibling reads), in the
    order SOURCE holds them, with SOURCE's signed checkpoints beside it, so
    the archive verifies on its own. --since/--until archive whole sessions
    by when they began, so each session is in exactly one archive. Nothing
    existing is overwritten. Exits 0 when written, 1 when SOURCE holds a
    line that is not a JSON object (nothing is written), 2 when SOURCE
    cannot be read or TO exists.
    """
    if not is_postgres_url(source):
        check_input_path(Path(source), kind="any")
    if since is not None and until is not None and since >= until:
        fail(f"--since {since.isoformat()} is not before --until {until.isoformat()}", "swap or fix the times")
    try:
        result = export_receipts(source, to, since=since, until=until)
    except FileExistsError as exc:
        fail(f"{exc.args[0]} already exists; an export never overwrites a file", "choose another --to name")
    except ReceiptLogError as exc:
        if exc.line is not None:
            fail(str(exc), code=1)
        fail(str(exc), "check SOURCE and its permissions")
    except OSError as exc:
        fail(f"{to}: {exc.strerror or exc}", "make sure the directory exists and is writable")
    click.echo(result.summary())
