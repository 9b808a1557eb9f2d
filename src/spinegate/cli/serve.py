"""`spinegate serve [--project DIR] [--reload | --stop | --status]`: a project's resident hook helper.

Run without options it serves the project's hooks until idle (the first
hook call starts it this way, so it rarely needs starting by hand).
`--reload` tells the running helper to reload a re-sealed manifest (as
SIGHUP does): exit 0 with a `reload` receipt per open session, 1 when the
manifest does not verify (every call stays refused), 2 when no helper runs.
`--stop` stops it; `--status` says whether one runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import click

from ._common import EXIT_NO, EXIT_USAGE, fail

#: Seconds `--stop` waits for the helper to finish what it is doing and exit.
STOP_WAIT = 15.0


def _project(project: str | None) -> str:
    from .. import hook_client as client

    found = project or os.environ.get("SPINEGATE_PROJECT") or client.find_project(os.getcwd())
    if not found or not os.path.isfile(os.path.join(found, client.STATE_DIR, client.MANIFEST_NAME)):
        fail(f"no spinegate project at {found or os.getcwd()} (no .spinegate/manifest.json)",
             "run `spinegate init claude-code` there, or pass --project")
    return os.path.realpath(found)


@click.command("serve")
@click.option("--project", default=None, help="The project (default: the nearest one at or above this directory).")
@click.option("--reload", "reload_", is_flag=True, help="Reload the running helper's manifest (like SIGHUP).")
@click.option("--stop", is_flag=True, help="Stop the running helper.")
@click.option("--status", is_flag=True, help="Say whether a helper serves the project (exit 0 yes, 1 no).")
@click.option("--idle-timeout", default=None, type=click.FloatRange(min=0.1), envvar="SPINEGATE_HELPER_IDLE_TIMEOUT",
              help="Seconds without a request before the helper exits (default 900; "
                   "also $SPINEGATE_HELPER_IDLE_TIMEOUT).")
@click.option("--by", default="spinegate serve --reload", show_default=True,
              help="Who asks for the reload (written in the reload receipt).")
def command(project: str | None, reload_: bool, stop: bool, status: bool, idle_timeout: float | None,
            by: str) -> None:
    """Serve a project's coding-agent hooks from one resident process (or reload or stop it)."""
    from ..helper.layout import LockBusy, ProjectLayout, WriterLock
    from ..helper.server import DEFAULT_IDLE_TIMEOUT, Helper, control

    layout = ProjectLayout.of(_project(project))
    if sum((reload_, stop, status)) > 1:
        fail("--reload, --stop and --status are alternatives", "give one of them")
    if reload_ or stop or status:
        fields = ("reload", by) if reload_ else ("stop",) if stop else ("ping",)
        answer = control(layout, *fields)
        if answer is None:
            if status:
                click.echo(f"no spinegate helper serves {layout.project}")
                sys.exit(EXIT_NO)
            fail(f"no spinegate helper serves {layout.project}",
                 "nothing to do: the next hook call starts one with the manifest as it is now")
        code, out, err = answer
        if stop and code == 0:  # said "stopping": return once it has (its gates closed, its lock released)
            with contextlib.suppress(LockBusy):
                WriterLock(layout.lock, wait=STOP_WAIT).release()
        if out:
            click.echo(out.rstrip("\n"))
        if err:
            click.echo(f"spinegate serve: {err.rstrip()}", err=True)
        sys.exit(code if code in (0, EXIT_NO) else EXIT_USAGE)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s spinegate helper %(process)d: %(message)s")
    helper = Helper(layout, idle_timeout=idle_timeout or DEFAULT_IDLE_TIMEOUT)
    if not helper.start():
        click.echo(f"a spinegate helper already serves {layout.project}", err=True)
        return
    helper.serve()
