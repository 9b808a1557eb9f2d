"""The `spinegate` command line.

Exit codes: 0 valid / approved, 1 invalid / denied, 2 unreadable input or a
usage error (click's own usage errors exit 2 as well).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .errors import ManifestError, ManifestHashMismatch, ReceiptLogError
from .manifest import compute_file_hash, load_manifest, seal_manifest
from .store import recover_torn_tail
from .verify import verify_path

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spinegate")
def main() -> None:
    """spinegate: decide every agent tool call before it runs, and prove it."""


# -- verify ---------------------------------------------------------------------


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--max-failures", default=10, show_default=True, help="How many failures to print.")
def verify(path: Path, as_json: bool, max_failures: int) -> None:
    """Verify a receipt log (JSONL file or per-session directory).

    Exits 0 when every chain verifies, 1 when one does not, 2 when PATH
    cannot be read.
    """
    if not path.exists():
        click.echo(f"spinegate verify: {path}: no such file or directory", err=True)
        sys.exit(EXIT_UNREADABLE)
    try:
        report = verify_path(path)
    except OSError as exc:
        click.echo(f"spinegate verify: {path}: cannot read: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    if as_json:
        click.echo(json.dumps({
            "path": report.path, "valid": report.ok, "receipts": report.receipts, "sessions": report.sessions,
            "approvals": report.approvals, "denials": report.denials, "outcomes": report.outcomes,
            "failure_count": report.failure_count,
            "failures": [f.__dict__ if hasattr(f, "__dict__") else _failure_dict(f) for f in report.failures],
        }, indent=2))
    else:
        click.echo(report.summary())
        for failure in report.failures[:max_failures]:
            click.echo(f"  {failure}")
        if report.failure_count > max_failures:
            click.echo(f"  ... and {report.failure_count - max_failures} more")
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


def _failure_dict(f: Any) -> dict[str, Any]:
    return {k: getattr(f, k) for k in f.__slots__}


# -- manifest ---------------------------------------------------------------------


@main.group()
def manifest() -> None:
    """Seal and check manifests."""


@manifest.command("seal")
@click.argument("file", type=click.Path(path_type=Path))
def manifest_seal(file: Path) -> None:
    """Write the correct manifest_hash into FILE (after validating it)."""
    try:
        digest = seal_manifest(file)
    except ManifestError as exc:
        click.echo(f"spinegate manifest seal: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE if _unreadable(exc) else EXIT_INVALID)
    click.echo(f"{file}: sealed, manifest_hash {digest}")


@manifest.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def manifest_check(file: Path) -> None:
    """Exit 0 if FILE is valid and its manifest_hash verifies, 1 if not, 2 if unreadable."""
    try:
        m = load_manifest(file)
    except ManifestHashMismatch as exc:
        click.echo(f"{file}: INVALID: manifest_hash mismatch: stored {exc.stored}, computed {exc.computed}", err=True)
        click.echo("  review the change, then run `spinegate manifest seal` to sign it off", err=True)
        sys.exit(EXIT_INVALID)
    except ManifestError as exc:
        click.echo(f"{exc}", err=True)
        sys.exit(EXIT_UNREADABLE if _unreadable(exc) else EXIT_INVALID)
    click.echo(f"{file}: valid, manifest_hash {m.manifest_hash} ({len(m.functions)} functions, "
               f"posture {m.posture.value})")


def _unreadable(exc: ManifestError) -> bool:
    text = exc.detail
    return text.startswith("cannot read") or text.startswith("not UTF-8") or text.startswith("not valid JSON") \
        or text.startswith("the manifest must be a JSON object") or text.startswith("duplicate key")


@main.command("hash-manifest", hidden=True)
@click.argument("file", type=click.Path(path_type=Path))
def hash_manifest(file: Path) -> None:
    try:
        click.echo(compute_file_hash(file))
    except ManifestError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_UNREADABLE)


# -- show and recover ----------------------------------------------------------------


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--session", default=None, help="Only this session.")
@click.option("--tail", "tail", type=int, default=None, help="Only the last N receipts.")
def show(path: Path, session: str | None, tail: int | None) -> None:
    """Print the receipts of a JSONL log, one line each."""
    rows: list[str] = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                r = json.loads(raw)
                if session and r.get("session_id") != session:
                    continue
                res, act = r["result"], r["action"]
                outcome = res["status"] if act["operation"] != "decision" else (
                    "DENY " if res["status"] == "blocked" else "ALLOW")
                why = res.get("blocked_by") or ""
                rows.append(f"{r['session_id']} #{r['sequence_number']:<4} {outcome:<8} {act['effect_class']:<17} "
                            f"{act['tool']:<24} {act['operation']:<16} {why}")
            except (ValueError, KeyError, TypeError):
                rows.append(f"line {n}: not a readable receipt")
    for row in rows[-tail:] if tail else rows:
        click.echo(row.rstrip())


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def recover(path: Path) -> None:
    """Move a torn last line (from a crash mid-write) to a side file so writing can resume.

    Nothing is deleted: the fragment is saved to PATH.torn-<time> before the
    log is shortened to its last complete line.
    """
    try:
        moved = recover_torn_tail(path)
    except (OSError, ReceiptLogError) as exc:
        click.echo(f"spinegate recover: {path}: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    if moved is None:
        click.echo(f"{path}: the log ends in a complete line; nothing to recover")
        return
    side, size = moved
    click.echo(f"{path}: moved a torn fragment of {size} bytes to {side}; writing can resume")


if __name__ == "__main__":  # pragma: no cover
    main()
