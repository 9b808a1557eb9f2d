"""`SpineFilter`: a Semantic Kernel filter that puts every function call through a spinegate `Gate`.

    from spinegate import Gate
    from spinegate_semantic_kernel import SpineFilter

    gate = Gate.open("manifest.json", receipts="receipts.jsonl")
    SpineFilter(gate).attach(kernel)

One object serves both filter types Semantic Kernel has for function calls:

- FUNCTION_INVOCATION runs for every invocation (direct `kernel.invoke`,
  `invoke_stream`, and calls the model chose). The gate decides before
  `next` is called; a refused call raises `GovernanceVeto`, so its body
  never runs. After an approved call returns or raises, the outcome is
  recorded.
- AUTO_FUNCTION_INVOCATION runs first for calls the model chose. It decides
  there, with the model's tool-call id as the receipt's `proposal_id`, and on
  refusal hands the model a readable refusal (reason and receipt id) instead
  of Semantic Kernel's generic error text, or stops the loop
  (``on_deny="terminate"``). An approved decision is handed to the
  FUNCTION_INVOCATION pass of the same call, so one call gets one decision;
  if the call changed in between, that pass decides again.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from semantic_kernel.contents.kernel_content import KernelContent
from semantic_kernel.filters.auto_function_invocation.auto_function_invocation_context import (
    AutoFunctionInvocationContext,
)
from semantic_kernel.filters.filter_types import FilterTypes
from semantic_kernel.filters.functions.function_invocation_context import FunctionInvocationContext
from semantic_kernel.functions.function_result import FunctionResult
from semantic_kernel.kernel import Kernel

from spinegate import Decision, Gate, GovernanceVeto, ToolCall
from spinegate.canonical import arguments_hash
from spinegate.decision import as_text
from spinegate.reasons import EVALUATION_EXCEPTION

from .arguments import sanitize_arguments

logger = logging.getLogger("spinegate_semantic_kernel")

FRAMEWORK = "semantic_kernel"
DECISION_METADATA_KEY = "spinegate_decision"
"""Key under which a refusal's `FunctionResult.metadata` carries the `Decision`."""

SK_ERROR_PREFIX = "An error occurred while invoking the function"
"""How Semantic Kernel's auto-invocation handler reports a function that raised."""

OnDeny = Literal["refuse", "terminate"]
OnOutcomeError = Literal["log", "raise"]
Context = FunctionInvocationContext | AutoFunctionInvocationContext
Next = Callable[[Any], Awaitable[None]]


class OutcomeNotRecorded(RuntimeError):
    """The function ran but its outcome receipt could not be written (``on_outcome_error="raise"``).

    `decision` is the approval the call ran under; `__cause__` is the store's error.
    """

    def __init__(self, decision: Decision, error: BaseException) -> None:
        self.decision = decision
        super().__init__(f"{decision.tool_name} ran (decision receipt {decision.receipt_id}) "
                         f"but its outcome could not be recorded: {type(error).__name__}: {error}")


@dataclass(slots=True)
class _Pending:
    """An approval made in the auto-invocation pass, waiting for the function pass of the same call.

    `consumed` is set by the first function pass that sees it (so it is used
    once); `refusal` when that pass decided again and refused.
    """

    call: ToolCall
    decision: Decision
    arguments_sha256: str | None
    consumed: bool = False
    refusal: Decision | None = None


def _arguments_digest(arguments: Any) -> str | None:
    """The canonical hash of a call's arguments (None if they cannot be hashed: then the call is decided again)."""
    try:
        return arguments_hash(arguments)
    except Exception:  # noqa: BLE001
        return None


def unwrap_veto(exc: BaseException | None) -> GovernanceVeto | None:
    """The `GovernanceVeto` behind `exc`, or None.

    `kernel.invoke` wraps exceptions raised in a filter in
    `KernelInvokeException` (``raise ... from``); this follows `__cause__`
    to find the veto, and returns `exc` itself if it is one. `__context__`
    is not followed: an error raised while handling a veto (a function body
    that caught a refusal of a nested call, then failed) is not a refusal.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, GovernanceVeto):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__
    return None


def _flatten(value: list[Any] | tuple[Any, ...], depth: int = 0) -> list[Any] | None:
    """The leaves of nested lists if every leaf is text or SK content, else None."""
    leaves: list[Any] = []
    for item in value:
        if isinstance(item, (list, tuple)):
            inner = _flatten(item, depth + 1) if depth < 16 else None
            if inner is None:
                return None
            leaves.extend(inner)
        elif isinstance(item, (KernelContent, str)):
            leaves.append(item)
        else:
            return None
    return leaves


def _output_text(value: Any) -> Any:
    """What to record as a function's output: text for SK content, data otherwise."""
    if type(value) is str:  # the common case, without the abstract-class checks below
        return value
    if isinstance(value, FunctionResult):
        value = value.value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, KernelContent):
        return as_text(value)
    if isinstance(value, (list, tuple)) and value:
        leaves = _flatten(value)
        if leaves is not None:  # chunks of text or SK content (streamed prompt results are lists of lists)
            return "".join(as_text(v) for v in leaves)
    if isinstance(value, (dict, list, tuple, int, float, bool)):
        return sanitize_arguments({"output": value}).data["output"]
    return as_text(value)  # never raises: a result with a broken __str__ still gets its outcome receipt


class SpineFilter:
    """Governs Semantic Kernel function calls with a spinegate `Gate`.

    Options:
      record_outcomes: write an outcome receipt after each approved call
        (status, truncated output, output hash). Default True.
      on_deny: for calls the model chose, ``"refuse"`` (default) answers the
        model with a readable refusal and lets the chat go on;
        ``"terminate"`` also stops the auto-invocation loop, so the caller
        gets the refusal as the last message. Direct invocations always
        raise `GovernanceVeto`.
      on_outcome_error: the call already ran when an outcome receipt fails to
        be written, so by default (``"log"``) the error is logged at ERROR on
        the ``spinegate_semantic_kernel`` logger and the result is returned;
        ``"raise"`` raises `OutcomeNotRecorded` instead (and waits for each
        outcome's append, whatever the gate's `outcome_receipts`, so that
        the failure can be raised).
      model: the model name for the receipt's executor when Semantic Kernel's
        execution settings do not name one.
    """

    def __init__(self, gate: Gate, *, record_outcomes: bool = True, on_deny: OnDeny = "refuse",
                 on_outcome_error: OnOutcomeError = "log", model: str | None = None) -> None:
        if on_deny not in ("refuse", "terminate"):
            raise ValueError(f"on_deny must be 'refuse' or 'terminate', not {on_deny!r}")
        if on_outcome_error not in ("log", "raise"):
            raise ValueError(f"on_outcome_error must be 'log' or 'raise', not {on_outcome_error!r}")
        self.gate = gate
        self.record_outcomes = record_outcomes
        self.on_deny: OnDeny = on_deny
        self.on_outcome_error: OnOutcomeError = on_outcome_error
        self.model = model
        # Outcomes are appended without waiting (the gate's default) unless a failure must be raised.
        self._deferred = gate.defers_outcomes and on_outcome_error == "log"
        # Each auto-invoked call runs in its own asyncio task (Semantic Kernel gathers parallel
        # tool calls), so a context variable keeps their approvals apart; one per filter object.
        self._pending: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar(
            f"spinegate_sk_pending_{id(self):x}", default=None)

    # -- registration --------------------------------------------------------------

    def attach(self, kernel: Kernel) -> SpineFilter:
        """Register this filter on `kernel` for direct and model-chosen calls; returns self.

        Idempotent: attaching twice does not decide each call twice.
        """
        for filter_type, registered in ((FilterTypes.FUNCTION_INVOCATION, kernel.function_invocation_filters),
                                        (FilterTypes.AUTO_FUNCTION_INVOCATION,
                                         kernel.auto_function_invocation_filters)):
            if not any(f is self for _, f in registered):
                kernel.add_filter(filter_type, self)
        return self

    def detach(self, kernel: Kernel) -> None:
        """Remove this filter from `kernel` (both filter types)."""
        for registered in (kernel.function_invocation_filters, kernel.auto_function_invocation_filters):
            registered[:] = [(fid, f) for fid, f in registered if f is not self]

    def _governs_functions(self, kernel: Kernel) -> bool:
        """True when this filter is registered on `kernel` for FUNCTION_INVOCATION."""
        return any(f is self for _, f in kernel.function_invocation_filters)

    async def __call__(self, context: Context, next: Next) -> None:  # `next`: SK passes it by that name
        """The filter entry point Semantic Kernel calls, for either filter type.

        The FUNCTION_INVOCATION pass is written out here, in one coroutine:
        it runs on every call, and each coroutine layer costs about a
        microsecond next to a kernel.invoke of some 16.
        """
        if type(context) is not FunctionInvocationContext and isinstance(context, AutoFunctionInvocationContext):
            await self._auto(context, next)
            return
        pending = self._pending.get()
        if pending is not None and not pending.consumed:  # the function pass of a model-chosen call
            pending.consumed = True
            self._pending.set(None)  # a nested kernel.invoke inside the body is decided on its own
            decision = await self._confirm(context, pending)
            if not decision.approved:
                pending.refusal = decision  # the auto pass turns it into a readable refusal
        else:
            try:  # `_decide`, written out
                call = self.tool_call(context)
            except Exception as exc:  # noqa: BLE001 - fail closed: refuse, with a receipt
                _, decision = await self._unreadable(context, None, exc)
            else:
                decision = await self.gate.acheck(call)
        if not decision.approved:
            raise GovernanceVeto(decision)
        # Run the approved call (`next`), then record its outcome (a stream's, when it ends).
        try:
            await next(context)
        except BaseException as exc:
            await self._arecord(decision, error=exc, reraise_into=exc)
            raise
        if not self.record_outcomes:
            return
        result = context.result
        value = result.value if result is not None else None
        if result is not None and context.is_streaming and (inspect.isasyncgen(value) or inspect.isgenerator(value)):
            # The body runs as the caller iterates: record when the stream ends.
            result.value = (self._watch_async(value, decision) if inspect.isasyncgen(value)
                            else self._watch_sync(value, decision))
            return
        if self._deferred:  # sealed and queued: nothing waits on the disk, so no coroutine is needed
            self._record(decision, output=_output_text(value))
        else:
            await self._arecord(decision, output=_output_text(value))

    # -- translation ----------------------------------------------------------------

    def tool_call(self, context: Context, proposal_id: str | None = None) -> ToolCall:
        """The `ToolCall` for an SK filter context (SK objects left out, other objects as stand-ins)."""
        meta = context.function.metadata
        sanitized = sanitize_arguments(context.arguments)
        if sanitized.omitted:
            logger.debug("arguments of %s left out as not data: %s", context.function.fully_qualified_name,
                         ", ".join(sanitized.omitted))
        model = self.model
        if type(context) is FunctionInvocationContext:  # no such field: only a value set past pydantic
            settings = context.__dict__.get("execution_settings")  # (pydantic would raise and catch for it)
        else:
            settings = getattr(context, "execution_settings", None)
        if settings is not None:
            model = getattr(settings, "ai_model_id", None) or model
        return ToolCall(function=meta.name, plugin=meta.plugin_name, arguments=sanitized.data,
                        proposal_id=proposal_id, framework=FRAMEWORK, model=model)

    async def _decide(self, context: Context, proposal_id: str | None) -> tuple[ToolCall, Decision]:
        try:
            call = self.tool_call(context, proposal_id)
        except Exception as exc:  # noqa: BLE001 - fail closed: refuse, with a receipt
            return await self._unreadable(context, proposal_id, exc)
        return call, await self.gate.acheck(call)

    async def _unreadable(self, context: Context, proposal_id: str | None,
                          exc: Exception) -> tuple[ToolCall, Decision]:
        """Refuse, with a receipt, a call whose arguments could not be read (`exc`)."""
        meta = context.function.metadata
        call = ToolCall(function=meta.name, plugin=meta.plugin_name, proposal_id=proposal_id,
                        framework=FRAMEWORK, model=self.model)
        reason = f"{EVALUATION_EXCEPTION}: {type(exc).__name__}: {exc}"
        return call, await self.gate.adeny(call, reason, "the call's arguments could not be read")

    # -- FUNCTION_INVOCATION (the pass itself is in `__call__`) -------------------------

    async def _confirm(self, context: FunctionInvocationContext, pending: _Pending) -> Decision:
        """The auto pass's decision if this is still the call it decided, else a fresh decision.

        Another filter may have changed the function or its arguments in
        between: the call that will actually run is what gets decided.
        Arguments are compared by canonical hash, so ``1`` and ``True`` differ.
        """
        try:
            current = self.tool_call(context, pending.call.proposal_id)
            same = ((current.plugin, current.function) == (pending.call.plugin, pending.call.function)
                    and pending.arguments_sha256 is not None
                    and _arguments_digest(current.arguments) == pending.arguments_sha256)
        except Exception:  # noqa: BLE001 - decided afresh, which fails closed
            same = False
        if same:
            return pending.decision
        _, decision = await self._decide(context, pending.call.proposal_id)
        return decision

    async def _watch_async(self, stream: AsyncIterator[Any], decision: Decision) -> AsyncIterator[Any]:
        """Pass `stream` through, recording the outcome when it ends, fails or is closed."""
        parts: list[Any] = []
        try:
            async for item in stream:
                parts.append(item)
                yield item
        except GeneratorExit:  # the consumer stopped early: record what was produced (no await allowed here)
            self._record(decision, output=_output_text(parts))
            raise
        except BaseException as exc:
            await self._arecord(decision, error=exc)
            raise
        await self._arecord(decision, output=_output_text(parts))

    def _watch_sync(self, stream: Iterator[Any], decision: Decision) -> Iterator[Any]:
        """`_watch_async` for a synchronous generator."""
        parts: list[Any] = []
        try:
            for item in stream:
                parts.append(item)
                yield item
        except GeneratorExit:
            self._record(decision, output=_output_text(parts))
            raise
        except BaseException as exc:
            self._record(decision, error=exc)
            raise
        self._record(decision, output=_output_text(parts))

    def _record(self, decision: Decision, *, output: Any = None, error: BaseException | str | None = None,
                reraise_into: BaseException | None = None) -> None:
        """Write the outcome receipt; a failure is logged, or raised with ``on_outcome_error="raise"``.

        When the call itself failed (`reraise_into`), the call's own exception
        wins: the recording failure is logged and attached as a note.
        """
        if not self.record_outcomes:
            return
        try:
            self.gate.record_outcome(decision, output=output, error=error, deferred=self._deferred)
        except Exception as exc:  # noqa: BLE001
            self._not_recorded(decision, exc, reraise_into)

    async def _arecord(self, decision: Decision, *, output: Any = None, error: BaseException | str | None = None,
                       reraise_into: BaseException | None = None) -> None:
        """`_record` for async paths: never blocks the event loop on fsync."""
        if not self.record_outcomes:
            return
        try:
            await self.gate.arecord_outcome(decision, output=output, error=error, deferred=self._deferred)
        except Exception as exc:  # noqa: BLE001
            self._not_recorded(decision, exc, reraise_into)

    def _not_recorded(self, decision: Decision, exc: Exception, reraise_into: BaseException | None) -> None:
        logger.error("spinegate could not record the outcome of %s (decision receipt %s): %s: %s",
                     decision.tool_name, decision.receipt_id, type(exc).__name__, exc, exc_info=exc)
        if reraise_into is not None:
            reraise_into.add_note(f"spinegate could not record this outcome: {type(exc).__name__}: {exc}")
        elif self.on_outcome_error == "raise":
            raise OutcomeNotRecorded(decision, exc) from exc

    # -- AUTO_FUNCTION_INVOCATION ---------------------------------------------------------

    async def _auto(self, context: AutoFunctionInvocationContext, next: Next) -> None:
        fcc = context.function_call_content
        proposal_id = fcc.id if fcc is not None and fcc.id else None
        try:
            call, decision = await self._decide(context, proposal_id)
        except Exception as exc:  # the gate itself failed: nothing runs
            logger.error("spinegate could not decide %s: %s: %s", context.function.fully_qualified_name,
                         type(exc).__name__, exc, exc_info=exc)
            self._refuse(context, f"spinegate could not decide the call to {context.function.fully_qualified_name} "
                                  f"({type(exc).__name__}); the call did not run.", None)
            return
        if not decision.approved:
            self._refuse(context, decision.refusal_message(), decision)
            return
        pending = _Pending(call, decision, _arguments_digest(call.arguments))
        token = self._pending.set(pending)
        try:
            await next(context)
        finally:
            self._pending.reset(token)
        if pending.refusal is not None:
            # The function pass decided again (the call changed in between) and refused:
            # replace Semantic Kernel's generic error text with the readable refusal.
            self._refuse(context, pending.refusal.refusal_message(), pending.refusal)
        elif not pending.consumed and not self._governs_functions(context.kernel):
            # Registered for auto invocation only, so no function pass of ours records
            # the outcome: record it here from what the model will be told.
            value = context.function_result.value if context.function_result is not None else None
            if isinstance(value, str) and value.startswith(SK_ERROR_PREFIX):
                await self._arecord(decision, error=value)
            else:
                await self._arecord(decision, output=_output_text(value))

    def _refuse(self, context: AutoFunctionInvocationContext, message: str, decision: Decision | None) -> None:
        """Answer the model with `message` instead of running the call (and stop the loop if asked)."""
        metadata: dict[str, Any] = {DECISION_METADATA_KEY: decision} if decision is not None else {}
        context.function_result = FunctionResult(function=context.function.metadata, value=message,
                                                 metadata=metadata)
        if self.on_deny == "terminate":
            context.terminate = True
