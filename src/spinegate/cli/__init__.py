"""The `spinegate` command line: one module per command.

A command is a module in this package that defines ``command`` (a click
command or group); its name is the module's with ``_`` spelt ``-``
(``classify_command.py`` is ``spinegate classify-command``). Adding a command
is adding a file: nothing here lists them. A module is imported only when
its command runs (or help lists them all), so a hook that runs
``spinegate hook`` on every tool call pays for that command alone.

Modules whose names start with ``_`` are helpers, not commands. Exit codes
and the error style are in `spinegate.cli._common`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from ._common import EXIT_USAGE, command_name, error_line


class _NeverRaised(click.ClickException):
    """Stands in for an exception class this click version does not have."""


#: click's "a group was run without a subcommand" error (click 8.2+), whose message is the group's help.
_NoArgsIsHelp: type[click.ClickException] = getattr(click.exceptions, "NoArgsIsHelpError", _NeverRaised)


class _CommandPackage(click.Group):
    """A group whose commands are the modules of this package, imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(info.name.replace("_", "-") for info in pkgutil.iter_modules(__path__)
                      if not info.name.startswith("_"))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.list_commands(ctx):  # never import a name the user typed unchecked
            return None
        module = importlib.import_module(f"{__name__}.{cmd_name.replace('-', '_')}")
        command = getattr(module, "command", None)
        return command if isinstance(command, click.Command) else None

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """click's `main`, with click's own usage errors printed in the commands' error style."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _NoArgsIsHelp as exc:  # a group run without its subcommand: its help, exit 2
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            line = getattr(exc, "line", None)  # CommandError carries its line already
            if line is None:
                ctx = getattr(exc, "ctx", None)
                line = error_line(exc.format_message(), f"`{command_name(ctx)} --help` shows the usage", ctx=ctx)
            click.echo(line, err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_CommandPackage, name="spinegate", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spinegate")
def main() -> None:
    """spinegate: decide every agent tool call before it runs, and prove it.

    Exit codes: 0 success (valid, approve), 1 a negative answer (invalid,
    deny), 2 usage error or unreadable input, 3 escalate.
    """


__all__ = ["main", "EXIT_USAGE"]
