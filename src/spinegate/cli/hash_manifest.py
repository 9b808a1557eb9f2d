"""`spinegate hash-manifest FILE` (hidden): print the manifest_hash FILE's content should carry."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ManifestError
from ..manifest_file import compute_file_hash
from ._common import InputPath, fail


@click.command("hash-manifest", hidden=True)
@click.argument("file", type=InputPath("file"))
def command(file: Path) -> None:
    """Print the manifest_hash of FILE's content, without validating or changing it."""
    try:
        click.echo(compute_file_hash(file))
    except ManifestError as exc:
        fail(str(exc))
