"""`spinegate check MANIFEST TOOL [--plugin P] [--args JSON]`: explain a decision, writing nothing.

Exit codes: 0 approve, 1 deny (also for a manifest the gate would refuse),
2 usage error or unreadable input, 3 escalate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import ManifestError, ManifestUnreadable
from ..manifest_file import load_manifest
from ._common import EXIT_ESCALATE, EXIT_NO, EXIT_OK, InputPath, fail


def parse_arguments(args_json: str) -> dict[str, Any]:
    """`--args` as a JSON object; a usage error (exit 2) otherwise."""
    try:
        arguments = json.loads(args_json)
    except RecursionError:
        fail("--args: not valid JSON: nested too deeply to parse", "pass the arguments as a flat JSON object")
    except ValueError as exc:
        fail(f"--args: not valid JSON: {exc}", "pass the arguments as a JSON object, such as '{\"path\": \"a.txt\"}'")
    if not isinstance(arguments, dict):
        fail(f"--args must be a JSON object, not {type(arguments).__name__}",
             "pass the arguments as a JSON object, such as '{\"path\": \"a.txt\"}'")
    return arguments


@click.command("check")
@click.argument("manifest_file", metavar="MANIFEST", type=InputPath("file"))
@click.argument("tool")
@click.option("--args", "args_json", default="{}", show_default=True, help="The call's arguments as a JSON object.")
@click.option("--plugin", default=None, help="The tool's plugin (omit for tools without one).")
@click.option("--posture", default=None, type=click.Choice(["NORMAL", "ELEVATED", "LOCKDOWN"]),
              help="Decide as if the session were in this posture (default: the manifest's).")
def command(manifest_file: Path, tool: str, args_json: str, plugin: str | None, posture: str | None) -> None:
    """Decide one call against MANIFEST without running it or writing a receipt.

    Prints the decision, effect, reason and the rule that decided. Exits 0
    approve, 1 deny (also for a manifest the gate would refuse to open), 2
    for a usage error or unreadable input (a manifest that is not JSON,
    --args that is not a JSON object), 3 escalate.
    """
    from ..classifier import EffectClassifier
    from ..decision import ToolCall, Verdict
    from ..effects import Posture
    from ..policy import Limits, PolicyEvaluator, Usage
    from ..workspace import path_context

    try:
        m = load_manifest(manifest_file)
    except ManifestUnreadable as exc:
        fail(str(exc))
    except ManifestError as exc:
        click.echo("decision: deny (the gate would not open with this manifest)")
        fail(str(exc), code=EXIT_NO)
    arguments = parse_arguments(args_json)
    call = ToolCall(function=tool, plugin=plugin, arguments=arguments)
    b = m.budgets
    limits = Limits(b.max_steps, b.max_commands, b.max_writes) if b is not None else Limits()
    try:
        entry = m.lookup(plugin, tool)
        classification = EffectClassifier.for_manifest(m, context=path_context()).classify(call, entry)
        ruling = PolicyEvaluator().evaluate(call, entry, classification, Posture(posture) if posture else m.posture,
                                            Usage(), limits)
    except Exception as exc:  # noqa: BLE001 - as the gate does: an exception denies
        click.echo(f"decision: deny\nreason:   EVALUATION_EXCEPTION: {type(exc).__name__}: {exc}")
        raise SystemExit(EXIT_NO) from None
    effect = (classification.effect.value if classification.effect is not None
              else "unknown (recorded as SHELL_DANGEROUS)")
    declared = f" (declared {classification.declared.value})" if classification.declared is not None else ""
    click.echo(f"decision: {ruling.verdict.value}")
    click.echo(f"effect:   {effect}{declared}")
    click.echo(f"reason:   {ruling.reason or '-'}")
    click.echo(f"rule:     {ruling.rule}")
    click.echo(f"class:    {classification.rule}")
    if classification.command is not None:
        click.echo(f"command:  {classification.command}")
    if classification.target_paths:
        click.echo("paths:    " + ", ".join(classification.target_paths))
    if classification.explanation:
        click.echo("parts:")
        for line in classification.explanation.splitlines()[2:]:
            click.echo(f"  {line}")
    raise SystemExit({Verdict.APPROVE: EXIT_OK, Verdict.DENY: EXIT_NO, Verdict.ESCALATE: EXIT_ESCALATE}[ruling.verdict])
