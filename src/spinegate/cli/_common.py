"""What every `spinegate` command shares: exit codes, the error style, input paths that never hang.

Exit codes mean one thing across commands:

    0  success: valid, approve
    1  a negative answer: invalid, deny
    2  usage error or unreadable input (click's own usage errors exit 2 too)
    3  escalate: a person must decide

Every error goes to standard error as one line,
``spinegate <command>: <what went wrong> (fix: <how to fix it>)``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Literal, NoReturn

import click

EXIT_OK = 0
EXIT_NO = 1
EXIT_USAGE = 2
EXIT_ESCALATE = 3


def command_name(ctx: click.Context | None = None) -> str:
    """`spinegate <command> [<subcommand>]` for the command being run, whatever the program was called."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["spinegate", *reversed(names)])


def error_line(what: str, fix: str | None = None, *, ctx: click.Context | None = None) -> str:
    """One error line in the commands' common style."""
    line = f"{command_name(ctx)}: {what}"
    if fix and "(fix: " not in what:
        line += f" (fix: {fix})"
    return line


class CommandError(click.ClickException):
    """A command cannot do what was asked: printed in the common style; exits 2 (usage or unreadable input)."""

    exit_code = EXIT_USAGE

    def __init__(self, what: str, fix: str | None = None) -> None:
        super().__init__(what)
        self.fix = fix
        self.line = error_line(what, fix)  # now, while the failing command's context is current

    def show(self, file: Any = None) -> None:
        click.echo(self.line, err=True)


class NegativeAnswer(CommandError):
    """The command's answer is no (an invalid manifest, say), told as an error: exits 1."""

    exit_code = EXIT_NO


def fail(what: str, fix: str | None = None, *, code: int = EXIT_USAGE) -> NoReturn:
    """Stop the command: print `what` (and `fix`) in the common style and exit with `code` (2 or 1)."""
    if code == EXIT_NO:
        raise NegativeAnswer(what, fix)
    if code != EXIT_USAGE:
        raise ValueError(f"an error exits 1 or 2, not {code}")
    raise CommandError(what, fix)


PathKind = Literal["file", "directory", "any"]


def check_input_path(path: Path, *, kind: PathKind = "file", must_exist: bool = True) -> Path:
    """`path` if it is something a command may read; else exit 2 at once, naming it.

    A FIFO or a device is refused before anything opens it, so no command
    hangs on a pipe without a writer or reads a device without end. `stat`
    never blocks on either.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not must_exist:
            return path
        fail(f"{path}: no such file or directory", "check the path")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}", "check the path and its permissions")
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if kind == "directory":
            fail(f"{path}: is a file, not a directory", "pass a directory")
        return path
    if stat.S_ISDIR(mode):
        if kind == "file":
            fail(f"{path}: is a directory, not a file", "pass a regular file")
        return path
    fail(f"{path}: not a regular file or directory (a FIFO, socket or device), so it is not read",
         "pass a regular file")


class InputPath(click.ParamType):  # type: ignore[type-arg]  # generic in newer click only
    """A path a command reads: checked with `check_input_path` while the command line is parsed."""

    name = "path"

    def __init__(self, kind: PathKind = "file", *, must_exist: bool = True) -> None:
        self.kind: PathKind = kind
        self.must_exist = must_exist

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        return check_input_path(Path(value), kind=self.kind, must_exist=self.must_exist)
