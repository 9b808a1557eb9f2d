"""The `spinegate` command line.

Exit codes: 0 valid / approved, 1 invalid / denied, 2 unreadable input or a
usage error (click's own usage errors exit 2 as well).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from .errors import (
    KeyFileError, ManifestError, ManifestHashMismatch, ManifestUnreadable, ReceiptLogError, SpinegateError,
)
from .manifest import compute_file_hash, load_manifest, seal_manifest
from .signing import checkpoint_path_for, verify_checkpoints, write_keypair
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
@click.option("--max-failures", default=10, show_default=True, type=click.IntRange(min=0),
              help="How many failures to print.")
@click.option("--public-key", "public_key", default=None, type=click.Path(path_type=Path),
              help="Also check the log against its signed checkpoints (PATH.checkpoints.jsonl) with this "
                   "Ed25519 public key (NAME.pub from `spinegate keygen`).")
@click.option("--checkpoints", "checkpoints", default=None, type=click.Path(path_type=Path),
              help="The checkpoint file, if not PATH.checkpoints.jsonl.")
def verify(path: Path, as_json: bool, max_failures: int, public_key: Path | None,
           checkpoints: Path | None) -> None:
    """Verify a receipt log (JSONL file or per-session directory).

    With --public-key, also check that the log still holds exactly the
    receipts the key holder signed (rewritten or deleted receipts, a cut-off
    tail, forged, edited, reordered or deleted checkpoints, a wrong key).
    Exits 0 when everything verifies, 1 when something does not, 2 when PATH
    or the key cannot be read, or PATH is a directory holding no receipt files.
    """
    if not path.exists():
        click.echo(f"spinegate verify: {path}: no such file or directory", err=True)
        sys.exit(EXIT_UNREADABLE)
    if not path.is_file() and not path.is_dir():  # a pipe or device would hang the reader
        click.echo(f"spinegate verify: {path}: not a regular file or directory", err=True)
        sys.exit(EXIT_UNREADABLE)
    if public_key is not None and path.is_dir():
        click.echo(f"spinegate verify: {path}: --public-key applies to a JSONL log, not a directory", err=True)
        sys.exit(EXIT_UNREADABLE)
    try:
        report = verify_path(path)
        signed = verify_checkpoints(path, public_key, checkpoints) if public_key is not None else None
    except KeyFileError as exc:
        click.echo(f"spinegate verify: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except OSError as exc:
        click.echo(f"spinegate verify: {path}: cannot read: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    if path.is_dir() and report.receipts == 0:  # most likely the wrong directory: do not call that valid
        click.echo(f"spinegate verify: {path}: no receipt files (<session>/NNNN_<receipt_id>.json) in this "
                   "directory; to verify a JSONL log, pass the file itself", err=True)
        sys.exit(EXIT_UNREADABLE)
    failures = list(report.failures) + (signed.failures if signed is not None else [])
    failure_count = report.failure_count + (signed.failure_count if signed is not None else 0)
    ok = report.ok and (signed is None or signed.ok)
    if as_json:
        doc: dict[str, Any] = {
            "path": report.path, "valid": ok, "receipts": report.receipts, "sessions": report.sessions,
            "approvals": report.approvals, "denials": report.denials, "outcomes": report.outcomes,
            "failure_count": failure_count,
            "failures": [dataclasses.asdict(f) for f in failures],
        }
        if signed is not None:
            doc["checkpoints"] = {
                "path": signed.checkpoints_path, "valid": signed.ok, "key_id": signed.key_id,
                "checkpoints": signed.checkpoints, "verified": signed.verified_checkpoints,
                "covered_receipts": signed.covered_receipts, "uncovered_receipts": signed.uncovered,
                "unclosed_sessions": signed.unclosed,
            }
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(report.summary())
        if signed is not None:
            click.echo(signed.summary())
        elif path.is_file() and Path(checkpoint_path_for(path)).exists():
            click.echo(f"note: {checkpoint_path_for(path)} holds signed checkpoints; pass --public-key KEY.pub "
                       "to check that no receipt was rewritten or cut off")
        for failure in failures[:max_failures]:
            click.echo(f"  {failure}")
        if failure_count > max_failures:
            click.echo(f"  ... and {failure_count - max_failures} more")
    sys.exit(EXIT_OK if ok else EXIT_INVALID)


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
    except OSError as exc:  # the sealed copy could not be written; the file is left as it was
        click.echo(f"spinegate manifest seal: {file}: cannot write: {exc.strerror or exc} "
                   "(fix: make the file and its directory writable)", err=True)
        sys.exit(EXIT_UNREADABLE)
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
    return isinstance(exc, ManifestUnreadable)


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
@click.option("--tail", "tail", type=click.IntRange(min=1), default=None, help="Only the last N receipts.")
def show(path: Path, session: str | None, tail: int | None) -> None:
    """Print the receipts of a JSONL log, one line each."""
    rows: list[str] = []
    try:
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                try:  # shown as far as it reads, even when it would fail verification
                    r = json.loads(raw)
                    if session and r.get("session_id") != session:
                        continue
                    res, act = r["result"], r["action"]
                    outcome = res["status"] if act["operation"] != "decision" else (
                        "DENY " if res["status"] == "blocked" else "ALLOW")
                    why = res.get("blocked_by") or ""
                    rows.append(f"{r['session_id']} #{r['sequence_number']:<4} {outcome:<8} "
                                f"{act['effect_class']:<17} {act['tool']:<24} {act['operation']:<16} {why}")
                except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                    rows.append(f"line {n}: not a readable receipt")
    except OSError as exc:
        click.echo(f"spinegate show: {path}: cannot read: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    for row in rows[-tail:] if tail else rows:
        click.echo(row.rstrip())


@main.command()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Private key file to create; the public key goes to OUT.pub.")
def keygen(out: Path) -> None:
    """Create an Ed25519 key pair for signed checkpoints.

    OUT gets the private key (PEM, mode 0600, created atomically; an existing
    file is never overwritten) and OUT.pub the public key to verify with.
    """
    try:
        priv, pub, kid = write_keypair(out)
    except FileExistsError as exc:
        click.echo(f"spinegate keygen: {exc.args[0]} already exists; refusing to overwrite a key", err=True)
        sys.exit(EXIT_INVALID)
    except OSError as exc:
        click.echo(f"spinegate keygen: {out}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    click.echo(f"private key {priv} (keep it secret), public key {pub}, key id {kid}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def recover(path: Path) -> None:
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
            click.echo(f"spinegate recover: {target}: {exc}", err=True)
            sys.exit(EXIT_UNREADABLE)
        if moved is None:
            if target == path:
                click.echo(f"{path}: the log ends in a complete line; nothing to recover")
            continue
        side, size = moved
        click.echo(f"{target}: moved a torn fragment of {size} bytes to {side}; writing can resume")


@main.command()
@click.option("--manifest", "manifest_path", required=True, type=click.Path(path_type=Path),
              help="The sealed manifest.")
@click.option("--receipts", "receipts_path", required=True, type=click.Path(path_type=Path),
              help="The JSONL receipt log.")
def hook(manifest_path: Path, receipts_path: Path) -> None:
    """Gate one proposed tool call read as JSON from standard input.

    Prints the decision as JSON; exits 0 to allow, 2 to block (reason on
    standard error). Bad input, a bad manifest or an unwritable log block too.
    """
    from .hook import HookInputError, decision_json, run_hook

    try:
        decision = run_hook(manifest_path, receipts_path, sys.stdin.read())
    except (HookInputError, SpinegateError) as exc:
        click.echo(f"spinegate hook: blocked: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - any other exit code would let the agent run the tool
        click.echo(f"spinegate hook: blocked: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    click.echo(decision_json(decision))
    if not decision.approved:
        click.echo(decision.refusal_message(), err=True)
        sys.exit(2)


@main.command("mcp-proxy", add_help_option=False,
              context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def mcp_proxy(args: tuple[str, ...]) -> None:
    """Govern an MCP server: every tools/call decided and receipted (needs spinegate-mcp).

    spinegate mcp-proxy --manifest M --receipts R [--name NAME] [--pin FILE]
    [--upstream URL] [--listen HOST:PORT] -- COMMAND [ARGS...]; --help for all options.
    """
    try:
        from spinegate_mcp.cli import main as proxy_main
    except ImportError as exc:
        click.echo(f"spinegate mcp-proxy: the MCP gateway is in the spinegate-mcp distribution, which is not "
                   f"installed ({exc}); install it with: pip install spinegate-mcp "
                   f"(from a clone of this repository: pip install -e adapters/mcp)", err=True)
        sys.exit(2)
    proxy_main.main(args=list(args), prog_name="spinegate mcp-proxy")


# -- policy: classify a command line, dry-run a call ------------------------------------


@main.command("classify-command")
@click.argument("command")
@click.option("--explain", is_flag=True, help="Show every part of the line and which one decided.")
@click.option("--manifest", "manifest_path", default=None, type=click.Path(path_type=Path),
              help="Use this manifest's shell allow/deny lists and path settings.")
def classify_command(command: str, explain: bool, manifest_path: Path | None) -> None:
    """Print the effect class of a shell command line (parsed, not prefix-matched)."""
    from .classifier import EffectClassifier
    from .shell import ShellClassifier

    shell = ShellClassifier()
    if manifest_path is not None:
        try:
            shell = EffectClassifier.for_manifest(load_manifest(manifest_path)).shell
        except ManifestError as exc:
            click.echo(f"spinegate classify-command: {exc}", err=True)
            sys.exit(EXIT_INVALID)
    result = shell.classify(command)
    click.echo(result.explain() if explain else result.effect.value)


@main.command("check")
@click.argument("manifest_file", metavar="MANIFEST", type=click.Path(path_type=Path))
@click.argument("tool")
@click.option("--args", "args_json", default="{}", show_default=True, help="The call's arguments as a JSON object.")
@click.option("--plugin", default=None, help="The tool's plugin (omit for tools without one).")
@click.option("--posture", default=None, type=click.Choice(["NORMAL", "ELEVATED", "LOCKDOWN"]),
              help="Decide as if the session were in this posture (default: the manifest's).")
def check_call(manifest_file: Path, tool: str, args_json: str, plugin: str | None, posture: str | None) -> None:
    """Decide one call against MANIFEST without running it or writing a receipt.

    Prints the decision, effect, reason and the rule that decided. Exits 0
    approve, 1 deny (also for an unusable manifest or arguments), 2 escalate.
    """
    from .classifier import EffectClassifier
    from .decision import ToolCall, Verdict
    from .effects import Posture
    from .policy import Limits, PolicyEvaluator, Usage

    try:
        m = load_manifest(manifest_file)
    except ManifestError as exc:
        click.echo(f"spinegate check: {exc}", err=True)
        click.echo("decision: deny (the gate would not open with this manifest)")
        sys.exit(EXIT_INVALID)
    try:
        try:
            arguments = json.loads(args_json)
        except RecursionError:
            raise ValueError("nested too deeply to parse") from None
        if not isinstance(arguments, dict):
            raise ValueError("--args must be a JSON object")
    except ValueError as exc:
        click.echo(f"spinegate check: --args: {exc}", err=True)
        click.echo("decision: deny (arguments are not a JSON object)")
        sys.exit(EXIT_INVALID)
    call = ToolCall(function=tool, plugin=plugin, arguments=arguments)
    b = m.budgets
    limits = Limits(b.max_steps, b.max_commands, b.max_writes) if b is not None else Limits()
    try:
        entry = m.lookup(plugin, tool)
        classification = EffectClassifier.for_manifest(m).classify(call, entry)
        ruling = PolicyEvaluator().evaluate(call, entry, classification, Posture(posture) if posture else m.posture,
                                            Usage(), limits)
    except Exception as exc:  # noqa: BLE001 - as the gate does: an exception denies
        click.echo(f"decision: deny\nreason:   EVALUATION_EXCEPTION: {type(exc).__name__}: {exc}")
        sys.exit(EXIT_INVALID)
    effect = classification.effect.value if classification.effect is not None else "unknown (recorded as SHELL_DANGEROUS)"
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
    sys.exit({Verdict.APPROVE: EXIT_OK, Verdict.DENY: EXIT_INVALID, Verdict.ESCALATE: 2}[ruling.verdict])


if __name__ == "__main__":  # pragma: no cover
    main()
