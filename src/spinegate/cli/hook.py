"""`spinegate hook [--host claude-code|codex|gemini|cursor]`: answer one coding-agent hook event.

Reads the host's hook payload on standard input and answers in that host's
format (see `spinegate.hosts`): before a tool, allow / deny / ask with a
receipt; after a tool, an outcome receipt; on a person's prompt, the
session's posture restored. Anything that keeps spinegate from deciding a
call blocks it (exit 2, the reason on standard error).

The project is `--project`, else `$SPINEGATE_PROJECT`, else the nearest
directory at or above the working directory holding `.spinegate/`. Its
resident helper (`spinegate serve`) answers when running, and is started
when not; `--in-process` (or a helper that cannot be started) decides in
this process instead. `--manifest M --receipts R` gates against those files
directly, in process, without a helper.

The command `spinegate init` writes runs the thin client
(`spinegate/hook_client.py`) rather than this command: same answers,
without importing this package.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..hosts import DEFAULT_HOST, HOST_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from ..hosts.events import HookReply
    from ..store import ReceiptStore

#: The exit code that tells the agent to block the call: the hooks' convention, which a usage error
#: of this command (exit 2 like every command's) meets as well, so a broken hook line blocks too.
EXIT_BLOCK = 2
#: Seconds an in-process hook waits for another one (same project) before it blocks its call
#: (less than the 30 s a host gives a hook: the block is said, not a timeout).
LOCK_WAIT = 20.0


def _emit(code: int, out: str | bytes, err: str | bytes) -> None:
    for data, to_err in ((out, False), (err, True)):
        if data:
            click.echo(data.decode("utf-8", "replace") if isinstance(data, bytes) else data, nl=False, err=to_err)
    sys.exit(code)


def _block(message: str) -> None:
    _emit(EXIT_BLOCK, "", f"spinegate blocked this call: {message}\n")


def _answer(host: str, payload: bytes, manifest: str, store: ReceiptStore, project: str | None,
            close: Callable[[], None]) -> HookReply:
    """One event answered by a service of its own on `store` (closed, with `close`, once answered)."""
    from ..hosts.service import HookService

    service = HookService(manifest, store, project=project)
    try:
        return service.answer(host, payload, os.getcwd())
    finally:
        service.close()
        close()


def _guarded(decide: Callable[[], HookReply], busy: type[BaseException], busy_message: str) -> None:
    """Print `decide()`'s answer; block the call on `busy` (with `busy_message`) or any other failure."""
    try:
        reply = decide()
    except busy:
        _block(busy_message)
        return
    except Exception as exc:  # noqa: BLE001 - any other exit code would let the agent run the tool
        _block(f"{type(exc).__name__}: {exc}")
        return
    _emit(reply.exit_code, reply.stdout, reply.stderr)


def _in_files(host: str, manifest: Path, receipts: Path, payload: bytes) -> None:
    """Gate against explicit files: one gate, a lock beside the log for the read-then-append step."""
    from filelock import FileLock, Timeout

    from ..hosts.service import project_of
    from ..store import open_store

    def decide() -> HookReply:
        with FileLock(f"{receipts}.hook.lock", timeout=LOCK_WAIT):
            store = open_store(receipts)
            return _answer(host, payload, str(manifest), store, project_of(str(manifest)), store.close)

    _guarded(decide, Timeout, f"another hook held {receipts}.hook.lock for {LOCK_WAIT:.0f} s")


def _in_process(host: str, project: str, payload: bytes) -> None:
    """Decide in this process, as the project's one writer for the time being (no helper is running)."""
    from ..helper.index import open_indexed
    from ..helper.layout import LockBusy, ProjectLayout, WriterLock

    layout = ProjectLayout.of(project)

    def decide() -> HookReply:
        layout.make_run_dir()
        with WriterLock(layout.lock, wait=LOCK_WAIT):
            store = open_indexed(layout.receipts, layout.index_dir)
            return _answer(host, payload, layout.manifest, store, layout.project, store.close_log)

    _guarded(decide, LockBusy, f"the spinegate helper of {layout.project} holds its lock but did not answer; "
                               "stop it (`spinegate serve --stop`) and try again")


@click.command("hook")
@click.option("--host", type=click.Choice(HOST_NAMES), default=DEFAULT_HOST, show_default=True,
              help="The coding agent whose hook payload and answer format to use.")
@click.option("--project", "project", default=None,
              help="The project set up by `spinegate init` (default: $SPINEGATE_PROJECT, else the nearest "
                   "directory at or above this one that holds .spinegate/).")
@click.option("--in-process", is_flag=True, help="Decide in this process; do not use or start the helper.")
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path), default=None,
              help="Gate against this sealed manifest directly (with --receipts; no helper).")
@click.option("--receipts", "receipts_path", type=click.Path(path_type=Path), default=None,
              help="The JSONL receipt log to use with --manifest.")
def command(host: str, project: str | None, in_process: bool, manifest_path: Path | None,
            receipts_path: Path | None) -> None:
    """Answer one coding-agent hook event read as JSON from standard input.

    Prints the host's answer (allow, deny with the reason and receipt, or
    ask); exits 2 to block a call that cannot be decided.
    """
    from .. import hook_client as client

    try:
        payload = sys.stdin.buffer.read()
    except OSError as exc:
        _block(f"cannot read the hook's input: {exc}")
        return
    if manifest_path is not None or receipts_path is not None:
        if manifest_path is None or receipts_path is None:
            _block("--manifest and --receipts go together")
            return
        _in_files(host, manifest_path, receipts_path, payload)
        return
    found = project or os.environ.get("SPINEGATE_PROJECT") or client.find_project(os.getcwd())
    if not found or not os.path.isdir(os.path.join(found, client.STATE_DIR)):
        _block("no spinegate project here (no .spinegate/manifest.json in this directory or above it); "
               "run `spinegate init` in the project, or pass --project")
        return
    found = os.path.realpath(found)
    if not in_process:
        reply = client.helper_round_trip(found, client.request(["hook", host, os.getcwd()], payload))
        if reply is not None:
            _emit(*reply)
            return
    _in_process(host, found, payload)
