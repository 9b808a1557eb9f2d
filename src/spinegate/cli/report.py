"""`spinegate report LOG --html OUT.html [--public-key KEY]... [--strict]`: a page that verifies the log itself."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import KeyFileError, ReceiptLogError
from ._common import EXIT_NO, EXIT_OK, InputPath, fail


@click.command("report")
@click.argument("path", type=InputPath("any"))
@click.option("--html", "out", required=True, type=click.Path(path_type=Path), help="The HTML file to write.")
@click.option("--public-key", "public_keys", multiple=True, type=InputPath("any"),
              help="Also check the signed checkpoints (PATH.checkpoints.jsonl) with this Ed25519 public key (NAME.pub "
                   "from `spinegate keygen`), or with every NAME.pub in a directory; repeat for several keys, as with "
                   "`spinegate verify`. The page checks the signatures itself where the browser has Ed25519.")
@click.option("--checkpoints", "checkpoints", default=None, type=InputPath("file", must_exist=False),
              help="The checkpoint file, if not PATH.checkpoints.jsonl.")
@click.option("--max-embedded", "max_embedded", default=50_000, show_default=True, type=click.IntRange(min=0),
              help="Embed the log (and verify it in the browser) only up to this many receipts; "
                   "a larger log gets a summary page with the command line's verdict.")
@click.option("--witness", "witness", default=None, type=InputPath("file"),
              help="Also compare the log with its witness file (copies of its checkpoints kept elsewhere), as "
                   "`spinegate verify --witness` does: catches a log rolled back or missing a session. The page "
                   "shows this verdict; it does not re-check the witness.")
@click.option("--strict", is_flag=True,
              help="Count warnings (CR LF line endings, a byte-order mark) as failures, as `verify --strict` does.")
def command(path: Path, out: Path, public_keys: tuple[Path, ...], checkpoints: Path | None, max_embedded: int,
            witness: Path | None, strict: bool) -> None:
    """Write a self-contained HTML report of a receipt log (JSONL file or per-session directory).

    The page needs no network: it carries the log, recomputes every hash and
    chain link in the browser, and with --public-key checks the signed
    checkpoints there too (give several keys when a fleet rotated them).
    Exits 0 when the report was written and the log verifies (as `spinegate
    verify` with the same keys and --strict), 1 when it was written and the
    log does not, 2 when nothing was written (unreadable log or key, or an
    output path that would overwrite the log).
    """
    from ..logview import NotALog, check_readable
    from ..report import ReportOutputError, report_ok, write_report

    if (public_keys or witness is not None) and path.is_dir():
        fail(f"{path}: {'--public-key' if public_keys else '--witness'} applies to a JSONL log, not a directory",
             "pass the JSONL log the signing gate wrote")
    try:
        check_readable(path)
        data = write_report(path, out, public_key=list(public_keys) or None, checkpoints=checkpoints,
                            max_embedded=max_embedded, strict=strict, witness=witness)
    except NotALog as exc:
        fail(f"{path}: {exc}", "pass a JSONL log or a per-session directory")
    except ReportOutputError as exc:
        fail(str(exc), "choose another --html path")
    except KeyFileError as exc:
        fail(str(exc), "pass the public key file `spinegate keygen` wrote (NAME.pub), or a directory of them")
    except ReceiptLogError as exc:
        fail(str(exc), "check the log, its checkpoint file and the witness, and their permissions")
    except OSError as exc:
        fail(f"{exc.filename or path}: {exc.strerror or exc}", "check the paths and their permissions")
    ok = report_ok(data)
    click.echo(f"wrote {out}: {data.verify.summary()}")
    if data.checkpoints is not None:
        click.echo(data.checkpoints.summary())
    if data.witness is not None:
        click.echo(data.witness.summary())
    if data.embedded is None:
        click.echo(f"the log has {data.entries} lines, more than --max-embedded {max_embedded}: the page is a "
                   "summary with this verdict and does not verify the log in the browser")
    if data.non_json_lines:
        click.echo(f"{len(data.non_json_lines)} line(s) are not JSON and are embedded base64: "
                   + ", ".join(map(str, data.non_json_lines[:20])))
    for failure in (list(data.verify.failures) + (data.checkpoints.failures if data.checkpoints else [])
                    + (data.witness.failures if data.witness else []))[:5]:
        click.echo(f"  {failure}")
    if data.verify.warning_count:
        lines = ", ".join(str(w.line) for w in data.verify.warnings[:20] if w.line is not None)
        how = "counted as failures (--strict)" if strict else "not failures"
        click.echo(f"{data.verify.warning_count} warning(s), {how}"
                   f": {', '.join(sorted({w.reason for w in data.verify.warnings}))} at line(s) {lines}"
                   f"{' ...' if data.verify.warning_count > 20 else ''}")
    raise SystemExit(EXIT_OK if ok else EXIT_NO)
