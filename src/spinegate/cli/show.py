"""`spinegate show LOG`: one line per receipt, as far as each line reads."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ._common import InputPath, fail


def receipt_row(n: int, raw: bytes, session: str | None) -> str | None:
    """The line shown for one stored line (None when it belongs to another session)."""
    try:  # shown as far as it reads, even when it would fail verification
        r = json.loads(raw)
        if session and r.get("session_id") != session:
            return None
        res, act = r["result"], r["action"]
        outcome = res["status"] if act["operation"] != "decision" else (
            "DENY " if res["status"] == "blocked" else "ALLOW")
        why = res.get("blocked_by") or ""
        return (f"{r['session_id']} #{r['sequence_number']:<4} {outcome:<8} "
                f"{act['effect_class']:<17} {act['tool']:<24} {act['operation']:<16} {why}")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return f"line {n}: not a readable receipt"


@click.command("show")
@click.argument("path", type=InputPath("file"))
@click.option("--session", default=None, help="Only this session.")
@click.option("--tail", "tail", type=click.IntRange(min=1), default=None, help="Only the last N receipts.")
def command(path: Path, session: str | None, tail: int | None) -> None:
    """Print the receipts of a JSONL log, one line each."""
    rows: list[str] = []
    try:
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                row = receipt_row(n, raw, session)
                if row is not None:
                    rows.append(row)
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}", "check the path and its permissions")
    for row in rows[-tail:] if tail else rows:
        click.echo(row.rstrip())
