"""`spinegate manifest seal FILE` and `spinegate manifest check FILE`: sign a manifest off, check it."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ManifestError, ManifestHashMismatch, ManifestUnreadable
from ..manifest_file import load_manifest, seal_manifest
from ._common import EXIT_NO, EXIT_USAGE, InputPath, fail


def manifest_failure(exc: ManifestError) -> int:
    """The exit code for a manifest that did not load: 2 if it cannot be read at all, 1 if it is invalid."""
    return EXIT_USAGE if isinstance(exc, ManifestUnreadable) else EXIT_NO


@click.group("manifest")
def command() -> None:
    """Seal and check manifests."""


@command.command("seal")
@click.argument("file", type=InputPath("file"))
def seal(file: Path) -> None:
    """Write the correct manifest_hash into FILE (after validating it).

    Exits 0 when sealed, 1 when FILE is not a valid manifest, 2 when it
    cannot be read or written (the file is then left as it was).
    """
    try:
        digest = seal_manifest(file)
    except ManifestError as exc:
        fail(str(exc), code=manifest_failure(exc))
    except OSError as exc:  # the sealed copy could not be written; the file is left as it was
        fail(f"{file}: cannot write: {exc.strerror or exc}", "make the file and its directory writable")
    click.echo(f"{file}: sealed, manifest_hash {digest}")


@command.command("check")
@click.argument("file", type=InputPath("file"))
def check(file: Path) -> None:
    """Exit 0 if FILE is valid and its manifest_hash verifies, 1 if not, 2 if unreadable."""
    try:
        m = load_manifest(file)
    except ManifestHashMismatch as exc:
        fail(f"{file}: INVALID: manifest_hash mismatch: stored {exc.stored}, computed {exc.computed}",
             "review the change, then run `spinegate manifest seal` to sign it off", code=EXIT_NO)
    except ManifestError as exc:
        fail(str(exc), code=manifest_failure(exc))
    click.echo(f"{file}: valid, manifest_hash {m.manifest_hash} ({len(m.functions)} functions, "
               f"posture {m.posture.value})")
