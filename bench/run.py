"""spinegate benchmark: one command, every figure next to its target, baselines in the same run.

    python bench/run.py            # full run (1,000,000-receipt verify log)
    python bench/run.py --quick    # about two minutes on a 2-core machine
    python bench/run.py --json results.json [--only core,sk,langchain,openai,mcp,hook,agt,verify,durable,postgres,otel]

Figures: gate `check` with a receipt written to a real JSONL file, flushed
(p50/p99, receipts/s) and with fsync, the policy decision alone,
governed/ungoverned ratios for each framework adapter, a coding-agent
hook's round trip (process start to answer) against a bare interpreter
start, the Agent Governance Toolkit's governed call against spinegate's in
both its configurations (its audit record committed before the call, like
for like; and its default, batched, nothing on disk first), `verify`
throughput and peak memory on a generated log, fsync durability with
1/8/32 concurrent writers with and without group commit, the PostgreSQL
ledger with 32 sessions at once (a throwaway local server with default
settings, as the tests start it), and what the OpenTelemetry API's no-op
span adds to a check. Latencies are per-call medians (p50) of interleaved
rounds, so load from other processes hits governed and ungoverned runs
alike. The first line says which receipt path runs (native, or pure-Python
with SPINEGATE_PURE_PYTHON=1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _util import (  # noqa: E402
    GIT,
    busy_wait,
    hammer,
    percentile,
    time_async_interleaved,
    time_calls,
    time_interleaved,
    write_manifest,
)

from spinegate import Gate, JsonlReceiptStore, MemoryReceiptStore, ToolCall  # noqa: E402
from spinegate.native import describe, is_native  # noqa: E402


@dataclass
class Results:
    """Figures by JSON key, plus notes on anything skipped or qualified."""

    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, key: str, value: Any) -> None:
        self.figures[key] = value

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)


# (JSON key, label, target text, predicate for "met")
TARGETS: list[tuple[str, str, str, Callable[[float], bool]]] = [
    ("check_p50_us", "gate check + receipt (flush), p50 µs", "≤ 8", lambda v: v <= 8),
    ("check_p99_us", "gate check + receipt (flush), p99 µs", "-", lambda v: True),
    ("receipts_per_s", "receipts/s, one thread (check loop)", "-", lambda v: True),
    ("decide_p50_us", "policy decision alone, p50 µs", "≤ 2", lambda v: v <= 2),
    ("sk_ratio", "Semantic Kernel governed/ungoverned invoke", "≤ 1.4", lambda v: v <= 1.4),
    ("langchain_ratio", "LangChain governed/ungoverned tool.invoke", "≤ 1.08", lambda v: v <= 1.08),
    ("langchain_agent_step_ratio", "LangChain create_agent step with/without middleware", "-", lambda v: True),
    ("openai_ratio", "OpenAI interceptor / direct call, 1 ms tool", "≤ 1.02", lambda v: v <= 1.02),
    ("mcp_overhead_us", "MCP proxy overhead per tools/call (p50 vs direct SDK call), µs", "-", lambda v: True),
    ("hook_ratio", "coding-agent hook round trip (thin client + helper) / python3 -I -c pass", "≤ 3", lambda v: v <= 3),
    ("agt_ratio", "Agent Governance Toolkit p50 / spinegate p50, like for like (its record committed first)", "≥ 5",
     lambda v: v >= 5),
    ("agt_default_ratio", "Agent Governance Toolkit p50 (default: batched, nothing on disk first) / spinegate p50",
     "-", lambda v: True),
    ("verify_receipts_per_s", "verify throughput, receipts/s", "≥ 200,000", lambda v: v >= 200_000),
    ("verify_peak_mb", "verify peak memory (process tree PSS), MB", "≤ 150", lambda v: v <= 150),
    ("durable_receipts_per_s_32", "fsync, 32 writers, group commit, receipts/s", "≥ 10,000", lambda v: v >= 10_000),
    ("postgres_receipts_per_s_32", "PostgreSQL ledger, 32 sessions at once, receipts/s", "≥ 5,000",
     lambda v: v >= 5_000),
    ("otel_noop_overhead_us", "OpenTelemetry API without a tracer provider, added per check, µs", "-", lambda v: True),
]


# --------------------------------------------------------------------------
# Core gate


def bench_core(res: Results, tmp: str, manifest: str, n: int) -> None:
    print(f"[core] gate check with a receipt flushed to a JSONL file (receipt path: {describe()})", flush=True)
    res.set("receipt_path", "native" if is_native() else "pure-Python")
    log = os.path.join(tmp, "core.jsonl")
    gate = Gate.open(manifest, receipts=log, git=GIT)
    call = ToolCall(plugin="Bench", function="noop", arguments={"path": "notes/a.txt", "limit": 10})
    samples = time_calls(lambda: gate.check(call), n, warmup=min(2000, n // 5))
    res.set("check_p50_us", round(percentile(samples, 50), 2))
    res.set("check_p99_us", round(percentile(samples, 99), 2))
    res.set("check_single_writer", gate.store.only_writer if isinstance(gate.store, JsonlReceiptStore) else None)
    start = time.perf_counter()
    for _ in range(n):
        gate.check(call)
    res.set("receipts_per_s", round(n / (time.perf_counter() - start)))
    # The same call with its outcome, as the adapters record it (deferred: appended with the next decision).
    samples = time_calls(lambda: gate.record_outcome(gate.check(call), output="ok", deferred=True), n // 2,
                         warmup=min(1000, n // 10))
    res.set("check_and_outcome_p50_us", round(percentile(samples, 50), 2))
    gate.close()

    # The same check with fsync durability (one writer: every receipt waits for its own fsync).
    durable = Gate.open(manifest, receipts=os.path.join(tmp, "core-fsync.jsonl"), git=GIT, durability="fsync")
    samples = time_calls(lambda: durable.check(call), max(200, n // 20), warmup=50)
    res.set("check_fsync_p50_us", round(percentile(samples, 50), 2))
    durable.close()
    print(f"  flush: check p50 {res.figures['check_p50_us']} µs; fsync: check p50 "
          f"{res.figures['check_fsync_p50_us']} µs", flush=True)

    mem = Gate.open(manifest, receipts=MemoryReceiptStore(), git=GIT)
    samples = time_calls(lambda: mem.check(call), n, warmup=1000)
    res.set("check_memory_store_p50_us", round(percentile(samples, 50), 2))

    entry_gate = Gate.open(manifest, receipts=MemoryReceiptStore(), git=GIT)
    classifier, evaluator, session, limits = (entry_gate.classifier, entry_gate.evaluator, entry_gate.session,
                                              entry_gate.limits)
    lookup = entry_gate.manifest.lookup

    def decide() -> Any:
        entry = lookup(call.plugin, call.function)
        return evaluator.evaluate(call, entry, classifier.classify(call, entry), session.posture, session, limits)

    samples = time_calls(decide, n, warmup=1000)
    res.set("decide_p50_us", round(percentile(samples, 50), 2))


# --------------------------------------------------------------------------
# Semantic Kernel


def bench_sk(res: Results, tmp: str, manifest: str, n: int) -> None:
    print("[sk] Semantic Kernel kernel.invoke, governed vs ungoverned", flush=True)
    try:
        from semantic_kernel.functions import kernel_function

        from semantic_kernel import Kernel
        from spinegate_semantic_kernel import SpineFilter
    except ImportError as exc:
        res.note(f"sk skipped: {exc}")
        return

    class Bench:
        @kernel_function(name="noop", description="Return the path.")
        def noop(self, path: str) -> str:
            return path

    def kernel() -> Any:
        k = Kernel()
        k.add_plugin(Bench(), plugin_name="Bench")
        return k

    plain = kernel()
    governed = kernel()
    gate = Gate.open(manifest, receipts=os.path.join(tmp, "sk.jsonl"), git=GIT)
    SpineFilter(gate).attach(governed)
    lean = kernel()
    gate2 = Gate.open(manifest, receipts=os.path.join(tmp, "sk-lean.jsonl"), git=GIT)
    SpineFilter(gate2, record_outcomes=False).attach(lean)
    fn = plain.get_function("Bench", "noop")
    gfn = governed.get_function("Bench", "noop")
    lfn = lean.get_function("Bench", "noop")
    samples = time_async_interleaved({
        "plain": lambda: plain.invoke(fn, path="a.txt"),
        "governed": lambda: governed.invoke(gfn, path="a.txt"),
        "lean": lambda: lean.invoke(lfn, path="a.txt"),
    }, n, warmup=200)
    p = {k: percentile(v, 50) for k, v in samples.items()}
    res.set("sk_plain_p50_us", round(p["plain"], 2))
    res.set("sk_governed_p50_us", round(p["governed"], 2))
    res.set("sk_ratio", round(p["governed"] / p["plain"], 3))
    res.set("sk_ratio_without_outcome_receipt", round(p["lean"] / p["plain"], 3))
    gate.close()
    gate2.close()


# --------------------------------------------------------------------------
# LangChain


def bench_langchain(res: Results, tmp: str, manifest: str, n: int) -> None:
    print("[langchain] tool.invoke and one create_agent step, governed vs ungoverned", flush=True)
    try:
        from langchain_core.tools import tool

        from spinegate_langchain import SpineMiddleware, govern_tool
    except ImportError as exc:
        res.note(f"langchain skipped: {exc}")
        return

    @tool
    def noop_tool(path: str) -> str:
        """Return the path."""
        return path

    gate = Gate.open(manifest, receipts=os.path.join(tmp, "lc.jsonl"), git=GIT)
    governed = govern_tool(noop_tool, gate)
    args = {"path": "a.txt"}
    samples = time_interleaved({"plain": lambda: noop_tool.invoke(args), "governed": lambda: governed.invoke(args)},
                               n, warmup=200)
    p = {k: percentile(v, 50) for k, v in samples.items()}
    res.set("langchain_plain_p50_us", round(p["plain"], 2))
    res.set("langchain_governed_p50_us", round(p["governed"], 2))
    res.set("langchain_ratio", round(p["governed"] / p["plain"], 3))

    try:
        from langchain.agents import create_agent
        from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
        from langchain_core.messages import AIMessage
    except ImportError as exc:
        res.note(f"langchain agent step skipped: {exc}")
        return

    class FakeToolModel(GenericFakeChatModel):
        """LangChain's fake chat model, able to bind tools (as LangChain's own tests do)."""

        def bind_tools(self, tools: Any, **kwargs: Any) -> FakeToolModel:
            return self

    def turns() -> Any:
        i = 0
        while True:
            i += 1
            yield AIMessage(content="", tool_calls=[{"name": "noop_tool", "args": {"path": "a.txt"}, "id": f"c{i}"}])
            yield AIMessage(content="done")

    agent_gate = Gate.open(manifest, receipts=os.path.join(tmp, "lc-agent.jsonl"), git=GIT)
    plain_agent = create_agent(FakeToolModel(messages=turns()), [noop_tool])
    gov_agent = create_agent(FakeToolModel(messages=turns()), [noop_tool], middleware=[SpineMiddleware(agent_gate)])
    msg = {"messages": [{"role": "user", "content": "go"}]}
    steps = max(20, n // 50)
    samples = time_interleaved({"plain": lambda: plain_agent.invoke(msg), "governed": lambda: gov_agent.invoke(msg)},
                               steps, warmup=5)
    p = {k: percentile(v, 50) for k, v in samples.items()}
    res.set("langchain_agent_step_plain_p50_us", round(p["plain"], 1))
    res.set("langchain_agent_step_ratio", round(p["governed"] / p["plain"], 3))
    gate.close()
    agent_gate.close()


# --------------------------------------------------------------------------
# OpenAI


def bench_openai(res: Results, tmp: str, manifest: str, n: int) -> None:
    print("[openai] ToolCallInterceptor.handle vs a direct call of a 1 ms tool", flush=True)
    try:
        from openai.types.chat import ChatCompletionMessage

        from spinegate_openai import ToolCallInterceptor
    except ImportError as exc:
        res.note(f"openai skipped: {exc}")
        return

    def slow_tool(path: str) -> str:
        busy_wait(0.001)
        return path

    gate = Gate.open(manifest, receipts=os.path.join(tmp, "openai.jsonl"), git=GIT)
    interceptor = ToolCallInterceptor(gate, tools={"slow_tool": slow_tool})
    message = ChatCompletionMessage.model_validate({
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "slow_tool", "arguments": '{"path": "a.txt"}'}}],
    })

    def direct() -> Any:
        call = message.tool_calls[0]  # type: ignore[index]
        out = slow_tool(**json.loads(call.function.arguments))
        return [{"role": "tool", "tool_call_id": call.id, "content": out}]

    calls = max(100, n // 20)
    samples = time_interleaved({"direct": direct, "governed": lambda: interceptor.handle(message)}, calls, warmup=20)
    p = {k: percentile(v, 50) for k, v in samples.items()}
    res.set("openai_direct_p50_us", round(p["direct"], 1))
    res.set("openai_governed_p50_us", round(p["governed"], 1))
    res.set("openai_overhead_p50_us", round(p["governed"] - p["direct"], 1))
    res.set("openai_ratio", round(p["governed"] / p["direct"], 4))
    gate.close()


# --------------------------------------------------------------------------
# MCP gateway


MCP_SERVER = """
from mcp.server.fastmcp import FastMCP

server = FastMCP("bench-mcp", log_level="WARNING")


@server.tool()
def noop(path: str) -> str:
    \"\"\"Return the path.\"\"\"
    return path


server.run("stdio")
"""


def bench_mcp(res: Results, tmp: str, n: int) -> None:
    print("[mcp] tools/call through spinegate mcp-proxy vs straight to the same server (SDK client, stdio)", flush=True)
    try:
        import anyio
        from mcp import ClientSession
        from mcp.client.stdio import StdioServerParameters, stdio_client

        import spinegate_mcp  # noqa: F401 - the proxy's distribution must be installed
    except ImportError as exc:
        res.note(f"mcp skipped: {exc}")
        return
    server = os.path.join(tmp, "mcp_bench_server.py")
    with open(server, "w", encoding="utf-8") as fh:
        fh.write(MCP_SERVER)
    manifest = os.path.join(tmp, "mcp-manifest.json")
    with open(manifest, "w", encoding="utf-8") as fh:
        json.dump({"version": "1.0.0", "posture": "NORMAL", "manifest_hash": "", "functions": [
            {"plugin": "bench-mcp", "function": "noop", "effect_class": "SHELL_SAFE", "allowed": True,
             "reason": None, "max_calls_per_session": None}]}, fh)
    from spinegate.manifest_file import seal_manifest

    seal_manifest(manifest)
    time.sleep(2.5)  # let the new manifest settle (see main)
    spinegate = os.path.join(os.path.dirname(sys.executable), "spinegate")
    direct = StdioServerParameters(command=sys.executable, args=[server])
    proxied = StdioServerParameters(command=spinegate, args=[
        "mcp-proxy", "--manifest", manifest, "--receipts", os.path.join(tmp, "mcp.jsonl"), "--",
        sys.executable, server])
    calls, rounds, warmup = max(200, n // 50), 5, 50

    async def run() -> dict[str, list[int]]:
        async with stdio_client(direct) as (r1, w1), ClientSession(r1, w1) as plain, \
                stdio_client(proxied) as (r2, w2), ClientSession(r2, w2) as governed:
            await plain.initialize()
            await governed.initialize()
            sessions = {"direct": plain, "proxy": governed}
            samples: dict[str, list[int]] = {k: [] for k in sessions}
            for session in sessions.values():
                for _ in range(warmup):
                    await session.call_tool("noop", {"path": "a.txt"})
            pc = time.perf_counter_ns
            for _ in range(rounds):
                for k, session in sessions.items():
                    for _ in range(calls // rounds):
                        t = pc()
                        result = await session.call_tool("noop", {"path": "a.txt"})
                        samples[k].append(pc() - t)
                        if result.isError:
                            raise RuntimeError(f"the {k} call failed: {result.content}")
            return samples

    samples = anyio.run(run)
    p = {k: percentile(v, 50) for k, v in samples.items()}
    res.set("mcp_direct_p50_us", round(p["direct"], 1))
    res.set("mcp_proxy_p50_us", round(p["proxy"], 1))
    res.set("mcp_overhead_us", round(p["proxy"] - p["direct"], 1))
    res.set("mcp_ratio", round(p["proxy"] / p["direct"], 3))


# --------------------------------------------------------------------------
# Coding-agent hooks: the process an agent starts per tool call, against a bare interpreter start


def bench_hook(res: Results, tmp: str, n: int) -> None:
    print("[hook] PreToolUse round trip (thin client + resident helper) vs python3 -I -c pass", flush=True)
    from spinegate import hook_client

    project = os.path.join(tmp, "hook-project")
    os.makedirs(project)
    spinegate = [sys.executable, "-m", "spinegate.cli"]
    subprocess.run([*spinegate, "init", "claude-code", "--dir", project], check=True, capture_output=True)
    time.sleep(2.5)  # let the new manifest settle (see main)
    client = [sys.executable, "-I", "-S", os.path.abspath(hook_client.__file__), "--host", "claude-code",
              "--project", project]
    bare = [sys.executable, "-I", "-c", "pass"]
    counter = iter(range(10**9))

    def payload() -> bytes:
        return json.dumps({"hook_event_name": "PreToolUse", "session_id": "bench", "cwd": project,
                           "tool_name": "Read", "tool_input": {"file_path": os.path.join(project, "README.md")},
                           "tool_use_id": f"toolu_{next(counter)}"}).encode()

    def once(cmd: list[str], data: bytes | None) -> int:
        t = time.perf_counter_ns()
        done = subprocess.run(cmd, input=data, capture_output=True)
        elapsed = time.perf_counter_ns() - t
        if done.returncode != 0 or (data is not None and b'"allow"' not in done.stdout):
            raise RuntimeError(f"{cmd[0]} answered {done.returncode}: {done.stdout[:200]!r} {done.stderr[:300]!r}")
        return elapsed

    try:
        once(client, payload())  # starts the helper
        calls, rounds = max(40, n // 500), 10
        samples: dict[str, list[int]] = {"bare": [], "hook": []}
        for _ in range(5):
            once(bare, None)
            once(client, payload())
        for _ in range(rounds):
            for _ in range(calls // rounds):
                samples["bare"].append(once(bare, None))
                samples["hook"].append(once(client, payload()))
        p = {k: percentile(v, 50) / 1000 for k, v in samples.items()}  # ms
        res.set("hook_bare_python_p50_ms", round(p["bare"], 2))
        res.set("hook_round_trip_p50_ms", round(p["hook"], 2))
        res.set("hook_ratio", round(p["hook"] / p["bare"], 2))
        system = shutil.which("python3")
        if system is not None and os.path.realpath(system) != os.path.realpath(sys.executable):
            plain = percentile([once([system, "-I", "-c", "pass"], None) for _ in range(20)], 50) / 1000
            res.set("hook_system_python3_p50_ms", round(plain, 2))
        in_process = [*spinegate, "hook", "--in-process", "--project", project]
        subprocess.run([*spinegate, "serve", "--stop", "--project", project], capture_output=True)
        res.set("hook_in_process_p50_ms", round(percentile([once(in_process, payload()) for _ in range(10)], 50)
                                                / 1000, 1))
        def imported(cmd: list[str], data: bytes | None) -> set[str]:
            trace = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], input=data, capture_output=True).stderr
            return {line.rsplit("|", 1)[-1].strip() for line in trace.decode().splitlines()
                    if line.startswith("import time:") and line.count("|") == 2}

        extra = imported(client, payload()) - imported([sys.executable, "-I", "-S", "-c", "pass"], None)
        res.set("hook_client_imports", sorted(extra))  # what the client imports beyond interpreter start-up
    finally:
        subprocess.run([*spinegate, "serve", "--stop", "--project", project], capture_output=True)


# --------------------------------------------------------------------------
# Agent Governance Toolkit (agent-os-kernel), like for like


def bench_agt(res: Results, tmp: str, manifest: str, n: int) -> None:
    print("[agt] AgentKernel.intercept_tool_execution + FlightRecorder vs gate.check + receipt", flush=True)
    try:
        import logging

        from agent_control_plane.agent_kernel import AgentKernel
        from agent_control_plane.flight_recorder import FlightRecorder
        from agent_control_plane.policy_engine import PolicyEngine, ResourceQuota
    except ImportError as exc:
        res.note(f"agt skipped: agent-os-kernel is not importable here ({exc}); "
                 "install it with `pip install agent-os-kernel`")
        return
    logging.getLogger("AgentKernel").setLevel(logging.WARNING)
    engine = PolicyEngine()
    engine.add_constraint("bench-agent", ["read_file"])
    # Its default call and time limits, raised so they never refuse during the run.
    engine.set_quota("bench-agent", ResourceQuota(agent_id="bench-agent", max_requests_per_minute=10**9,
                                                  max_requests_per_hour=10**9, max_execution_time_seconds=10**9,
                                                  max_concurrent_executions=10**6))
    # Like for like: write batching off, so the audit record is committed before the call may run.
    recorder = FlightRecorder(os.path.join(tmp, "agt-audit.db"), enable_batching=False)
    kernel = AgentKernel(policy_engine=engine, audit_logger=recorder)
    # The toolkit's default: audit rows batched (100 rows or 5 s), nothing on disk before the call runs.
    batching = FlightRecorder(os.path.join(tmp, "agt-audit-default.db"))
    default_kernel = AgentKernel(policy_engine=engine, audit_logger=batching)
    args = {"path": "notes/a.txt"}
    for k in (kernel, default_kernel):
        assert k.intercept_tool_execution("bench-agent", "read_file", args) is None, "AGT refused the bench call"

    gate = Gate.open(manifest, receipts=os.path.join(tmp, "agt-spinegate.jsonl"), git=GIT)
    call = ToolCall(plugin="Files", function="Read", arguments=args)
    assert gate.check(call).approved
    samples = time_interleaved({
        "agt": lambda: kernel.intercept_tool_execution("bench-agent", "read_file", args),
        "agt_default": lambda: default_kernel.intercept_tool_execution("bench-agent", "read_file", args),
        "spinegate": lambda: gate.check(call),
    }, max(500, n // 4), warmup=100)
    p = {k: percentile(v, 50) for k, v in samples.items()}
    res.set("agt_p50_us", round(p["agt"], 2))
    res.set("agt_default_p50_us", round(p["agt_default"], 2))
    res.set("agt_spinegate_p50_us", round(p["spinegate"], 2))
    res.set("agt_ratio", round(p["agt"] / p["spinegate"], 2))
    res.set("agt_default_ratio", round(p["agt_default"] / p["spinegate"], 2))
    gate.close()
    for r in (recorder, batching):
        try:
            r.close()
        except Exception:  # noqa: BLE001 - best effort
            pass


# --------------------------------------------------------------------------
# Verify


_VERIFY_CHILD = r"""
import json, os, sys, time
from spinegate.verify import verify_jsonl
t = time.perf_counter()
report = verify_jsonl(sys.argv[1])
elapsed = time.perf_counter() - t
times = os.times()
print(json.dumps({"elapsed": elapsed, "ok": report.ok, "receipts": report.receipts,
                  "failures": [str(f) for f in report.failures[:3]],
                  "cpu_s": times.user + times.system + times.children_user + times.children_system}))
"""


def _process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, ()))
    return out


def _kb(pid: int, field: str, name: str) -> int:
    try:
        with open(f"/proc/{pid}/{name}", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_sampled(cmd: list[str]) -> tuple[str, str, int, dict[str, int]]:
    """Run `cmd`, sampling the memory of its whole process tree every 20 ms from outside it."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"rss_kb": 0, "pss_kb": 0}
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.communicate()), daemon=True)
    reader.start()
    while proc.poll() is None:
        pids = _process_tree(proc.pid)
        peak["rss_kb"] = max(peak["rss_kb"], sum(_kb(p, "VmRSS:", "status") for p in pids))
        peak["pss_kb"] = max(peak["pss_kb"], sum(_kb(p, "Pss:", "smaps_rollup") for p in pids))
        time.sleep(0.02)
    reader.join()
    return out[0] if out else "", out[1] if len(out) > 1 else "", proc.returncode, peak


def bench_verify(res: Results, tmp: str, count: int) -> None:
    print(f"[verify] generating a {count:,}-receipt log", flush=True)
    from genlog import generate

    log = os.path.join(tmp, "verify.jsonl")
    t = time.perf_counter()
    size = generate(log, count)
    res.set("verify_log_receipts", count)
    res.set("verify_log_mb", round(size / 2**20, 1))
    print(f"  generated {size / 2**20:.0f} MB in {time.perf_counter() - t:.1f} s; verifying in a subprocess",
          flush=True)
    stdout, stderr, code, peak = run_sampled([sys.executable, "-c", _VERIFY_CHILD, log])
    if code != 0:
        res.note(f"verify failed to run: {stderr.strip()[-500:]}")
        return
    data = json.loads(stdout.strip().splitlines()[-1])
    if not data["ok"] or data["receipts"] != count:
        res.note(f"verify reported the generated log invalid: {data['failures']}")
    res.set("verify_seconds", round(data["elapsed"], 2))
    res.set("verify_receipts_per_s", round(count / data["elapsed"]))
    # Peak of the whole verifying process tree (parent and workers), sampled from /proc every 20 ms:
    # proportional set size (shared pages split between the processes sharing them), and plain RSS.
    res.set("verify_peak_mb", round(peak["pss_kb"] / 1024, 1))
    res.set("verify_peak_rss_sum_mb", round(peak["rss_kb"] / 1024, 1))
    # CPU time per receipt (parent + workers): what the throughput would be on idle cores.
    cpu_us = data["cpu_s"] / count * 1e6
    res.set("verify_cpu_us_per_receipt", round(cpu_us, 2))
    res.set("verify_receipts_per_s_if_cores_idle", round((os.cpu_count() or 1) * 1e6 / cpu_us))
    os.unlink(log)


# --------------------------------------------------------------------------
# Durability


def bench_durable(res: Results, tmp: str, manifest: str, seconds: float) -> None:
    print("[durable] gate.check with fsync durability, 1/8/32 writer threads, with and without group commit",
          flush=True)
    for group in (True, False):
        for writers in (1, 8, 32):
            log = os.path.join(tmp, f"durable-{writers}-{int(group)}.jsonl")
            store = JsonlReceiptStore(log, durability="fsync", group_commit=group)
            gate = Gate.open(manifest, receipts=store, git=GIT)
            call = ToolCall(plugin="Bench", function="noop", arguments={"path": "a.txt"})
            counts, elapsed, errors = hammer([lambda gate=gate, call=call: gate.check(call).approved] * writers,
                                             seconds)
            gate.close()
            done = sum(counts)
            if errors:
                res.note(f"durable {writers} writers group={group}: {errors[0]!r}")
            key = f"durable_receipts_per_s_{writers}" + ("" if group else "_no_group_commit")
            res.set(key, round(done / elapsed))
            if store.fsync_count:
                res.set(key.replace("receipts_per_s", "receipts_per_fsync"), round(done / store.fsync_count, 1))
            print(f"  {writers:2d} writers, group commit {'on ' if group else 'off'}: "
                  f"{res.figures[key]:,} receipts/s", flush=True)


# --------------------------------------------------------------------------
# The PostgreSQL ledger


def bench_postgres(res: Results, manifest: str, seconds: float) -> None:
    print("[postgres] gate.check on the PostgreSQL ledger, 32 threads, each its own gate and session", flush=True)
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
    from postgres_cluster import HOW_TO_INSTALL, Cluster, server_bindir
    from spinegate.postgres_store import PostgresReceiptStore

    bindir = server_bindir()
    if bindir is None:
        res.note(f"postgres skipped: no PostgreSQL server programs ({HOW_TO_INSTALL})")
        return
    cluster = Cluster(bindir)  # default settings: synchronous_commit on
    try:
        cluster.start()
        dsn = cluster.create_database("bench")
        writers = 32
        gates = [Gate.open(manifest, receipts=dsn, git=GIT) for _ in range(writers)]
        call = ToolCall(plugin="Bench", function="noop", arguments={"path": "a.txt"})
        for gate in gates:  # connected, tables made, sessions opened
            gate.check(call)
        store = gates[0].store
        assert isinstance(store, PostgresReceiptStore)
        ledger = store.ledger
        commits_before = ledger.commits
        counts, elapsed, errors = hammer([lambda gate=gate: gate.check(call).approved for gate in gates], seconds)
        commits = ledger.commits - commits_before
        for gate in gates:
            gate.close()
        if errors:
            res.note(f"postgres: {errors[0]!r}")
        total = sum(counts)
        res.set("postgres_receipts_per_s_32", round(total / elapsed))
        if commits:
            res.set("postgres_receipts_per_commit_32", round(total / commits, 1))
        print(f"  32 sessions: {res.figures['postgres_receipts_per_s_32']:,} receipts/s "
              f"({res.figures.get('postgres_receipts_per_commit_32', '-')} per commit)", flush=True)
    finally:
        cluster.destroy()


# --------------------------------------------------------------------------
# OpenTelemetry


def bench_otel(res: Results, manifest: str, n: int) -> None:
    print("[otel] gate.check with the OpenTelemetry API imported and no tracer provider (no span is made) against "
          "the unwrapped check", flush=True)
    try:
        import opentelemetry.trace  # noqa: F401 - as an application that traces would; no SDK configured
    except ImportError:
        res.note("otel skipped: opentelemetry-api is not installed (pip install 'spinegate[otel]')")
        return
    gate = Gate.open(manifest, receipts=MemoryReceiptStore(), git=GIT)
    call = ToolCall(plugin="Bench", function="noop", arguments={"path": "a.txt"})
    unwrapped = getattr(Gate.check, "__wrapped__", None)
    if unwrapped is None:
        res.note("otel skipped: Gate.check is not wrapped")
        return
    samples = time_interleaved({"traced": lambda: gate.check(call), "plain": lambda: unwrapped(gate, call)},
                               n, warmup=min(2000, n // 5), rounds=10)
    traced, plain = percentile(samples["traced"], 50), percentile(samples["plain"], 50)
    res.set("otel_noop_overhead_us", round(traced - plain, 2))
    res.set("otel_noop_check_p50_us", round(traced, 2))
    print(f"  API without a provider: {traced - plain:.2f} µs per check ({plain:.2f} -> {traced:.2f} µs p50)",
          flush=True)


# --------------------------------------------------------------------------


def table(res: Results) -> str:
    rows = [("figure", "measured", "target", "met")]
    for key, label, target, ok in TARGETS:
        v = res.figures.get(key)
        if v is None:
            rows.append((label, "skipped", target, "-"))
            continue
        met = "-" if target == "-" else ("yes" if ok(float(v)) else "NO")
        rows.append((label, f"{v:,}" if isinstance(v, (int, float)) else str(v), target, met))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


SECTIONS = ("core", "sk", "langchain", "openai", "mcp", "hook", "agt", "verify", "durable", "postgres", "otel")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="spinegate benchmark")
    ap.add_argument("--quick", action="store_true", help="smaller runs (about two minutes on 2 cores)")
    ap.add_argument("--json", metavar="PATH", help="write the figures to this JSON file")
    ap.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--verify-receipts", type=int, help="size of the generated verify log")
    a = ap.parse_args(argv)
    only = set(a.only.split(",")) if a.only else set(SECTIONS)
    n = 20_000 if a.quick else 100_000
    verify_count = a.verify_receipts or (100_000 if a.quick else 1_000_000)
    durable_seconds = 1.5 if a.quick else 4.0

    res = Results()
    res.set("mode", "quick" if a.quick else "full")
    res.set("python", platform.python_version())
    res.set("cpus", os.cpu_count())
    tmp = tempfile.mkdtemp(prefix="spinegate-bench-")
    began = time.perf_counter()
    try:
        manifest = write_manifest(tmp)
        # A manifest file changed within the last ~2 s is re-read on every check (its stat
        # fingerprint cannot prove it unchanged yet). Real manifests are older: let it settle.
        time.sleep(2.5)
        runs: list[tuple[str, Callable[[], None]]] = [
            ("core", lambda: bench_core(res, tmp, manifest, n)),
            ("sk", lambda: bench_sk(res, tmp, manifest, n // 4)),
            ("langchain", lambda: bench_langchain(res, tmp, manifest, n // 4)),
            ("openai", lambda: bench_openai(res, tmp, manifest, n)),
            ("mcp", lambda: bench_mcp(res, tmp, n)),
            ("hook", lambda: bench_hook(res, tmp, n)),
            ("agt", lambda: bench_agt(res, tmp, manifest, n)),
            ("verify", lambda: bench_verify(res, tmp, verify_count)),
            ("durable", lambda: bench_durable(res, tmp, manifest, durable_seconds)),
            ("postgres", lambda: bench_postgres(res, manifest, durable_seconds * 2)),
            ("otel", lambda: bench_otel(res, manifest, n)),
        ]
        for name, run in runs:
            if name not in only:
                continue
            try:
                run()
            except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
                res.note(f"{name} failed: {type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res.set("bench_seconds", round(time.perf_counter() - began, 1))
    print()
    print(table(res))
    extras = {k: v for k, v in res.figures.items() if k not in {t[0] for t in TARGETS}}
    print("\nother figures:", json.dumps(extras, ensure_ascii=False))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump({**res.figures, "notes": res.notes}, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
