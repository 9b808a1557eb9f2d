"""`spinegate classify-command "CMD" [--explain]`: the effect class of a command line, and which part decided."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ManifestError
from ..manifest_file import load_manifest
from ._common import InputPath, fail
from .manifest import manifest_failure


@click.command("classify-command")
@click.argument("command")
@click.option("--explain", is_flag=True,
              help="Show every part of the line, the decoded words and which option of which program decided.")
@click.option("--manifest", "manifest_path", default=None, type=InputPath("file"),
              help="Use this manifest's shell rules, allow/deny lists, path settings and readable secrets.")
def command(command: str, explain: bool, manifest_path: Path | None) -> None:
    """Print the effect class of a shell command line (parsed, not prefix-matched)."""
    from ..classifier import EffectClassifier
    from ..paths import PathPolicy
    from ..shell import ShellClassifier
    from ..workspace import path_context

    context = path_context()
    shell = ShellClassifier(paths=PathPolicy(context=context))
    if manifest_path is not None:
        try:
            shell = EffectClassifier.for_manifest(load_manifest(manifest_path), context=context).shell
        except ManifestError as exc:
            fail(str(exc), code=manifest_failure(exc))
    result = shell.classify(command)
    click.echo(result.explain() if explain else result.effect.value)
