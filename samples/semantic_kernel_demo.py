"""spinegate + Semantic Kernel: the model asks for one permitted and one forbidden function.

    python samples/semantic_kernel_demo.py            # no API key: a local server plays the model
    OPENAI_API_KEY=... python samples/semantic_kernel_demo.py   # the real OpenAI service
    python samples/semantic_kernel_demo.py --local    # force the local model even with a key

The kernel has a `Files` plugin with `Read` and `Delete` working on a scratch
directory. The manifest (samples/manifest.json) allows Files.Read and denies
Files.Delete. `SpineFilter(gate).attach(kernel)` governs every call: Read runs,
Delete is refused and the model is told why, with the receipt id. The demo
ends by verifying the receipt log. Exit status 0 when all of that held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior
from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion, OpenAIChatPromptExecutionSettings
from semantic_kernel.contents import ChatHistory
from semantic_kernel.functions import kernel_function

from openai import AsyncOpenAI
from semantic_kernel import Kernel
from spinegate import Gate, verify_path
from spinegate_semantic_kernel import SpineFilter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the loopback model that stands in for the service (not shipped)

from loopback_model import LoopbackModel, tool_then_answer  # noqa: E402

MANIFEST = Path(__file__).resolve().parent / "manifest.json"
PROMPT = ("Use the Files tools: read notes.txt, and delete notes.txt. Ask for both calls at once, "
          "then tell me what happened to each.")


class FilesPlugin:
    """Reads and deletes files in one scratch directory, and counts what actually ran."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ran: list[str] = []

    @kernel_function(name="Read", description="Read a text file and return its contents.")
    def read(self, path: Annotated[str, "file name inside the workspace"]) -> str:
        self.ran.append("Read")
        return (self.root / Path(path).name).read_text(encoding="utf-8")

    @kernel_function(name="Delete", description="Delete a file.")
    def delete(self, path: Annotated[str, "file name inside the workspace"]) -> str:
        self.ran.append("Delete")
        (self.root / Path(path).name).unlink()
        return f"deleted {path}"


async def run(use_openai: bool, workdir: Path) -> int:
    notes = workdir / "notes.txt"
    notes.write_text("buy milk\n", encoding="utf-8")
    log = workdir / "receipts.jsonl"
    plugin = FilesPlugin(workdir)
    kernel = Kernel()
    kernel.add_plugin(plugin, plugin_name="Files")

    with Gate.open(MANIFEST, receipts=log) as gate:
        SpineFilter(gate).attach(kernel)
        history = ChatHistory()
        history.add_user_message(PROMPT)
        settings = OpenAIChatPromptExecutionSettings(function_choice_behavior=FunctionChoiceBehavior.Auto())
        if use_openai:
            model_name = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
            print(f"model: OpenAI {model_name}")
            service = OpenAIChatCompletion(ai_model_id=model_name)
            answer = await service.get_chat_message_content(history, settings, kernel=kernel)
        else:
            script = tool_then_answer([("call_read", "Files-Read", {"path": "notes.txt"}),
                                     ("call_delete", "Files-Delete", {"path": "notes.txt"})])
            with LoopbackModel(chat=script) as local:
                print(f"model: local stand-in at {local.base_url} (set OPENAI_API_KEY for the real service)")
                client = AsyncOpenAI(api_key="local", base_url=local.base_url, max_retries=0)
                service = OpenAIChatCompletion(ai_model_id="local-model", async_client=client)
                answer = await service.get_chat_message_content(history, settings, kernel=kernel)

    print(f"\nassistant: {answer}\n")
    print("receipts:")
    for line in log.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        print(f"  #{r['sequence_number']} {r['action']['operation']:<8} {r['action']['tool']:<13} "
              f"{r['result']['status']:<8} {r['result']['blocked_by'] or '':<30} proposal {r['proposal_id']}")

    report = verify_path(log)
    print(f"\nverify {log}: {'OK' if report.ok else 'FAILED'} "
          f"({report.receipts} receipts, {report.denials} denied, {report.outcomes} outcomes)")
    print(f"functions that ran: {plugin.ran or 'none'}; notes.txt still exists: {notes.exists()}")

    ok = report.ok and "Delete" not in plugin.ran and notes.exists()
    if not use_openai:  # the local model always asks for both: check the permitted one ran
        ok = ok and plugin.ran == ["Read"] and report.denials == 1
    elif "Read" not in plugin.ran or report.denials == 0:
        print("note: the model did not ask for both functions this time; nothing forbidden ran")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="use the local model even if OPENAI_API_KEY is set")
    parser.add_argument("--workdir", type=Path, help="keep the scratch files and receipts here")
    args = parser.parse_args()
    use_openai = bool(os.environ.get("OPENAI_API_KEY")) and not args.local
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return asyncio.run(run(use_openai, args.workdir))
    with tempfile.TemporaryDirectory(prefix="spinegate-sk-demo-") as tmp:
        return asyncio.run(run(use_openai, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
