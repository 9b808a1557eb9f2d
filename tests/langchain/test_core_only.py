"""spinegate-langchain's governed tools need langchain-core alone; the middleware is the [agents] extra.

Run in a fresh interpreter where `langchain` and `langgraph` cannot be
imported (as after ``pip install spinegate-langchain`` without the extra).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import asyncio, importlib.abc, json, sys

    class Absent(importlib.abc.MetaPathFinder):
        """`langchain` and `langgraph` are not installed here (langchain_core is)."""
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("langchain", "langgraph"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Absent())

    from langchain_core.tools import tool
    from spinegate import Gate, MemoryReceiptStore, seal_manifest
    import spinegate_langchain
    from spinegate_langchain import govern_tool

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    path = sys.argv[1]
    with open(path, "w") as fh:
        json.dump({"version": "1.0.0", "posture": "NORMAL", "functions": [
            {"plugin": None, "function": "add", "effect_class": "SHELL_SAFE", "allowed": True,
             "reason": None, "max_calls_per_session": None}]}, fh)
    seal_manifest(path)
    store = MemoryReceiptStore()
    with Gate.open(path, receipts=store, git={"branch": "", "commit_before": None, "commit_after": None}) as gate:
        governed = govern_tool(add, gate)
        assert governed.invoke({"a": 1, "b": 2}) == 3
        assert asyncio.run(governed.ainvoke({"a": 2, "b": 2})) == 4
    assert [r["action"]["operation"] for r in store.receipts()] == ["decision", "outcome"] * 2
    assert not any(m.split(".")[0] in ("langchain", "langgraph") for m in sys.modules)
    try:
        spinegate_langchain.SpineMiddleware
    except ModuleNotFoundError as exc:
        print("middleware needs:", exc.name)
    print("ok")
''')


def test_governed_tools_work_with_langchain_core_alone(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "manifest.json")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    needs, ok = done.stdout.splitlines()
    assert ok == "ok" and needs.startswith("middleware needs: lang")  # langchain or langgraph: the extra
