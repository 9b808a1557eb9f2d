"""`spinegate verify PATH [--public-key KEY]`: check a receipt log's chains (and its signed checkpoints)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from ..checkpoint_verify import verify_checkpoints
from ..errors import KeyFileError
from ..jsonl_store import checkpoint_path_for
from ..verify import verify_path
from ._common import EXIT_NO, EXIT_OK, InputPath, fail


@click.command("verify")
@click.argument("path", type=InputPath("any"))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--max-failures", default=10, show_default=True, type=click.IntRange(min=0),
              help="How many failures to print.")
@click.option("--public-key", "public_key", default=None, type=InputPath("file"),
              help="Also check the log against its signed checkpoints (PATH.checkpoints.jsonl) with this "
                   "Ed25519 public key (NAME.pub from `spinegate keygen`).")
@click.option("--checkpoints", "checkpoints", default=None, type=InputPath("file", must_exist=False),
              help="The checkpoint file, if not PATH.checkpoints.jsonl.")
def command(path: Path, as_json: bool, max_failures: int, public_key: Path | None, checkpoints: Path | None) -> None:
    """Verify a receipt log (JSONL file or per-session directory).

    With --public-key, also check that the log still holds exactly the
    receipts the key holder signed (rewritten or deleted receipts, a cut-off
    tail, forged, edited, reordered or deleted checkpoints, a wrong key).
    Exits 0 when everything verifies, 1 when something does not, 2 when PATH
    or the key cannot be read, or PATH is a directory holding no receipt files.
    """
    if public_key is not None and path.is_dir():
        fail(f"{path}: --public-key applies to a JSONL log, not a directory",
             "pass the JSONL log the signing gate wrote")
    try:
        report = verify_path(path)
        signed = verify_checkpoints(path, public_key, checkpoints) if public_key is not None else None
    except KeyFileError as exc:
        fail(str(exc), "pass the public key file `spinegate keygen` wrote (NAME.pub)")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}", "check the path and its permissions")
    if path.is_dir() and report.receipts == 0:  # most likely the wrong directory: do not call that valid
        fail(f"{path}: no receipt files (<session>/NNNN_<receipt_id>.json) in this directory",
             "to verify a JSONL log, pass the file itself")
    failures = list(report.failures) + (signed.failures if signed is not None else [])
    failure_count = report.failure_count + (signed.failure_count if signed is not None else 0)
    ok = report.ok and (signed is None or signed.ok)
    if as_json:
        doc: dict[str, Any] = {
            "path": report.path, "valid": ok, "receipts": report.receipts, "sessions": report.sessions,
            "approvals": report.approvals, "denials": report.denials, "outcomes": report.outcomes,
            "escalations": report.escalations, "session_events": report.session_events,
            "failure_count": failure_count,
            "failures": [dataclasses.asdict(f) for f in failures],
        }
        if signed is not None:
            doc["checkpoints"] = {
                "path": signed.checkpoints_path, "valid": signed.ok, "key_id": signed.key_id,
                "checkpoints": signed.checkpoints, "verified": signed.verified_checkpoints,
                "covered_receipts": signed.covered_receipts, "uncovered_receipts": signed.uncovered,
                "unclosed_sessions": signed.unclosed,
            }
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(report.summary())
        if signed is not None:
            click.echo(signed.summary())
        elif path.is_file() and Path(checkpoint_path_for(path)).exists():
            click.echo(f"note: {checkpoint_path_for(path)} holds signed checkpoints; pass --public-key KEY.pub "
                       "to check that no receipt was rewritten or cut off")
        for failure in failures[:max_failures]:
            click.echo(f"  {failure}")
        if failure_count > max_failures:
            click.echo(f"  ... and {failure_count - max_failures} more")
    raise SystemExit(EXIT_OK if ok else EXIT_NO)
