"""`spinegate recover LOG`: move a torn last line (from a crash mid-write) to a side file."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ReceiptLogError
from ..jsonl_store import checkpoint_path_for, recover_torn_tail
from ._common import InputPath, fail


@click.command("recover")
@click.argument("path", type=InputPath("file"))
def command(path: Path) -> None:
    """Move a torn last line (from a crash mid-write) to a side file so writing can resume.

    Nothing is deleted: the fragment is saved to PATH.torn-<time> before the
    log is shortened to its last complete line. The log's signed checkpoint
    file (PATH.checkpoints.jsonl), if any, is recovered the same way.
    """
    targets = [path]
    sidecar = Path(checkpoint_path_for(path))
    if sidecar.is_symlink():  # never shorten whatever file a planted link points at
        click.echo(f"spinegate recover: {sidecar} is a symbolic link; not touched (the gate never writes one)",
                   err=True)
    elif sidecar.is_file():
        targets.append(sidecar)
    for target in targets:
        try:
            moved = recover_torn_tail(target)
        except (OSError, ReceiptLogError) as exc:
            fail(f"{target}: {exc}", "check the file's permissions; nothing was changed")
        if moved is None:
            if target == path:
                click.echo(f"{path}: the log ends in a complete line; nothing to recover")
            continue
        side, size = moved
        click.echo(f"{target}: moved a torn fragment of {size} bytes to {side}; writing can resume")
