"""`spinegate keygen --out NAME`: an Ed25519 key pair for signed checkpoints (NAME, NAME.pub)."""

from __future__ import annotations

from pathlib import Path

import click

from ..keys import write_keypair
from ._common import fail


@click.command("keygen")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Private key file to create; the public key goes to OUT.pub.")
def command(out: Path) -> None:
    """Create an Ed25519 key pair for signed checkpoints.

    OUT gets the private key (PEM, mode 0600, created atomically; an existing
    file is never overwritten) and OUT.pub the public key to verify with.
    Exits 2 when either file exists or cannot be created.
    """
    try:
        priv, pub, kid = write_keypair(out)
    except FileExistsError as exc:
        fail(f"{exc.args[0]} already exists; refusing to overwrite a key", "choose another --out name")
    except OSError as exc:
        fail(f"{out}: {exc.strerror or exc}", "make sure the directory exists and is writable")
    click.echo(f"private key {priv} (keep it secret), public key {pub}, key id {kid}")
