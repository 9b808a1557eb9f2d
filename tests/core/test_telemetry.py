"""OpenTelemetry: a span per decision and per outcome, checked with the SDK's in-memory exporter.

The SDK is configured here the way an application would (a global tracer
provider), and reset after each test the way OpenTelemetry's own test
utilities do, so no other test sees it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from core_support import DEFAULT_FUNCTIONS, entry
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from spinegate import MemoryReceiptStore, ToolCall, telemetry
from spinegate.reasons import RECEIPT_WRITE_FAILED

READ = ToolCall(plugin="Files", function="Read", arguments={"path": "a.txt"}, proposal_id="call_17")
DELETE = ToolCall(plugin="Files", function="Delete", arguments={"path": "a.txt"}, proposal_id="call_18")
SHIP = ToolCall(plugin="Deploy", function="Ship", arguments={}, proposal_id="call_19")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    provider.shutdown()
    # What opentelemetry's test utilities (reset_trace_globals) do: no provider for the next test.
    trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]
    telemetry._cache = None


def _only(exporter: InMemorySpanExporter, name: str) -> Any:
    found = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]


def test_an_approval_is_a_span_with_the_receipt_it_wrote(make_gate: Any, spans: InMemorySpanExporter) -> None:
    decision = make_gate().check(READ)
    span = _only(spans, "spinegate.check")
    r = decision.receipt
    assert dict(span.attributes) == {
        "spinegate.decision": "approve", "spinegate.effect_class": "SHELL_SAFE",
        "spinegate.receipt_id": r.receipt_id, "spinegate.receipt_hash": r.receipt_hash,
        "spinegate.session_id": r.session_id, "spinegate.sequence_number": 1,
        "gen_ai.tool.name": "Files.Read", "gen_ai.tool.call.id": "call_17",
    }


def test_a_denial_names_its_reason(make_gate: Any, spans: InMemorySpanExporter) -> None:
    make_gate().check(DELETE)
    attrs = _only(spans, "spinegate.check").attributes
    assert attrs["spinegate.decision"] == "deny" and attrs["spinegate.reason"] == "DESTRUCTIVE_OPERATION_BLOCKED"
    assert attrs["spinegate.effect_class"] == "SHELL_DANGEROUS"


def test_an_escalation_to_the_host_and_its_answer(make_gate: Any, write_manifest: Any,
                                                  spans: InMemorySpanExporter) -> None:
    gate = make_gate(write_manifest([*DEFAULT_FUNCTIONS, entry("Deploy", "Ship", "SHELL_MUTATING",
                                                               requires_confirmation=True)]))
    escalated = gate.check(SHIP, host_approval=True)
    answered = gate.resolve_escalation(escalated, True, by="alice")
    got = [s.attributes for s in spans.get_finished_spans() if s.name == "spinegate.check"]
    assert [a["spinegate.decision"] for a in got] == ["escalate", "approve"]
    assert got[1]["spinegate.receipt_id"] == answered.receipt_id and got[1]["spinegate.sequence_number"] == 2


async def test_acheck_is_a_span_too(make_gate: Any, spans: InMemorySpanExporter) -> None:
    decision = await make_gate().acheck(READ)
    assert _only(spans, "spinegate.check").attributes["spinegate.receipt_id"] == decision.receipt_id


def test_an_outcome_is_a_span(make_gate: Any, spans: InMemorySpanExporter) -> None:
    gate = make_gate()
    decision = gate.check(READ)
    receipt = gate.record_outcome(decision, error="disk on fire")
    attrs = _only(spans, "spinegate.record_outcome").attributes
    assert attrs["spinegate.outcome"] == "failed" and attrs["spinegate.receipt_id"] == receipt.receipt_id
    assert attrs["spinegate.decision_receipt_id"] == decision.receipt_id
    assert attrs["spinegate.sequence_number"] == 2 and attrs["gen_ai.tool.call.id"] == "call_17"


def test_an_adapter_refusal_is_a_span(make_gate: Any, spans: InMemorySpanExporter) -> None:
    make_gate().deny(READ, "INVALID_ARGUMENTS_JSON", "the model wrote no JSON")
    assert _only(spans, "spinegate.check").attributes["spinegate.reason"] == "INVALID_ARGUMENTS_JSON"


def test_a_receipt_that_could_not_be_written_leaves_no_receipt_attributes(write_manifest: Any,
                                                                          spans: InMemorySpanExporter) -> None:
    from spinegate import Gate

    class Refusing(MemoryReceiptStore):
        def append(self, line: str) -> None:
            raise OSError("disk full")

    gate = Gate.open(write_manifest(), receipts=Refusing(), git={"branch": "b", "commit_before": None,
                                                                 "commit_after": None})
    decision = gate.check(READ)
    attrs = dict(_only(spans, "spinegate.check").attributes)
    assert not decision.approved and attrs["spinegate.reason"].startswith(RECEIPT_WRITE_FAILED)
    assert "spinegate.receipt_id" not in attrs and attrs["gen_ai.tool.call.id"] == "call_17"


def test_the_span_is_a_child_of_the_application_span(make_gate: Any, spans: InMemorySpanExporter) -> None:
    gate = make_gate()
    with trace.get_tracer("app").start_as_current_span("agent step") as parent:
        gate.check(READ)
    child = _only(spans, "spinegate.check")
    assert child.parent is not None and child.parent.span_id == parent.get_span_context().span_id


def test_without_the_package_the_methods_are_not_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "AVAILABLE", False)

    def method(self: Any) -> Any:
        return None

    assert telemetry.traced_decision(method) is method
    assert telemetry.traced_outcome(method) is method
    assert telemetry.traced_async_decision(method) is method  # type: ignore[arg-type]


def test_an_application_that_never_imported_tracing_pays_no_import() -> None:
    """A hook process started per tool call must not load the OpenTelemetry API for nothing."""
    code = ("import sys, tempfile, os, json\n"
            "from spinegate import Gate, ToolCall, MemoryReceiptStore, seal_manifest\n"
            "d = tempfile.mkdtemp(); m = os.path.join(d, 'm.json')\n"
            "open(m, 'w').write(json.dumps({'version': '1.0.0', 'posture': 'NORMAL', 'functions': [{'plugin': 'F',"
            " 'function': 'R', 'effect_class': 'SHELL_SAFE', 'allowed': True, 'reason': None,"
            " 'max_calls_per_session': None}], 'manifest_hash': ''}))\n"
            "seal_manifest(m)\n"
            "g = Gate.open(m, receipts=MemoryReceiptStore())\n"
            "assert g.check(ToolCall(plugin='F', function='R', arguments={})).approved\n"
            "print('opentelemetry.trace' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_no_span_is_made_until_a_provider_is_set(make_gate: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API imported but no provider set: spans would be no-ops, so none is started; one set later is used."""
    assert trace._TRACER_PROVIDER is None  # type: ignore[attr-defined]
    monkeypatch.setattr(telemetry, "_named", [False])
    assert telemetry.tracer() is None
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        make_gate().check(READ)
        assert exporter.get_finished_spans() == ()
        trace.set_tracer_provider(provider)
        assert telemetry.tracer() is not None
        make_gate().check(READ)
        assert [s.name for s in exporter.get_finished_spans()] == ["spinegate.check"]
    finally:
        provider.shutdown()
        trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
        trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]
        telemetry._cache = None


def test_a_method_that_raises_leaves_a_failed_span_with_its_error_type(spans: InMemorySpanExporter) -> None:
    @telemetry.traced_decision
    def check() -> Any:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        check()
    span = _only(spans, telemetry.CHECK_SPAN)
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes["error.type"] == "builtins.ValueError"
    assert [e.name for e in span.events] == ["exception"]
