"""`spinegate posture set LOG --session ID POSTURE`: change a session's posture, on the record.

A session tightens its posture by itself as refusals add up (ELEVATED,
then LOCKDOWN) and never loosens by itself. A person loosens it: a new
prompt in a coding agent does, and so does this command, for any gate's
session. Setting the manifest's own posture restores it and resets the
session's risk to 0; any other posture is set as given. Either way a
`posture` receipt records from what to what and by whom.

When the project's resident helper writes LOG, the request goes through it
(it is the log's only writer while it runs); otherwise the session is
continued here, from the log.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..effects import Posture
from ._common import EXIT_NO, InputPath, fail


@click.group("posture")
def command() -> None:
    """Change a session's posture (a `posture` receipt says so)."""


@command.command("set")
@click.argument("log", type=InputPath("file"))
@click.option("--session", "session_id", required=True, help="The session whose posture to change.")
@click.argument("posture", type=click.Choice([p.value for p in Posture], case_sensitive=False))
@click.option("--manifest", "manifest_path", type=InputPath("file"), default=None,
              help="The sealed manifest the session runs on (default: manifest.json beside LOG).")
@click.option("--by", default=None, help="Who changes it (written in the receipt; default: your user name).")
def set_posture(log: Path, session_id: str, posture: str, manifest_path: Path | None, by: str | None) -> None:
    """Set SESSION's posture in LOG to POSTURE (NORMAL, ELEVATED or LOCKDOWN)."""
    from ..errors import SpinegateError
    from ..helper.layout import LockBusy, ProjectLayout, WriterLock
    from ..helper.server import control
    from ..hosts.service import HookService, project_of

    target = Posture(posture.upper())
    who = by or f"{os.environ.get('USER') or 'operator'} (spinegate posture set)"
    manifest = manifest_path or log.parent / "manifest.json"
    if not manifest.is_file():
        fail(f"no manifest beside {log}", "pass the session's manifest with --manifest")
    project = project_of(str(manifest))
    layout = ProjectLayout.of(project) if project is not None else None
    served = layout is not None and os.path.realpath(layout.receipts) == os.path.realpath(log)
    if served and layout is not None:
        answer = control(layout, "posture", session_id, target.value, who)
        if answer is not None:
            code, out, err = answer
            if code != 0:
                fail(err.strip() or "the helper refused the change", "check the session id", code=EXIT_NO)
            click.echo(out.rstrip("\n"))
            return
    try:
        lock = WriterLock(layout.lock, wait=10.0) if served and layout is not None and os.path.isdir(layout.run_dir) \
            else None
    except LockBusy:
        fail("the project's helper holds the log but does not answer", "stop it (`spinegate serve --stop`) and retry")
    try:
        if served and layout is not None and os.path.isdir(layout.index_dir):
            from ..helper.index import open_indexed

            store = open_indexed(str(log), layout.index_dir)
        else:
            from ..store import open_store

            store = open_store(log)  # type: ignore[assignment]
        service = HookService(str(manifest), store)
        try:
            receipt = service.set_posture(session_id, target, by=who)
        except ValueError as exc:
            fail(f"{log}: {exc}", "check the session id (spinegate show LOG)", code=EXIT_NO)
        finally:
            service.close()
            close = getattr(store, "close_log", store.close)
            close()
    except SpinegateError as exc:
        fail(str(exc), "check the log and the manifest")
    finally:
        if lock is not None:
            lock.release()
    click.echo(f"session {session_id}: {receipt['action']['description']} (receipt {receipt.receipt_id})")
