"""`spinegate verify SOURCE [--public-key KEY]... [--witness W] [--strict]`: check a receipt store.

SOURCE is a JSONL log, a per-session directory, or the PostgreSQL ledger (a
`postgresql://` URL): every session, every row, streamed from one read-only
snapshot through server-side cursors in memory that does not grow with the
ledger, and checked exactly as the JSONL log `spinegate export` would write
from it (a failure's line is the row's place in position order, which is its
line in that export).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..checkpoint_verify import CheckpointReport, verify_checkpoints
from ..errors import KeyFileError, ReceiptLogError
from ..jsonl_store import checkpoint_path_for
from ..keys import load_public_keys
from ..log_lines import StreamedLog
from ..store import is_postgres_url
from ..verify import Failure, VerifyReport, verify_path, verify_stream
from ..witness_check import WitnessReport, check_witness, witness_lines_of_file
from ._common import EXIT_NO, EXIT_OK, check_input_path, fail


@click.command("verify")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--max-failures", default=10, show_default=True, type=click.IntRange(min=0),
              help="How many failures (and warnings) to print.")
@click.option("--public-key", "public_keys", multiple=True,
              help="Also check the signed checkpoints with this Ed25519 public key (NAME.pub from `spinegate "
                   "keygen`), or with every NAME.pub in a directory. Repeat for several keys.")
@click.option("--checkpoints", "checkpoints", default=None,
              help="The checkpoint file, if not SOURCE.checkpoints.jsonl.")
@click.option("--witness", "witness", default=None,
              help="Compare with the witness that holds copies of the checkpoints: a witness file, or a "
                   "postgresql:// ledger (its witness table, rows of --witness-log).")
@click.option("--witness-log", "witness_log", default=None,
              help="The name the gate gave this log in a ledger witness (default: this host and the log's "
                   "absolute path, as the gate names it).")
@click.option("--strict", is_flag=True, help="Count warnings (CR LF line endings, a byte-order mark) as failures.")
def command(source: str, as_json: bool, max_failures: int, public_keys: tuple[str, ...], checkpoints: str | None,
            witness: str | None, witness_log: str | None, strict: bool) -> None:
    """Verify a receipt log (JSONL file or per-session directory) or the PostgreSQL ledger.

    With --public-key, also check that the store still holds exactly the
    receipts the key holders signed (rewritten or deleted receipts, a cut-off
    tail, forged, edited, reordered or deleted checkpoints, a wrong key);
    give several keys (repeat the option, or a directory) when a fleet has
    rotated keys: the report says which key signed what. With --witness,
    also catch a store rolled back to an older copy or missing a session the
    witness saw. Exits 0 when everything verifies, 1 when something does not
    (or, with --strict, a warning), 2 when SOURCE, a key or the witness
    cannot be read, or SOURCE is a directory holding no receipt files.
    """
    ledger = is_postgres_url(source)
    path = Path(source) if ledger else check_input_path(Path(source), kind="any")
    if checkpoints is not None:
        if ledger:
            fail("--checkpoints names the checkpoint file of a JSONL log; the ledger keeps its checkpoints in its "
                 "own table", "leave --checkpoints out")
        check_input_path(Path(checkpoints), kind="file", must_exist=False)
    if not ledger and path.is_dir() and (public_keys or witness):
        option = "--public-key" if public_keys else "--witness"
        fail(f"{path}: {option} applies to a JSONL log or the ledger, not a directory",
             "pass the JSONL log the signing gate wrote")
    try:
        keys = load_public_keys([check_input_path(Path(k), kind="any") for k in public_keys])
    except KeyFileError as exc:
        fail(str(exc), "pass the public key file `spinegate keygen` wrote (NAME.pub), or a directory of them")
    try:
        with _opened(source, ledger) as log:
            if isinstance(log, StreamedLog):
                report = verify_stream(log.receipt_lines(), log.name)
            else:
                report = verify_path(log)
            signed = verify_checkpoints(log, keys, checkpoints) if keys else None
            witnessed = _check_witness(log, witness, witness_log, keys, checkpoints) if witness else None
    except (ReceiptLogError, KeyFileError) as exc:
        fail(str(exc), "check the source and its permissions")
    except OSError as exc:
        fail(f"{source}: cannot read: {exc.strerror or exc}", "check the path and its permissions")
    if not ledger and path.is_dir() and report.receipts == 0:  # most likely the wrong directory
        fail(f"{path}: no receipt files (<session>/NNNN_<receipt_id>.json) in this directory",
             "to verify a JSONL log, pass the file itself")
    failures = list(report.failures) + (signed.failures if signed else []) + (witnessed.failures if witnessed else [])
    failure_count = report.failure_count + (signed.failure_count if signed else 0) + \
        (witnessed.failure_count if witnessed else 0)
    ok = failure_count == 0 and not (strict and report.warning_count)
    if as_json:
        click.echo(json.dumps(_document(report, signed, witnessed, failures, failure_count, ok, strict), indent=2))
    else:
        _print(report, signed, witnessed, failures, failure_count, max_failures, path, ledger, strict)
    raise SystemExit(EXIT_OK if ok else EXIT_NO)


@contextmanager
def _opened(source: str, ledger: bool) -> Iterator[str | StreamedLog]:
    """SOURCE as the verifiers read it: a path, or the ledger streamed from one read-only snapshot."""
    if not ledger:
        yield source
        return
    from ..postgres_read import ledger_log, snapshot
    from ..postgres_schema import display_dsn

    with snapshot(source) as conn:
        yield ledger_log(conn, display_dsn(source))


def _check_witness(log: str | StreamedLog, witness: str, witness_log: str | None, keys: list[Any],
                   cpath: str | None) -> WitnessReport:
    name = log.name if isinstance(log, StreamedLog) else log
    if is_postgres_url(witness):
        from ..postgres_read import checkpoint_rows, snapshot
        from ..postgres_schema import display_dsn
        from ..witness import witness_log_name

        log_name = witness_log or witness_log_name(name)
        with snapshot(witness) as conn:
            lines = checkpoint_rows(conn, "witness", "log_name = %(log)s", {"log": log_name})
            return check_witness(log, lines, f"{display_dsn(witness)} (witness of {log_name})", keys=keys,
                                 checkpoints_path=cpath)
    check_input_path(Path(witness), kind="file")
    return check_witness(log, witness_lines_of_file(witness), witness, keys=keys, checkpoints_path=cpath)


def _document(report: VerifyReport, signed: CheckpointReport | None, witnessed: WitnessReport | None,
              failures: list[Failure], failure_count: int, ok: bool, strict: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "path": report.path, "valid": ok, "receipts": report.receipts, "sessions": report.sessions,
        "approvals": report.approvals, "denials": report.denials, "outcomes": report.outcomes,
        "escalations": report.escalations, "session_events": report.session_events,
        "failure_count": failure_count,
        "failures": [dataclasses.asdict(f) for f in failures],
        "warning_count": report.warning_count, "strict": strict,
        "warnings": [dataclasses.asdict(w) for w in report.warnings],
    }
    if signed is not None:
        doc["checkpoints"] = {
            "path": signed.checkpoints_path, "valid": signed.ok, "key_id": signed.key_id,
            "keys": {kid: {"checkpoints": s.checkpoints, "sessions": len(s.sessions)}
                     for kid, s in signed.signed_by.items()},
            "checkpoints": signed.checkpoints, "verified": signed.verified_checkpoints,
            "covered_receipts": signed.covered_receipts, "uncovered_receipts": signed.uncovered,
            "unclosed_sessions": signed.unclosed,
        }
    if witnessed is not None:
        doc["witness"] = {"witness": witnessed.witness, "valid": witnessed.ok, "lines": witnessed.lines,
                          "sessions": witnessed.sessions, "checked": witnessed.checked}
    return doc


def _print(report: VerifyReport, signed: CheckpointReport | None, witnessed: WitnessReport | None,
           failures: list[Failure], failure_count: int, max_failures: int, path: Path, ledger: bool,
           strict: bool) -> None:
    click.echo(report.summary())
    if signed is not None:
        click.echo(signed.summary())
    elif not ledger and path.is_file() and Path(checkpoint_path_for(path)).exists():
        click.echo(f"note: {checkpoint_path_for(path)} holds signed checkpoints; pass --public-key KEY.pub "
                   "to check that no receipt was rewritten or cut off")
    if witnessed is not None:
        click.echo(witnessed.summary())
    for failure in failures[:max_failures]:
        click.echo(f"  {failure}")
    if failure_count > max_failures:
        click.echo(f"  ... and {failure_count - max_failures} more")
    label = "warning (a failure with --strict)" if strict else "warning"
    for warning in report.warnings[:max_failures]:
        click.echo(f"  {label}: {warning}")
    if report.warning_count > max_failures:
        click.echo(f"  ... and {report.warning_count - max_failures} more warnings")
