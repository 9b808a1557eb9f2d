"""The command line as a whole: one module per command, one error style, exit codes, no hang on a FIFO."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import spinegate.cli as cli_package
from spinegate.cli import main

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "samples" / "manifest.json"


def test_every_module_of_the_package_is_a_command_and_every_command_a_module() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(cli_package.__path__) if not m.name.startswith("_"))
    ctx = main.make_context("spinegate", ["--help"], resilient_parsing=True)
    names = main.list_commands(ctx)
    assert names == sorted(m.replace("_", "-") for m in modules)
    for name in names:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
    assert main.get_command(ctx, "_common") is None and main.get_command(ctx, "no-such-command") is None


def test_a_command_module_is_imported_only_when_its_command_runs() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\nfrom spinegate.cli import main\n"
            "r = CliRunner().invoke(main, ['keygen', '--help'])\nassert r.exit_code == 0, r.output\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('spinegate.cli.'))\nprint(loaded)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['spinegate.cli._common', 'spinegate.cli.keygen']"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def _fifo_commands(fifo: Path) -> list[list[str]]:
    p = str(fifo)
    return [
        ["verify", p], ["verify", str(MANIFEST), "--public-key", p], ["show", p], ["recover", p],
        ["manifest", "check", p], ["manifest", "seal", p], ["hash-manifest", p],
        ["check", p, "Read"], ["classify-command", "ls", "--manifest", p],
    ]


def test_every_command_refuses_a_fifo_at_once_with_exit_2(fifo: Path) -> None:
    """Run in a real process with a timeout: a command that opened the FIFO would hang there."""
    for args in _fifo_commands(fifo):
        done = subprocess.run([sys.executable, "-m", "spinegate.cli", *args], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)
        assert done.returncode == 2, (args, done.stderr)
        command = " ".join(a for a in args[:2] if not a.startswith(("/", "-")) and a != "ls")
        assert done.stderr.startswith(f"spinegate {command}: {fifo}: not a regular file"), (args, done.stderr)
        assert "(fix: " in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args, code, start", [
    (["no-such-command"], 2, "spinegate: No such command"),
    (["verify", "--bogus"], 2, "spinegate verify: No such option"),
    (["manifest", "check"], 2, "spinegate manifest check: Missing argument"),
    (["show", "/no/such/log.jsonl"], 2, "spinegate show: /no/such/log.jsonl: no such file or directory"),
    (["check", str(MANIFEST), "Read", "--plugin", "Files", "--args", "[1]"], 2,
     "spinegate check: --args must be a JSON object"),
])
def test_errors_share_one_style_on_standard_error(args: list[str], code: int, start: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code
    assert result.stderr.startswith(start) and "(fix: " in result.stderr, result.stderr
    assert result.stdout == ""


def test_check_exit_codes(tmp_path: Path) -> None:
    sample = ROOT / "samples" / "manifest_v1_1.json"
    approve = CliRunner().invoke(main, ["check", str(sample), "Read", "--plugin", "Files", "--args", '{"path": "a"}'])
    deny = CliRunner().invoke(main, ["check", str(sample), "Nope"])
    escalate = CliRunner().invoke(main, ["check", str(sample), "Run", "--plugin", "Shell",
                                         "--args", '{"command": "git push"}'])
    assert (approve.exit_code, deny.exit_code, escalate.exit_code) == (0, 1, 3)
    assert "decision: escalate" in escalate.stdout


def test_a_directory_where_a_file_is_read_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["recover", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith(f"spinegate recover: {tmp_path}: is a directory")


def test_a_directory_without_receipt_files_is_refused_by_show(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["show", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith(f"spinegate show: {tmp_path}: no receipt files")
