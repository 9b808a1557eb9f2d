"""`spinegate report`: one self-contained HTML page a reviewer can open, which verifies the log itself.

    from spinegate.report import write_report
    data = write_report("receipts.jsonl", "report.html", public_key="gate.key.pub")

The page shows the verdict first, counts, the signed-checkpoint status, two
charts and a filterable table of receipts, and carries the log inside it:
when opened, its own JavaScript recomputes every canonical form, hash and
chain link (and, with a public key, checks the checkpoint signatures) without
trusting the Python that wrote it. Modules: `gather` reads the log, `embed`
escapes it into the page, `charts` draws the SVG, `render` assembles the HTML.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..jsonl_store import checkpoint_path_for
from .gather import DEFAULT_MAX_EMBEDDED, PublicKeys, ReportData, gather, report_ok
from .render import load_assets, render_page

__all__ = ["DEFAULT_MAX_EMBEDDED", "PublicKeys", "ReportData", "ReportOutputError", "render_report", "report_ok",
           "write_report"]


class ReportOutputError(ValueError):
    """The output path cannot take the report (it is the log itself, its checkpoints, or not a file)."""


def _generator() -> str:
    try:
        return f"spinegate {version('spinegate')}"
    except PackageNotFoundError:  # running from a source tree without installing
        return "spinegate"


def render_report(log: str | os.PathLike[str], *, public_key: PublicKeys | None = None,
                  checkpoints: str | os.PathLike[str] | None = None, max_embedded: int = DEFAULT_MAX_EMBEDDED,
                  strict: bool = False, witness: str | os.PathLike[str] | None = None,
                  generated_at: datetime | None = None) -> tuple[str, ReportData]:
    """(the page's HTML, what it shows) for `log`; `public_key` is one trusted key or several."""
    data = gather(log, public_key=public_key, checkpoints=checkpoints, max_embedded=max_embedded, strict=strict,
                  witness=witness)
    page = render_page(data, load_assets(), generated_at=generated_at or datetime.now(UTC),
                       generator=_generator())
    return page, data


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_output(out: Path, log: Path, others: list[Path]) -> None:
    guarded = [log, Path(checkpoint_path_for(log)), *others]
    if any(_same_file(out, g) or out.resolve() == g.resolve() for g in guarded):
        raise ReportOutputError(f"{out}: that is the log, its checkpoint file or its witness; a report never "
                                "overwrites them (choose another --html path)")
    if out.exists() and not out.is_file():
        raise ReportOutputError(f"{out}: exists and is not a regular file (a directory, pipe or device)")
    if log.is_dir() and out.resolve().is_relative_to(log.resolve()):
        raise ReportOutputError(f"{out}: inside the log's directory; write the report elsewhere")


def write_report(log: str | os.PathLike[str], out: str | os.PathLike[str], *,
                 public_key: PublicKeys | None = None, checkpoints: str | os.PathLike[str] | None = None,
                 max_embedded: int = DEFAULT_MAX_EMBEDDED, strict: bool = False,
                 witness: str | os.PathLike[str] | None = None, generated_at: datetime | None = None) -> ReportData:
    """Write the report for `log` to `out` (replaced atomically: a reader never sees half a page).

    Raises ReportOutputError for an output path that would overwrite the log
    or is not a file, OSError when the log cannot be read or the page written.
    """
    out_path, log_path = Path(out), Path(log)
    _check_output(out_path, log_path, [Path(p) for p in (checkpoints, witness) if p is not None])
    page, data = render_report(log, public_key=public_key, checkpoints=checkpoints, max_embedded=max_embedded,
                               strict=strict, witness=witness, generated_at=generated_at)
    folder = out_path.parent if str(out_path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:  # name the page asked for, not the temporary file beside it
        raise OSError(exc.errno, f"cannot write the page there: {exc.strerror or exc}", os.fspath(out_path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
        os.chmod(tmp, 0o666 & ~_umask())  # as a plain open() would create it (mkstemp makes it 0600)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return data
