"""OpenTelemetry spans for decisions and outcomes, through `opentelemetry-api` only (the extra `spinegate[otel]`).

Each decision is a span named ``spinegate.check`` and each recorded outcome a
span named ``spinegate.record_outcome``, with the attributes docs/fleet.md
lists (the `spinegate.*` ones and the GenAI conventions' `gen_ai.tool.name`
and `gen_ai.tool.call.id`). Spans are a copy: the receipt store stays the
record, and nothing here can change a decision.

What it costs, by design:

- the package not installed: the gate's methods are not wrapped at all;
- installed, but `opentelemetry.trace` never imported by the application
  (so no SDK can have been configured, unless through the
  ``OTEL_PYTHON_TRACER_PROVIDER`` variable, which is honoured): one
  dictionary lookup per call, and the API is not even imported (a coding
  agent's hook process, started per tool call, pays nothing);
- imported with no SDK: the API's no-op span (`bench/run.py` measures it as
  `otel_noop_overhead_us`); the span is made current only when it records.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from .decision import Decision
    from .receipts import Receipt

P = ParamSpec("P")
R = TypeVar("R")

CHECK_SPAN = "spinegate.check"
OUTCOME_SPAN = "spinegate.record_outcome"
TRACER_NAME = "spinegate"
_PROVIDER_VARIABLE = "OTEL_PYTHON_TRACER_PROVIDER"


def _installed() -> bool:
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except (ImportError, ValueError):  # a broken or half-installed namespace package: no spans
        return False


#: Whether `opentelemetry-api` is importable: decided once, when spinegate is imported.
AVAILABLE = _installed()

_cache: tuple[Any, Any] | None = None  # (the opentelemetry.trace module, spinegate's tracer from it)
_named: list[bool] = []  # whether the environment names a tracer provider, read on the first call


def _provider_named() -> bool:
    """True when ``OTEL_PYTHON_TRACER_PROVIDER`` is set; read once (it configures start-up, as OpenTelemetry's own
    variables do), so that a gate that is not traced pays no environment lookup per call."""
    if not _named:
        _named.append(bool(os.environ.get(_PROVIDER_VARIABLE)))
    return _named[0]


def tracer() -> Any | None:
    """spinegate's tracer, or None when no span could record anything.

    None when the application has not imported OpenTelemetry's tracing API,
    and while it has imported it but set no tracer provider (in code or by
    the environment variable): the API's tracers then only make no-op spans,
    which cost a framework's governed call about 3 µs (two spans) for
    nothing. The provider is looked for on every call, so spans start as
    soon as one is set.
    """
    global _cache
    trace: Any = sys.modules.get("opentelemetry.trace")
    if trace is None:
        if not _provider_named():
            return None
        import opentelemetry.trace

        trace = opentelemetry.trace
    elif getattr(trace, "_TRACER_PROVIDER", trace) is None and not _provider_named():
        return None  # the API's own test for "no provider set" (get_tracer_provider would return its proxy)
    cached = _cache
    if cached is not None and cached[0] is trace:
        return cached[1]
    from . import __version__

    made = trace.get_tracer(TRACER_NAME, __version__)  # a proxy: follows a provider configured later
    _cache = (trace, made)
    return made


def decision_attributes(decision: Decision) -> dict[str, Any]:
    """The attributes of a `spinegate.check` span; an attribute with no value is left out."""
    attrs: dict[str, Any] = {"spinegate.decision": decision.verdict.value,
                             "spinegate.effect_class": decision.effect_class.value}
    if decision.reason:
        attrs["spinegate.reason"] = str(decision.reason)
    if decision.shadow:
        attrs["spinegate.shadow"] = True
    receipt = decision.receipt
    if receipt is not None:
        _receipt_attributes(attrs, receipt)
    else:
        attrs["gen_ai.tool.name"] = _text(decision.call.tool_name)
        if decision.call.proposal_id not in (None, ""):
            attrs["gen_ai.tool.call.id"] = _text(decision.call.proposal_id)
    return attrs


def outcome_attributes(decision: Decision, receipt: Receipt) -> dict[str, Any]:
    """The attributes of a `spinegate.record_outcome` span."""
    attrs: dict[str, Any] = {"spinegate.outcome": receipt["result"]["status"],
                             "spinegate.effect_class": decision.effect_class.value}
    if decision.receipt_id is not None:
        attrs["spinegate.decision_receipt_id"] = decision.receipt_id
    _receipt_attributes(attrs, receipt)
    return attrs


def _receipt_attributes(attrs: dict[str, Any], receipt: Mapping[str, Any]) -> None:
    attrs["spinegate.receipt_id"] = receipt["receipt_id"]
    attrs["spinegate.receipt_hash"] = receipt["receipt_hash"]
    attrs["spinegate.session_id"] = receipt["session_id"]
    attrs["spinegate.sequence_number"] = receipt["sequence_number"]
    attrs["gen_ai.tool.name"] = receipt["action"]["tool"]
    attrs["gen_ai.tool.call.id"] = receipt["proposal_id"]


def _text(value: Any) -> str:
    from .decision import as_text

    return as_text(value)


def _failed(span: Any, exc: BaseException) -> None:
    """Mark the recording span failed with `exc` (status ERROR and, as the semantic conventions ask of a failed
    operation, `error.type`: the exception's class), and end it."""
    try:
        from opentelemetry.trace import Status, StatusCode

        span.set_attribute("error.type", f"{type(exc).__module__}.{type(exc).__qualname__}")
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    finally:
        span.end()


def _traced(name: str, attributes: Callable[[tuple[Any, ...], Any], dict[str, Any]]
            ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator: the method in a span `name`, its attributes from (the call's arguments, its result)."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        if not AVAILABLE:
            return method

        @wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            t = tracer()
            if t is None:
                return method(*args, **kwargs)
            span = t.start_span(name)
            if not span.is_recording():  # the API's no-op: nothing to record, nothing to make current
                try:
                    return method(*args, **kwargs)
                finally:
                    span.end()
            try:
                result = _recording(span, method, *args, **kwargs)
            except BaseException as exc:
                _failed(span, exc)
                raise
            span.set_attributes(attributes(args, result))
            span.end()
            return result

        return wrapper

    return decorate


#: A gate method returning a Decision, in a `spinegate.check` span (unwrapped without the API).
traced_decision = _traced(CHECK_SPAN, lambda args, decision: decision_attributes(decision))

#: `record_outcome(decision, ...)` in a `spinegate.record_outcome` span.
traced_outcome = _traced(OUTCOME_SPAN, lambda args, receipt: outcome_attributes(args[1], receipt))


def traced_async_decision(method: Callable[P, Awaitable[Decision]]) -> Callable[P, Awaitable[Decision]]:
    """`traced_decision` for a coroutine method (`acheck`)."""
    if not AVAILABLE:
        return method

    @wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Decision:
        t = tracer()
        if t is None:
            return await method(*args, **kwargs)
        span = t.start_span(CHECK_SPAN)
        if not span.is_recording():
            try:
                return await method(*args, **kwargs)
            finally:
                span.end()
        try:
            from opentelemetry.trace import use_span

            with use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
                decision = await method(*args, **kwargs)
        except BaseException as exc:
            _failed(span, exc)
            raise
        span.set_attributes(decision_attributes(decision))
        span.end()
        return decision

    return wrapper


def _recording(span: Any, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """`fn(...)` with the recording `span` current, so that spans made inside (an approver's) nest under it."""
    from opentelemetry.trace import use_span

    with use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
        return fn(*args, **kwargs)
