"""Shared fixtures for the Semantic Kernel adapter tests: a real Kernel, real plugins, a sealed manifest."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import pytest
from click.testing import CliRunner
from semantic_kernel.functions import kernel_function

from semantic_kernel import Kernel
from spinegate import Gate, seal_manifest, verify_path
from spinegate.cli import main as cli_main
from spinegate.jsonl_store import flush_deferred

# Semantic Kernel's OpenAI connector defines a pydantic model in a way pydantic 2.11+
# deprecates, and warns once at import. That warning is Semantic Kernel's, not ours:
# import the connector here with just that warning silenced, so `pytest -W error`
# still turns every other warning (ours included) into an error.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"The `__get_pydantic_core_schema__` method of the `BaseModel`",
                            category=DeprecationWarning)
    import semantic_kernel.connectors.ai.open_ai  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
RECEIPT_SCHEMA = REPO / "fixtures" / "interop" / "receipt.schema.json"

MANIFEST = {
    "version": "1.0.0",
    "posture": "NORMAL",
    "functions": [
        {"plugin": "Files", "function": "read", "effect_class": "SHELL_SAFE", "allowed": True,
         "reason": None, "max_calls_per_session": None},
        {"plugin": "Files", "function": "delete", "effect_class": "SHELL_DANGEROUS", "allowed": False,
         "reason": "DESTRUCTIVE_OPERATION_BLOCKED", "max_calls_per_session": None},
        {"plugin": "Files", "function": "explode", "effect_class": "SHELL_SAFE", "allowed": True,
         "reason": None, "max_calls_per_session": None},
        {"plugin": "Files", "function": "stream_lines", "effect_class": "SHELL_SAFE", "allowed": True,
         "reason": None, "max_calls_per_session": None},
        {"plugin": "Files", "function": "stream_wipe", "effect_class": "SHELL_DANGEROUS", "allowed": False,
         "reason": "DESTRUCTIVE_OPERATION_BLOCKED", "max_calls_per_session": None},
        {"plugin": "Files", "function": "tidy", "effect_class": "SHELL_SAFE", "allowed": True,
         "reason": None, "max_calls_per_session": None},
        {"plugin": "Writer", "function": "summarize", "effect_class": "NETWORK_ATTEMPT", "allowed": True,
         "reason": None, "max_calls_per_session": None},
        {"plugin": "Files", "function": "write", "effect_class": "SCOPED_WRITE", "allowed": True,
         "reason": None, "max_calls_per_session": None, "path_arguments": ["path"]},
        {"plugin": "Files", "function": "purge", "effect_class": "SHELL_SAFE", "allowed": True,
         "reason": None, "max_calls_per_session": None},
        {"plugin": "Files", "function": "stream_broken", "effect_class": "SHELL_SAFE", "allowed": True,
         "reason": None, "max_calls_per_session": None},
    ],
}


class FilesPlugin:
    """A real SK plugin whose functions count how often their bodies ran."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.kernel: Kernel | None = None  # set by the kernel fixture, for functions that call others

    def _ran(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    @kernel_function(name="read", description="Read a file and return its text.")
    def read(self, path: Annotated[str, "the file to read"]) -> str:
        self._ran("read")
        return f"contents of {path}"

    @kernel_function(name="delete", description="Delete a file.")
    def delete(self, path: Annotated[str, "the file to delete"]) -> str:
        self._ran("delete")
        return f"deleted {path}"

    @kernel_function(name="undeclared", description="A function the manifest does not list.")
    def undeclared(self, path: Annotated[str, "a path"]) -> str:
        self._ran("undeclared")
        return "should not run"

    @kernel_function(name="explode", description="Always fails.")
    async def explode(self, path: Annotated[str, "a path"]) -> str:
        self._ran("explode")
        raise OSError(f"disk on fire at {path}")

    @kernel_function(name="tidy", description="Read a file, then try to delete it through the kernel.")
    async def tidy(self, path: Annotated[str, "the file"]) -> str:
        self._ran("tidy")
        assert self.kernel is not None
        from semantic_kernel.exceptions import KernelInvokeException

        from spinegate_semantic_kernel import unwrap_veto

        try:
            await self.kernel.invoke(plugin_name="Files", function_name="delete", path=path)
        except KernelInvokeException as exc:
            veto = unwrap_veto(exc)
            return f"tidy kept {path}: {veto.reason if veto else exc}"
        return f"tidy deleted {path}"

    @kernel_function(name="write", description="Write text to a file (the manifest checks the path).")
    def write(self, path: Annotated[str, "the file to write"], text: Annotated[str, "the text"]) -> str:
        self._ran("write")
        return f"wrote {len(text)} characters to {path}"

    @kernel_function(name="purge", description="Try to delete a file through the kernel; fail if refused.")
    async def purge(self, path: Annotated[str, "the file"]) -> str:
        self._ran("purge")
        assert self.kernel is not None
        from semantic_kernel.exceptions import KernelInvokeException

        try:
            await self.kernel.invoke(plugin_name="Files", function_name="delete", path=path)
        except KernelInvokeException:
            raise RuntimeError(f"could not purge {path}")  # noqa: B904 - raised while handling, on purpose
        return f"purged {path}"

    @kernel_function(name="stream_lines", description="Stream the lines of a file.")
    async def stream_lines(self, path: Annotated[str, "the file"]) -> AsyncIterator[str]:
        self._ran("stream_lines")
        for i in range(3):
            yield f"line{i} "

    @kernel_function(name="stream_broken", description="Stream one line, then fail.")
    async def stream_broken(self, path: Annotated[str, "the file"]) -> AsyncIterator[str]:
        self._ran("stream_broken")
        yield "first "
        raise OSError(f"{path} vanished mid-stream")

    @kernel_function(name="stream_wipe", description="Stream a wipe of a disk.")
    async def stream_wipe(self, path: Annotated[str, "the disk"]) -> AsyncIterator[str]:
        self._ran("stream_wipe")
        yield "wiping"


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    seal_manifest(path)
    return path


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "receipts.jsonl"


@pytest.fixture
def gate(manifest_path: Path, log_path: Path) -> Any:
    g = Gate.open(manifest_path, receipts=log_path, git={"branch": "test", "commit_before": None,
                                                          "commit_after": None})
    yield g
    g.close()


@pytest.fixture
def plugin() -> FilesPlugin:
    return FilesPlugin()


@pytest.fixture
def kernel(plugin: FilesPlugin) -> Kernel:
    k = Kernel()
    k.add_plugin(plugin, plugin_name="Files")
    plugin.kernel = k
    return k


def receipts(log: Path) -> list[dict[str, Any]]:
    flush_deferred(log)  # outcomes the gate has sealed but not yet appended
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_log_verifies(log: Path, *, subprocess_cli: bool = False) -> None:
    """The log verifies through the library, the `spinegate verify` CLI, and the receipt schema.

    The CLI runs in-process through click's runner (the same command code), or
    as a real `python -m spinegate.cli` subprocess where `subprocess_cli` asks.
    """
    flush_deferred(log)
    report = verify_path(log)
    assert report.ok, report.first_failure
    if subprocess_cli:
        done = subprocess.run([sys.executable, "-m", "spinegate.cli", "verify", str(log)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        result = CliRunner().invoke(cli_main, ["verify", str(log)])
        assert result.exit_code == 0, result.output
    schema = json.loads(RECEIPT_SCHEMA.read_text(encoding="utf-8"))
    for r in receipts(log):
        jsonschema.validate(r, schema)
