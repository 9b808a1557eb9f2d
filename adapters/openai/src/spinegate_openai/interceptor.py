"""Gate the tool calls an OpenAI model proposes, run the approved ones, answer every call.

    interceptor = ToolCallInterceptor(gate, tools={"search": search})
    messages += [message.model_dump(exclude_none=True), *interceptor.handle(message)]   # Chat Completions
    next_input = interceptor.handle(response.output)                                    # Responses API

Every call the model proposes gets a receipt and an answer in the shape the
next request needs, in the model's order: a ``{"role": "tool", ...}`` message
per Chat Completions tool call, a ``{"type": "function_call_output", ...}``
item per Responses function call. A refused call answers with the reason and
the receipt id, and runs nothing; the conversation goes on.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import exceptions as jsonschema_exceptions
from jsonschema import validators as jsonschema_validators
from pydantic import BaseModel
from pydantic_core import to_json

from spinegate import Decision, Gate, Receipt, ToolCall
from spinegate.errors import SpinegateError
from spinegate.reasons import (  # the codes of calls refused before policy runs, and the gate's own
    ARGUMENTS_NOT_OBJECT,
    ARGUMENTS_SCHEMA_MISMATCH,
    INVALID_ARGUMENTS_JSON,
    MALFORMED_TOOL_CALL,
    NO_CALLABLE_FOR_TOOL,
    TOOL_NOT_IN_MANIFEST,
    UNSUPPORTED_TOOL_CALL_TYPE,
)

FRAMEWORK = "openai"
DETAIL_LIMIT = 500

# Responses API items the client must answer; every other item (reasoning,
# message, hosted tool calls the service already ran) needs no answer.
RESPONSES_CALL_TYPES = frozenset({
    "function_call", "custom_tool_call", "computer_call", "local_shell_call", "shell_call", "apply_patch_call",
})

ToolFunction = Callable[..., Any]


class UnrecognisedOutput(SpinegateError, TypeError):
    """`handle` was given something that is neither a chat message nor a Responses output."""


@dataclass(frozen=True, slots=True)
class CallResult:
    """What happened to one proposed call: its decision, what ran, what the model is told.

    `ran` is True only when the callable was invoked. `error` holds the
    exception a callable raised. `reply` is the message or item for the next
    request.
    """

    call_id: str | None
    name: str
    decision: Decision
    ran: bool
    output: str
    reply: dict[str, Any]
    error: BaseException | None = None
    outcome_receipt_id: str | None = None


@dataclass(slots=True)
class _Proposal:
    """One call as the model wrote it, normalised across the two APIs."""

    api: str  # "chat" or "responses"
    kind: str  # "function", or the unsupported type ("custom", "custom_tool_call", ...)
    call_id: str | None
    name: str | None
    raw_arguments: Any
    item_id: str | None = None  # Responses item id (local_shell_call_output answers by it)
    caller: Any = None  # Responses: the program that made the call, copied to the output


@dataclass(slots=True)
class _Planned:
    """A proposal after gating: either refused (decision denied or problem) or ready to run."""

    proposal: _Proposal
    decision: Decision
    function: ToolFunction | None
    arguments: dict[str, Any]
    detail: str | None = None


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Read a field from an SDK object or a plain dict alike.

    How a key of a class is read is learnt once (`_read_by`): a mapping's
    `get`, `getattr`, or, for a key that no pydantic model field or class
    attribute provides, straight from the instance's own and extra fields,
    which is where pydantic's `__getattr__` would find it (the SDK's models
    keep unknown fields as extras). That saves pydantic raising and catching
    an AttributeError for each field a message does not have (about 2 µs).
    """
    cls = type(obj)
    if cls is dict:  # the common case, without the slower abstract-class check
        return obj.get(key, default)
    how = _READ_BY.get((cls, key))
    if how is None:
        how = _read_by(cls, key)
    if how is _READ_ATTRIBUTE:
        return getattr(obj, key, default)
    if how is _READ_MAPPING:
        return obj.get(key, default)
    found = obj.__dict__.get(key, _ABSENT)  # a value set around pydantic's __setattr__ would be found first
    if found is not _ABSENT:
        return found
    try:
        extra = obj.__pydantic_extra__
    except AttributeError:  # a model not fully initialised: pydantic reads it as no extras
        return default
    return extra.get(key, default) if extra else default


_ABSENT = object()
_READ_ATTRIBUTE, _READ_MAPPING, _READ_EXTRA = "attribute", "mapping", "extra"
_READ_BY: dict[tuple[type, str], str] = {}


def _read_by(cls: type, key: str) -> str:
    """How `_get` reads `key` of a `cls` instance (see there), remembered per (class, key)."""
    if issubclass(cls, Mapping):
        how = _READ_MAPPING
    elif (issubclass(cls, BaseModel) and cls.__getattr__ is BaseModel.__getattr__  # type: ignore[attr-defined]
          and cls.__getattribute__ is object.__getattribute__ and key not in cls.model_fields
          and key not in cls.__private_attributes__ and not hasattr(cls, key)):
        how = _READ_EXTRA
    else:
        how = _READ_ATTRIBUTE
    if len(_READ_BY) >= 4096:  # classes and keys come from code, but stay bounded all the same
        _READ_BY.clear()
    _READ_BY[(cls, key)] = how
    return how


def serialise_result(value: Any) -> str:
    """A tool result as the model reads it: text as-is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return to_json(value, fallback=str).decode("utf-8")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: One decoder for every call (`json.loads` with options builds a new one each time).
_ARGUMENTS_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """The model's argument text as a JSON object: (arguments, None, None) or (None, reason code, detail).

    Empty text means no arguments. Never raises: text nested too deeply for
    the parser is refused like any other invalid JSON.
    """
    if not isinstance(raw, str):
        return None, INVALID_ARGUMENTS_JSON, "the arguments are not a JSON string"
    try:
        value = _ARGUMENTS_DECODER.decode(raw) if raw.strip() else {}
    except (ValueError, RecursionError) as exc:
        return None, INVALID_ARGUMENTS_JSON, f"the arguments are not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, ARGUMENTS_NOT_OBJECT, f"the arguments must be a JSON object, not {type(value).__name__}"
    return value, None, None


def schema_problem(validator: Any, name: str, arguments: Mapping[str, Any]) -> str | None:
    """Why `arguments` do not fit `name`'s JSON Schema (a jsonschema validator), or None if they do."""
    try:
        error = jsonschema_exceptions.best_match(validator.iter_errors(arguments))
    except RecursionError:
        return f"the arguments of {name!r} are nested too deeply to check against its parameters"
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"the arguments do not fit the parameters of {name!r} at {where}: {error.message}"


def parameters_from_specs(specs: Iterable[Any] | None) -> dict[str, dict[str, Any]]:
    """Map tool name -> JSON-schema parameters from the tool specs sent to the model.

    Accepts the Chat Completions form (``{"type": "function", "function": {...}}``)
    and the Responses form (``{"type": "function", "name": ..., "parameters": ...}``).
    """
    found: dict[str, dict[str, Any]] = {}
    for spec in specs or ():
        if _get(spec, "type", "function") != "function":
            continue
        body = _get(spec, "function") or spec
        name, params = _get(body, "name"), _get(body, "parameters")
        if isinstance(name, str) and isinstance(params, Mapping):
            found[name] = dict(params)
    return found


def _run_coroutine_sync(awaitable: Awaitable[Any]) -> Any:
    """Run an awaitable to completion from sync code, even under a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(_await(awaitable))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="spinegate-openai-async-tool")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class ToolCallInterceptor:
    """Stands between an OpenAI model's tool calls and the functions that carry them out.

    `tools` maps each function name the model may call to a sync or async
    callable, invoked with the model's arguments as keyword arguments. Tools
    are looked up in the manifest as (`plugin`, name); `plugin` is None by
    default (manifest entries with ``"plugin": null``).

    `parameters` maps tool names to the JSON Schema of their arguments (the
    ``parameters`` of the tool spec sent to the model; see
    `parameters_from_specs`); arguments that do not fit are refused with
    ARGUMENTS_SCHEMA_MISMATCH. A tool without a schema is checked against its
    callable's signature (names only, no types).
    """

    def __init__(
        self,
        gate: Gate,
        tools: Mapping[str, ToolFunction],
        *,
        plugin: str | None = None,
        record_outcomes: bool = True,
        parameters: Mapping[str, Mapping[str, Any]] | None = None,
        model: str | None = None,
    ) -> None:
        self.gate = gate
        self.tools = dict(tools)
        self.plugin = plugin
        self.record_outcomes = record_outcomes
        self.model = model
        self._validators: dict[str, Any] = {}
        for name, schema in (parameters or {}).items():
            self.set_parameters(name, schema)
        self._signatures: dict[str, inspect.Signature | None] = {}
        self._fitting: set[tuple[str, ...]] = set()  # (tool, argument names...) that bound to its signature

    # -- configuration ---------------------------------------------------------

    def set_parameters(self, name: str, schema: Mapping[str, Any]) -> None:
        """Validate `name`'s arguments against `schema` from now on. Raises SchemaError for a bad schema."""
        cls = jsonschema_validators.validator_for(schema, default=jsonschema_validators.Draft202012Validator)
        schema = dict(schema)
        cls.check_schema(schema)
        self._validators[name] = cls(schema)

    # -- public API --------------------------------------------------------------

    def handle(self, output: Any) -> list[dict[str, Any]]:
        """Gate, run and answer every call in `output`; return the next request's messages or items.

        Sync callables run one after another in the calling thread; async
        callables of the turn run concurrently on one event loop.
        """
        return [r.reply for r in self.process(output)]

    async def ahandle(self, output: Any) -> list[dict[str, Any]]:
        """`handle` for async code: the turn's approved calls run concurrently (sync ones in threads)."""
        return [r.reply for r in await self.aprocess(output)]

    def process(self, output: Any) -> list[CallResult]:
        """Like `handle`, but returns each call's decision and result as well as its reply."""
        proposals, model = self._proposals(output)
        planned = [self._plan(p, model) for p in proposals]
        outcomes: dict[int, tuple[Any, BaseException | None]] = {}
        coroutines: dict[int, Awaitable[Any]] = {}
        for i, plan in enumerate(planned):
            if not self._runnable(plan):
                continue
            try:
                value = plan.function(**plan.arguments)  # type: ignore[misc]
            except Exception as exc:  # noqa: BLE001 - reported to the model and the log
                outcomes[i] = (None, exc)
                continue
            if type(value) is not str and inspect.isawaitable(value):
                coroutines[i] = value
            else:
                outcomes[i] = (value, None)
        if coroutines:
            keys = list(coroutines)
            values = _run_coroutine_sync(_gather_settled([coroutines[k] for k in keys]))
            outcomes.update(zip(keys, values))
        return [self._finish(i, plan, outcomes) for i, plan in enumerate(planned)]

    async def aprocess(self, output: Any) -> list[CallResult]:
        """Like `ahandle`, but returns each call's decision and result as well as its reply."""
        proposals, model = self._proposals(output)
        planned = []
        for p in proposals:  # decided one by one, so receipts follow the model's order
            planned.append(await self._aplan(p, model))
        runnable = [i for i, plan in enumerate(planned) if self._runnable(plan)]
        values = await _gather_settled([self._arun(planned[i]) for i in runnable])
        outcomes = dict(zip(runnable, values))
        return [await self._afinish(i, plan, outcomes) for i, plan in enumerate(planned)]

    # -- reading the model's output ----------------------------------------------

    def _proposals(self, output: Any) -> tuple[list[_Proposal], str | None]:
        model = self.model
        if isinstance(output, (list, tuple)):
            return self._responses_proposals(output), model
        choices = _get(output, "choices")
        if choices is not None:  # a whole ChatCompletion
            model = model or _get(output, "model")
            if not choices:
                return [], model
            output = _get(choices[0], "message")
        items, role = _get(output, "output"), _get(output, "role")
        if (items is not None and role is None) or _get(output, "object") == "response":
            model = model or _get(output, "model")
            return self._responses_proposals(items or []), model
        tool_calls = _get(output, "tool_calls")
        if role is not None or tool_calls is not None:
            return self._chat_proposals(tool_calls or []), model
        raise UnrecognisedOutput(
            f"expected a Chat Completions assistant message (or ChatCompletion), a Responses output list "
            f"(or Response), got {type(output).__name__}")

    @staticmethod
    def _chat_proposals(tool_calls: Any) -> list[_Proposal]:
        found = []
        for tc in tool_calls if isinstance(tool_calls, (list, tuple)) else [tool_calls]:
            kind = _get(tc, "type") or "function"
            if kind == "function":
                fn = _get(tc, "function")
                found.append(_Proposal("chat", "function", _get(tc, "id"), _get(fn, "name"), _get(fn, "arguments")))
            else:
                kind = kind if isinstance(kind, str) else repr(kind)
                body = _get(tc, kind)
                found.append(_Proposal("chat", kind, _get(tc, "id"), _get(body, "name"), _get(body, "input")))
        return found

    @staticmethod
    def _responses_proposals(items: Sequence[Any]) -> list[_Proposal]:
        found = []
        for item in items:
            kind = _get(item, "type")
            if not isinstance(kind, str) or kind not in RESPONSES_CALL_TYPES:
                continue
            name = _get(item, "name")
            namespace = _get(item, "namespace")
            if namespace and isinstance(name, str):
                name = f"{namespace}.{name}"  # namespaced tools are distinct tools: register them so
            kind_word = "function" if kind == "function_call" else str(kind)
            args = _get(item, "arguments") if kind == "function_call" else _get(item, "input")
            found.append(_Proposal("responses", kind_word, _get(item, "call_id"), name or str(kind), args,
                                   _get(item, "id"), _get(item, "caller")))
        return found

    # -- deciding ------------------------------------------------------------------

    def _tool_call(self, p: _Proposal, model: str | None, arguments: Mapping[str, Any]) -> ToolCall:
        name = p.name if isinstance(p.name, str) and p.name else f"<{p.kind} call without a name>"
        return ToolCall(function=name, plugin=self.plugin, arguments=arguments,
                        proposal_id=p.call_id if isinstance(p.call_id, str) and p.call_id else None,
                        framework=FRAMEWORK, model=model)

    def _precheck(self, p: _Proposal, model: str | None) -> tuple[ToolCall, str | None, str | None,
                                                                  ToolFunction | None]:
        """Everything the adapter can refuse on its own: (call, reason, detail, function).

        A reason means the call is refused with `Gate.deny` (enforced even in
        shadow mode, since such a call cannot run); otherwise `function` is set
        and the gate decides.
        """
        raw = p.raw_arguments
        if p.kind != "function":
            return (self._tool_call(p, model, _as_given(raw)), UNSUPPORTED_TOOL_CALL_TYPE,
                    f"only function tool calls can be gated and run here, not {p.kind!r}", None)
        if not isinstance(p.call_id, str) or not p.call_id or not isinstance(p.name, str) or not p.name:
            return (self._tool_call(p, model, _as_given(raw)), MALFORMED_TOOL_CALL,
                    "the tool call has no call id or no function name", None)
        value, reason, detail = parse_arguments(raw)
        if value is None:
            return self._tool_call(p, model, _as_given(raw)), reason, detail, None
        call = self._tool_call(p, model, value)
        function = self.tools.get(p.name)
        if function is None:
            if self.gate.lookup(self.plugin, p.name) is None:
                return call, TOOL_NOT_IN_MANIFEST, f"the tool {p.name!r} is not in the manifest", None
            return call, NO_CALLABLE_FOR_TOOL, f"no function is registered for the tool {p.name!r}", None
        problem = self._arguments_problem(p.name, function, value)
        if problem is not None:
            return call, ARGUMENTS_SCHEMA_MISMATCH, problem, None
        return call, None, None, function

    def _arguments_problem(self, name: str, function: ToolFunction, arguments: dict[str, Any]) -> str | None:
        validator = self._validators.get(name)
        if validator is not None:
            return schema_problem(validator, name, arguments)
        if name not in self._signatures:
            try:
                self._signatures[name] = inspect.signature(function)
            except (TypeError, ValueError):
                self._signatures[name] = None
        signature = self._signatures[name]
        if signature is None:
            return None
        # Keyword binding depends on the names alone: a set of names that fitted once fits again.
        names = (name, *arguments)
        if names in self._fitting:
            return None
        try:
            signature.bind(**arguments)
        except TypeError as exc:
            return f"the arguments do not fit the signature of {name!r}: {exc}"
        if len(self._fitting) >= 4096:  # names come from the model: bounded
            self._fitting.clear()
        self._fitting.add(names)
        return None

    def _plan(self, p: _Proposal, model: str | None) -> _Planned:
        call, reason, detail, function = self._precheck(p, model)
        if reason is not None:
            return _Planned(p, self.gate.deny(call, reason, detail or reason), None, dict(call.arguments), detail)
        return _Planned(p, self.gate.check(call), function, dict(call.arguments))

    async def _aplan(self, p: _Proposal, model: str | None) -> _Planned:
        call, reason, detail, function = self._precheck(p, model)
        if reason is not None:
            return _Planned(p, await self.gate.adeny(call, reason, detail or reason), None, dict(call.arguments),
                            detail)
        return _Planned(p, await self.gate.acheck(call), function, dict(call.arguments))

    @staticmethod
    def _runnable(plan: _Planned) -> bool:
        return plan.decision.approved and plan.function is not None

    # -- running -----------------------------------------------------------------------

    @staticmethod
    async def _arun(plan: _Planned) -> Any:
        function = plan.function
        assert function is not None
        if inspect.iscoroutinefunction(function):
            return await function(**plan.arguments)
        value = await asyncio.to_thread(function, **plan.arguments)
        if inspect.isawaitable(value):
            value = await value
        return value

    # -- answering -----------------------------------------------------------------------

    @staticmethod
    def _result(index: int, outcomes: Mapping[int, tuple[Any, BaseException | None]]
                ) -> tuple[str | None, BaseException | None] | None:
        """(the result as the model reads it, or the error), or None when the call did not run."""
        if index not in outcomes:
            return None
        value, error = outcomes[index]
        if error is not None:
            return None, error
        try:
            return serialise_result(value), None
        except Exception as exc:  # noqa: BLE001 - a result that cannot be shown counts as a failure
            return None, exc

    def _finish(self, index: int, plan: _Planned, outcomes: Mapping[int, tuple[Any, BaseException | None]]
                ) -> CallResult:
        result = self._result(index, outcomes)
        if result is None:
            return self._refused(plan)
        text, error = result
        receipt = None
        if self.record_outcomes:
            gate = self.gate
            if error is None:  # `_recorded`, written out for the common case
                receipt = gate.try_record_outcome(plan.decision, output=text, deferred=gate.defers_outcomes)
            else:
                receipt = gate.try_record_outcome(plan.decision, error=error, deferred=gate.defers_outcomes)
        return self._answered(plan, text, error, receipt)

    async def _afinish(self, index: int, plan: _Planned, outcomes: Mapping[int, tuple[Any, BaseException | None]]
                       ) -> CallResult:
        """`_finish` for async paths: the outcome receipt never blocks the event loop on fsync."""
        result = self._result(index, outcomes)
        if result is None:
            return self._refused(plan)
        text, error = result
        receipt = await self.gate.atry_record_outcome(plan.decision, **_recorded(text, error),
                                                      deferred=self.gate.defers_outcomes) \
            if self.record_outcomes else None
        return self._answered(plan, text, error, receipt)

    @staticmethod
    def _refused(plan: _Planned) -> CallResult:
        p, decision = plan.proposal, plan.decision
        text = decision.refusal_message()
        if plan.detail:
            text += f" Detail: {plan.detail[:DETAIL_LIMIT]}"
        return CallResult(p.call_id, decision.call.function, decision, False, text, _reply(p, text))

    @staticmethod
    def _answered(plan: _Planned, text: str | None, error: BaseException | None,
                  receipt: Receipt | None) -> CallResult:
        p, decision = plan.proposal, plan.decision
        name = decision.call.function
        outcome_id = receipt.receipt_id if receipt is not None else None
        if error is not None:
            rid = outcome_id or decision.receipt_id
            text = (f"Error: the tool {name} failed: {type(error).__name__}: {str(error)[:DETAIL_LIMIT]} "
                    f"(receipt {rid or 'none'}).")
            return CallResult(p.call_id, name, decision, True, text, _reply(p, text), error, outcome_id)
        assert text is not None
        return CallResult(p.call_id, name, decision, True, text, _reply(p, text), None, outcome_id)


def _as_given(raw: Any) -> dict[str, Any]:
    """What a refused call records as its arguments: the text the model wrote."""
    return {"raw_arguments": raw if isinstance(raw, str) else serialise_result(raw)}


def _recorded(text: str | None, error: BaseException | None) -> dict[str, Any]:
    """`Gate.record_outcome` keyword arguments for a call's result or error."""
    return {"error": error} if error is not None else {"output": text}


async def _gather_settled(awaitables: Sequence[Awaitable[Any]]) -> list[tuple[Any, BaseException | None]]:
    """Await all concurrently; each becomes (value, None) or (None, exception). Cancellation propagates."""

    async def settle(aw: Awaitable[Any]) -> tuple[Any, BaseException | None]:
        try:
            return await aw, None
        except Exception as exc:  # noqa: BLE001
            return None, exc

    return list(await asyncio.gather(*(settle(a) for a in awaitables)))


def _reply(p: _Proposal, text: str) -> dict[str, Any]:
    """The message or item that answers one call in the next request."""
    if p.api == "chat":
        return {"role": "tool", "tool_call_id": p.call_id, "content": text}
    reply = _responses_reply(p, text)
    if p.caller is not None and "call_id" in reply:  # answer a program's call to that program
        dump = getattr(p.caller, "model_dump", None)
        reply["caller"] = dump(mode="json", exclude_none=True) if callable(dump) else p.caller
    return reply


def _responses_reply(p: _Proposal, text: str) -> dict[str, Any]:
    if p.kind == "function":
        return {"type": "function_call_output", "call_id": p.call_id, "output": text}
    if p.kind == "custom_tool_call":
        return {"type": "custom_tool_call_output", "call_id": p.call_id, "output": text}
    if p.kind == "apply_patch_call":
        return {"type": "apply_patch_call_output", "call_id": p.call_id, "status": "failed", "output": text}
    if p.kind == "shell_call":
        return {"type": "shell_call_output", "call_id": p.call_id,
                "output": [{"stdout": "", "stderr": text, "outcome": {"type": "exit", "exit_code": 1}}]}
    if p.kind == "local_shell_call":
        return {"type": "local_shell_call_output", "id": p.item_id or p.call_id,
                "output": json.dumps({"error": text})}
    # computer_call: the API only accepts a screenshot as its output, so the
    # refusal is recorded but the next request cannot carry it as text.
    return {"type": "function_call_output", "call_id": p.call_id, "output": text}
