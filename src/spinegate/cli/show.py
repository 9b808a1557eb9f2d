"""`spinegate show LOG [--session ID] [--tail N] [--json]`: the receipts of a log, failures marked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ._common import EXIT_NO, InputPath, fail


@click.command("show")
@click.argument("path", type=InputPath("any"))
@click.option("--session", default=None, help="Only this session (exit 1 if the log has none of it).")
@click.option("--tail", "tail", type=click.IntRange(min=1), default=None,
              help="Only the last N receipts, read from the end of the log.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per receipt, one per line.")
def command(path: Path, session: str | None, tail: int | None, as_json: bool) -> None:
    """Print the receipts of a log (JSONL file or per-session directory), marking those that fail verification.

    A header names the log and the columns; a receipt that fails
    verification says FAIL and ends with the reasons. Exits 0 when the
    receipts were shown (whether or not they verify: `spinegate verify`
    answers that), 1 when --session names no session of the log, 2 when
    the log cannot be read.
    """
    from ..logview import NotALog, check_readable
    from ..show import UnknownSession, show_lines

    try:
        check_readable(path)
        for line in show_lines(path, session=session, tail=tail, as_json=as_json):
            click.echo(line)
    except UnknownSession as exc:
        fail(str(exc), "`spinegate show LOG` lists the sessions it holds", code=EXIT_NO)
    except BrokenPipeError:  # the reader (`| head`) has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except NotALog as exc:
        fail(f"{path}: {exc}", "pass a JSONL log or a per-session directory")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}", "check the path and its permissions")
