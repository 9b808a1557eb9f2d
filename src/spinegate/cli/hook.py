"""`spinegate hook --manifest M --receipts R`: gate one tool call read as JSON on standard input.

For agents that gate tools through a subprocess hook (Claude Code's
PreToolUse and the like): exit 0 allows the call, exit 2 blocks it (the
agents' convention), with the reason on standard error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import SpinegateError

#: The exit code that tells the agent to block the call: the hooks' convention, which a usage error
#: of this command (exit 2 like every command's) meets as well, so a broken hook line blocks too.
EXIT_BLOCK = 2


@click.command("hook")
@click.option("--manifest", "manifest_path", required=True, type=click.Path(path_type=Path),
              help="The sealed manifest.")
@click.option("--receipts", "receipts_path", required=True, type=click.Path(path_type=Path),
              help="The JSONL receipt log.")
def command(manifest_path: Path, receipts_path: Path) -> None:
    """Gate one proposed tool call read as JSON from standard input.

    Prints the decision as JSON; exits 0 to allow, 2 to block (reason on
    standard error). Bad input, a bad manifest or an unwritable log block too.
    """
    from ..hook import HookInputError, decision_json, run_hook

    try:
        decision = run_hook(manifest_path, receipts_path, sys.stdin.read())
    except (HookInputError, SpinegateError) as exc:
        click.echo(f"spinegate hook: blocked: {exc}", err=True)
        sys.exit(EXIT_BLOCK)
    except Exception as exc:  # noqa: BLE001 - any other exit code would let the agent run the tool
        click.echo(f"spinegate hook: blocked: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_BLOCK)
    click.echo(decision_json(decision))
    if not decision.approved:
        click.echo(decision.refusal_message(), err=True)
        sys.exit(EXIT_BLOCK)
