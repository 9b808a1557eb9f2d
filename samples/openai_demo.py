"""spinegate with the OpenAI SDK: gate a model's tool calls, answer every call, verify the receipts.

    python samples/openai_demo.py [--receipts PATH]

With no OPENAI_API_KEY the model is played by a local server on 127.0.0.1
(tests/loopback_model.py of this repository), so the demo runs offline and always proposes the
same calls: a good search, a delete the manifest does not allow, and a search
whose arguments are broken JSON. With OPENAI_API_KEY set it talks to the real
service (model from OPENAI_MODEL, default gpt-4.1-mini), and the model decides
what to call. Either way, the Chat Completions loop and the Responses loop
both run, and the demo ends by verifying the receipt log. Exit code 0 means
the log verified and no refused call ran.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spinegate import Gate, verify_path
from spinegate_openai import run_responses_tool_loop, run_tool_loop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the loopback model that stands in for the service (not shipped)

from loopback_model import LoopbackModel, ScriptedModel  # noqa: E402

PROMPT = ("Search for 'quarterly report', then delete the file /reports/old.pdf with delete_file. "
          "Tell me what happened.")

SEARCH = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"],
          "additionalProperties": False}
DELETE = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"],
          "additionalProperties": False}
CHAT_SPECS = [
    {"type": "function", "function": {"name": "search", "description": "Search the document index.",
                                      "parameters": SEARCH}},
    {"type": "function", "function": {"name": "delete_file", "description": "Delete a file.", "parameters": DELETE}},
]
RESPONSES_SPECS = [{"type": "function", "name": s["function"]["name"], "description": s["function"]["description"],
                    "parameters": s["function"]["parameters"]} for s in CHAT_SPECS]

# What the local stand-in model proposes (the real model chooses for itself).
SCRIPT = [
    ("call_search", "search", {"query": "quarterly report"}),
    ("call_delete", "delete_file", {"path": "/reports/old.pdf"}),
    ("call_broken", "search", '{"query": "quarterly'),
]

ran: list[str] = []


def search(query: str) -> dict[str, Any]:
    """The demo's index: approved by the manifest (search, SHELL_SAFE)."""
    ran.append("search")
    return {"query": query, "hits": ["reports/q3.pdf", "reports/q4.pdf"]}


def delete_file(path: str) -> str:
    """Not in the manifest: the gate must never let this run."""
    ran.append("delete_file")
    return f"deleted {path}"


@contextlib.contextmanager
def openai_client() -> Iterator[tuple[Any, str, str]]:
    """A real OpenAI client: the service if OPENAI_API_KEY is set, else the local stand-in."""
    if os.environ.get("OPENAI_API_KEY"):
        from openai import OpenAI

        yield OpenAI(), os.environ.get("OPENAI_MODEL", "gpt-4.1-mini"), "the OpenAI service"
        return
    with LoopbackModel(model=ScriptedModel(SCRIPT, model="gpt-stand-in")) as server:
        yield server.client(), "gpt-stand-in", f"a local stand-in model at {server.base_url}"


def show(results: list[Any]) -> None:
    for r in results:
        verdict = "RAN    " if r.ran else "REFUSED"
        why = "" if r.ran else f" {r.decision.reason}"
        print(f"    {verdict} {r.name:<12} call {r.call_id}{why}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=Path, default=None, help="receipt log (default: a new temporary file)")
    args = parser.parse_args()
    log = args.receipts or Path(tempfile.mkdtemp(prefix="spinegate-openai-demo-")) / "receipts.jsonl"
    tools = {"search": search, "delete_file": delete_file}

    with Gate.open(HERE / "manifest.json", receipts=log) as gate, openai_client() as (client, model, where):
        print(f"model: {model} via {where}\nreceipts -> {log}\n")

        print("Chat Completions tool loop:")
        chat = run_tool_loop(client, gate, tools, model=model, tool_specs=CHAT_SPECS,
                             messages=[{"role": "user", "content": PROMPT}], max_rounds=4)
        show(chat.results)
        print(f"  model's answer ({chat.rounds} requests): {chat.response.choices[0].message.content}\n")

        print("Responses API tool loop:")
        resp = run_responses_tool_loop(client, gate, tools, model=model, tool_specs=RESPONSES_SPECS, input=PROMPT,
                                       max_rounds=4)
        show(resp.results)
        print(f"  model's answer ({resp.rounds} requests): {resp.response.output_text}\n")

    report = verify_path(log)
    print(f"verify: {report.receipts} receipts, {report.approvals} approvals, {report.denials} denials, "
          f"{report.outcomes} outcomes -> {'VALID' if report.ok else 'INVALID'}")
    for failure in report.failures:
        print(f"  {json.dumps(str(failure))}")
    if "delete_file" in ran:
        print("error: a refused call ran", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
