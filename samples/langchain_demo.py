"""spinegate + LangChain: an agent asks for one permitted and one forbidden tool.

    python samples/langchain_demo.py            # no API key: LangChain's fake chat model plays the model
    OPENAI_API_KEY=... python samples/langchain_demo.py   # a real model (needs langchain-openai)
    python samples/langchain_demo.py --local    # force the fake model even with a key

The agent (`langchain.agents.create_agent`) has two tools working on a scratch
directory: `read_note` and `delete_note`. The manifest
(samples/langchain_manifest.json) allows read_note and denies delete_note.
`SpineMiddleware(gate)` governs every tool call: read_note runs, delete_note is
refused and the model gets a ToolMessage saying why, with the receipt id. The
demo ends by verifying the receipt log. Exit status 0 when all of that held.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, tool

from spinegate import Gate, verify_path
from spinegate_langchain import SpineMiddleware

MANIFEST = Path(__file__).resolve().parent / "langchain_manifest.json"
PROMPT = ("Read the note called notes.txt with read_note, and delete it with delete_note. "
          "Ask for both calls at once, then tell me what happened to each.")


class ScriptedModel(GenericFakeChatModel):
    """LangChain's fake chat model; `bind_tools` returns itself (the script already names the tools)."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:
        return self


def scripted_model() -> ScriptedModel:
    """One turn asking for both tools in parallel, then a closing answer."""
    return ScriptedModel(messages=iter([
        AIMessage(content="", response_metadata={"model_name": "scripted-fake"}, tool_calls=[
            {"name": "read_note", "args": {"name": "notes.txt"}, "id": "call_read", "type": "tool_call"},
            {"name": "delete_note", "args": {"name": "notes.txt"}, "id": "call_delete", "type": "tool_call"},
        ]),
        AIMessage(content="I read the note; deleting it was refused by policy."),
    ]))


def real_model() -> Any | None:
    """ChatOpenAI when langchain-openai is installed, else None (with a message)."""
    try:
        from langchain_openai import ChatOpenAI  # type: ignore[import-not-found]
    except ImportError:
        print("OPENAI_API_KEY is set but langchain-openai is not installed "
              "(pip install langchain-openai); skipping the real-model run.")
        return None
    return ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"), temperature=0)


def make_tools(root: Path, ran: list[str]) -> list[BaseTool]:
    @tool
    def read_note(name: str) -> str:
        """Read a note from the workspace and return its text."""
        ran.append("read_note")
        return (root / Path(name).name).read_text(encoding="utf-8")

    @tool
    def delete_note(name: str) -> str:
        """Delete a note from the workspace."""
        ran.append("delete_note")
        (root / Path(name).name).unlink()
        return f"deleted {name}"

    return [read_note, delete_note]


def run(model: Any, label: str, workdir: Path) -> bool:
    """Run the agent once against a fresh log; True when the gate did its job and the log verifies."""
    workdir.mkdir(parents=True, exist_ok=True)
    note = workdir / "notes.txt"
    note.write_text("Buy milk. Ship spinegate.\n", encoding="utf-8")
    log = workdir / "receipts.jsonl"
    ran: list[str] = []
    print(f"== {label} ==")
    with Gate.open(MANIFEST, receipts=log) as gate:
        agent = create_agent(model, make_tools(workdir, ran), middleware=[SpineMiddleware(gate)])
        out = agent.invoke({"messages": [{"role": "user", "content": PROMPT}]})
    for message in out["messages"]:
        if isinstance(message, ToolMessage):
            print(f"  tool {message.name} [{message.status}]: {str(message.content).strip()}")
    print(f"  model: {out['messages'][-1].content}")
    report = verify_path(log)
    print(f"  {report.summary()}")
    ok = report.ok and note.exists() and "delete_note" not in ran
    if label == "scripted model":  # the script asks for both tools, so both outcomes are certain
        ok = ok and ran == ["read_note"] and report.denials == 1 and report.approvals == 1
    print(f"  the note is {'still there' if note.exists() else 'GONE'}; tool bodies that ran: {ran}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="use the fake model even if OPENAI_API_KEY is set")
    parser.add_argument("--workdir", type=Path, default=None, help="where to put the scratch files and the log")
    args = parser.parse_args(argv)
    base = args.workdir or Path(tempfile.mkdtemp(prefix="spinegate-langchain-demo-"))
    ok = run(scripted_model(), "scripted model", base / "scripted")
    if os.environ.get("OPENAI_API_KEY") and not args.local:
        model = real_model()
        if model is not None:
            ok = run(model, "real model", base / "real") and ok
    print("demo:", "OK" if ok else "FAILED", f"(files in {base})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
