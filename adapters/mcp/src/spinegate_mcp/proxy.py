"""The MCP gateway: one relay per client session, between the client and the upstream server.

Everything is relayed as JSON-RPC messages, unchanged, except:

- `tools/list` answers keep only the tools the manifest declares (plugin = the
  server's name, function = the tool's name) whose definitions match their pins;
- `tools/call` is decided by the gate first. A refusal is answered by the proxy
  as a tool result with `isError: true` and never reaches the server; an
  approved call is forwarded as the client sent it, and the server's answer is
  recorded as an outcome receipt and passed back as the server sent it.

Fail closed: a call whose arguments do not fit the tool's input schema, a tool
whose definition changed since it was pinned, or one the server does not list
is refused with a receipt; a `tools/call` sent as a notification is dropped;
nothing is forwarded before the session knows which server it talks to. Never
hang: every wait on the server is bounded (`call_timeout` for calls,
`request_timeout` for anything else), and a server that exits or stops
answering gets every waiting request answered with an error while the proxy
stays up.
"""

from __future__ import annotations

import itertools
import logging
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import anyio
from anyio.abc import TaskGroup
from jsonschema import exceptions as jsonschema_exceptions
from jsonschema import validators as jsonschema_validators
from mcp.shared.message import SessionMessage
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)

from spinegate import Decision, Gate, ToolCall
from spinegate.reasons import (
    ARGUMENTS_NOT_OBJECT,
    ARGUMENTS_SCHEMA_MISMATCH,
    MALFORMED_TOOL_CALL,
    TOOL_DEFINITION_CHANGED,
    TOOL_NOT_OFFERED,
)

from . import messages
from .channels import ClientChannel, Incoming, Malformed
from .elicitation import AskPerson, can_elicit, client_label
from .escalation import decide
from .pins import PinFileError, ToolPins, definition_hash
from .results import outcome_of_error, outcome_of_result, record_outcome, refusal_result, text_result
from .upstream import Upstream

log = logging.getLogger("spinegate_mcp")

FRAMEWORK = "mcp"

#: The governed methods: a request whose method differs from one of these only in case, spacing,
#: invisible characters or Unicode compatibility forms is refused rather than passed on to a server
#: that might accept it.
_GOVERNED = ("tools/call", "tools/list")
#: Pages of tools/list the proxy reads itself to find one tool's definition.
_MAX_LIST_PAGES = 100
#: Longest argument text quoted in a schema mismatch.
_DETAIL_LIMIT = 300


@dataclass
class ProxySettings:
    """How the relay behaves. `name` is the manifest's plugin for this server (default: its serverInfo.name)."""

    name: str | None = None
    call_timeout: float = 300.0
    request_timeout: float = 60.0
    #: Seconds requests in progress get to finish once the client's input has ended.
    shutdown_grace: float = 10.0


@dataclass(eq=False)
class _Pending:
    """A client request the relay has not answered yet."""

    message: JSONRPCMessage
    request: JSONRPCRequest
    kind: str  # "initialize", "tools/list", "tools/call" or "other"
    done: anyio.Event = field(default_factory=anyio.Event)
    reply: JSONRPCResponse | JSONRPCError | None = None
    reply_message: JSONRPCMessage | None = None  # the server's answer as it came
    forwarded: bool = False
    cancelled: bool = False
    progress_token: Any = None


@dataclass(eq=False)
class _Own:
    """A request the proxy itself sent (to the server or to the client), waiting for its answer."""

    done: anyio.Event = field(default_factory=anyio.Event)
    reply: JSONRPCResponse | JSONRPCError | None = None


class PeerError(Exception):
    """The server or the client did not answer a request of the proxy's own, or answered it with an error."""


def _hashable_id(value: Any) -> TypeGuard[RequestId]:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _skeleton(method: str) -> str:
    """`method` as a lenient server might read it: compatibility forms folded (NFKC: a fullwidth `t`), case
    folded, and whitespace, control and invisible format characters (NUL, zero-width space) removed."""
    folded = unicodedata.normalize("NFKC", method).casefold()
    return "".join(c for c in folded if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf"))


def _near_miss(method: str) -> bool:
    """True for a method that is not a governed one but reads as one to a lenient server (`Tools/Call `,
    `tools/call\\u0000`): refused rather than passed on to a server that might run it."""
    return method not in _GOVERNED and _skeleton(method) in _GOVERNED


class Relay:
    """Stands between one client session and one upstream connection. `await relay.run()` until the client leaves."""

    def __init__(self, gate: Gate, upstream: Upstream, client: ClientChannel, *,
                 settings: ProxySettings | None = None, pins: ToolPins | None = None) -> None:
        self.gate = gate
        self.upstream = upstream
        self.client = client
        self.settings = settings or ProxySettings()
        self.pins = pins if pins is not None else ToolPins()
        self.server_name: str | None = self.settings.name
        self._client_can_elicit = False
        self._client_label = "the MCP client"
        self._tools: dict[str, dict[str, Any]] = {}   # declared, pin-checked definitions by tool name
        self._changed: dict[str, str] = {}             # tool name -> why its definition is refused
        self._validators: dict[tuple[str, str], Any] = {}
        self._pending: dict[RequestId, _Pending] = {}
        self._own: dict[str, _Own] = {}
        self._ids = itertools.count(1)
        self._id_prefix = f"spinegate-{uuid.uuid4().hex[:12]}-"
        self._closing = False
        self._initialized = anyio.Event()  # set when the server has answered initialize
        self._tg: TaskGroup | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        """Relay until the client disconnects, then close the upstream connection."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            await tg.start(self.upstream.run, self._from_upstream, self._upstream_gone)
            try:
                async for item in self.client.incoming():
                    try:
                        await self._from_client(item)
                    except Exception:  # one message must not end the session
                        log.exception("spinegate-mcp: a message from the client could not be handled")
                await self._let_requests_finish()
            finally:
                self._closing = True
                with anyio.CancelScope(shield=True):
                    await self.upstream.close()
                tg.cancel_scope.cancel()

    async def _let_requests_finish(self) -> None:
        """After the client's input ended: give requests in progress `shutdown_grace` seconds to finish,
        so that their answers are written (to a client still reading) and their outcomes recorded."""
        with anyio.move_on_after(self.settings.shutdown_grace):
            while self._pending:
                await anyio.sleep(0.02)

    # -- from the client ----------------------------------------------------------------

    async def _from_client(self, item: Incoming) -> None:
        if isinstance(item, Malformed):
            log.warning("spinegate-mcp: the client sent a malformed message: %s", item.message)
            if item.answer:
                await self.client.send_malformed_answer(item)
            return
        root = item.message.root
        if isinstance(root, JSONRPCRequest):
            await self._client_request(item.message, root)
        elif isinstance(root, JSONRPCNotification):
            await self._client_notification(item.message, root)
        else:
            await self._client_reply(item.message, root)

    async def _client_request(self, message: JSONRPCMessage, request: JSONRPCRequest) -> None:
        rid = request.id
        if not _hashable_id(rid):
            await self.client.send_malformed_answer(Malformed(None, INVALID_REQUEST,
                                                              "Invalid Request: the id must be a string or an integer"))
            return
        if rid in self._pending:
            await self.client.send(messages.error(
                rid, INVALID_REQUEST, f"Invalid Request: id {rid!r} is already used by a request in progress"))
            return
        method = request.method
        if _near_miss(method):
            await self.client.send(messages.error(rid, METHOD_NOT_FOUND,
                                                  f"Method not found: {method!r} (the proxy accepts only the exact "
                                                  "method names tools/call and tools/list)"))
            return
        kind = method if method in ("initialize", "tools/list", "tools/call") else "other"
        pending = _Pending(message, request, kind)
        self._pending[rid] = pending
        if kind == "tools/call":
            assert self._tg is not None
            self._tg.start_soon(self._call_tool, pending)
            return
        if kind == "initialize":
            self._client_can_elicit = can_elicit(request.params)
            self._client_label = client_label(request.params)
        pending.progress_token = _progress_token(request.params)
        await self._forward(pending)
        if not pending.done.is_set():
            assert self._tg is not None
            self._tg.start_soon(self._expire, pending)

    async def _client_notification(self, message: JSONRPCMessage, note: JSONRPCNotification) -> None:
        method = note.method
        if method in _GOVERNED or _near_miss(method):
            log.warning("spinegate-mcp: dropped a %r notification: a tool call must be a request, "
                        "so that it can be decided and answered", method)
            return
        if method == "notifications/cancelled":
            rid = (note.params or {}).get("requestId")
            pending = self._pending.pop(rid, None) if _hashable_id(rid) else None
            if pending is not None:
                pending.cancelled = True
                pending.done.set()
                if not pending.forwarded:  # still being decided: the server never saw it
                    return
        await self._send_upstream(message)

    async def _client_reply(self, message: JSONRPCMessage, reply: JSONRPCResponse | JSONRPCError) -> None:
        if self._is_own(reply):
            return
        await self._send_upstream(message)

    # -- from the server ------------------------------------------------------------------

    async def _from_upstream(self, item: SessionMessage | Exception) -> None:
        try:
            await self._relay_from_upstream(item)
        except Exception:  # a failure here is the proxy's, not the server's: the connection stays
            log.exception("spinegate-mcp: a message from the server could not be handled")

    async def _relay_from_upstream(self, item: SessionMessage | Exception) -> None:
        if isinstance(item, Exception):
            log.warning("spinegate-mcp: %s sent something that is not JSON-RPC: %s", self.upstream.description, item)
            return
        message = item.message
        root = message.root
        if isinstance(root, (JSONRPCResponse, JSONRPCError)):
            await self._upstream_reply(message, root)
        elif isinstance(root, JSONRPCNotification):
            if root.method == "notifications/tools/list_changed":
                self._tools.clear()  # definitions are read (and pin-checked) again before the next call
            await self.client.send(message, self._related_id(root))
        else:
            await self.client.send(message, self._single_forwarded_id())

    async def _upstream_reply(self, message: JSONRPCMessage, reply: JSONRPCResponse | JSONRPCError) -> None:
        if self._is_own(reply):
            return
        pending = self._pending.get(reply.id) if _hashable_id(reply.id) else None
        if pending is None or not pending.forwarded:
            log.info("spinegate-mcp: dropped an answer to request %r, which is no longer waiting", reply.id)
            return
        pending.reply = reply
        pending.reply_message = message
        if pending.kind == "tools/call":
            pending.done.set()  # the call's task records the outcome and answers
            return
        del self._pending[reply.id]
        pending.done.set()
        if pending.kind == "initialize":
            if isinstance(reply, JSONRPCResponse):
                self._learn_server(reply.result)
            self._initialized.set()
        elif pending.kind == "tools/list" and isinstance(reply, JSONRPCResponse):
            message = messages.response(reply.id, self._filter_tools(reply.result))
        await self.client.send(message)

    async def _upstream_gone(self, reason: str) -> None:
        if self._closing:
            return
        log.error("spinegate-mcp: %s", reason)
        self._initialized.set()
        for own in self._own.values():
            own.done.set()
        for rid, pending in list(self._pending.items()):
            if not pending.forwarded or pending.reply is not None:
                continue
            if pending.kind == "tools/call":
                pending.done.set()  # its task answers, and records what is known
                continue
            del self._pending[rid]
            pending.done.set()
            await self.client.send(messages.error(rid, messages.UPSTREAM_UNAVAILABLE,
                                                  f"{reason}; the request was not answered"))

    # -- tools/list ---------------------------------------------------------------------------

    def _learn_server(self, result: Mapping[str, Any]) -> None:
        if self.server_name is not None:
            return
        info = result.get("serverInfo")
        name = info.get("name") if isinstance(info, Mapping) else None
        if isinstance(name, str) and name:
            self.server_name = name
        else:
            log.error("spinegate-mcp: the server's initialize answer has no serverInfo.name; no tool is offered "
                      "or called until the proxy is started with --name")

    def _filter_tools(self, result: Mapping[str, Any]) -> dict[str, Any]:
        """The tools/list result with only declared tools whose definitions match their pins."""
        tools = result.get("tools")
        kept: list[Any] = []
        server = self.server_name
        if isinstance(tools, list) and server is not None:
            for tool in tools:
                try:
                    admitted = self._admit(server, tool)
                except Exception:  # a tool that cannot be checked is not offered
                    log.exception("spinegate-mcp: hid a tool that could not be checked")
                    admitted = False
                if admitted:
                    kept.append(tool)
            # one name, two definitions: which one the model reads and which one runs is the server's
            # choice, so neither is offered or called
            # (an undeclared name is refused before this matters)
            for name in _names_listed_twice(tools):
                self._changed[name] = "the server lists more than one definition under this name"
                self._tools.pop(name, None)
            kept = [tool for tool in kept if tool["name"] not in self._changed]
        return {**result, "tools": kept}

    def _admit(self, server: str, tool: Any) -> bool:
        """True when `tool` is declared and its definition matches its pin (which is recorded if new)."""
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return False
        name = tool["name"]
        if self.gate.lookup(server, name) is None:
            return False
        try:
            check = self.pins.check(server, tool)
        except PinFileError as exc:
            self._changed[name] = f"its definition could not be checked against the pin file: {exc}"
            self._tools.pop(name, None)
            log.error("spinegate-mcp: %s", exc)
            return False
        if check.changed:
            self._changed[name] = (f"its definition (name, description, input schema) changed since it was pinned "
                                   f"(pinned sha256 {check.pinned}, now {check.current})")
            self._tools.pop(name, None)
            log.warning("spinegate-mcp: hid %s.%s: %s", server, name, self._changed[name])
            return False
        self._changed.pop(name, None)
        self._tools[name] = tool
        return True

    async def _definition(self, name: str) -> dict[str, Any] | None:
        """The server's current definition of `name`, reading its tool list when it is not known yet."""
        if name in self._tools or name in self._changed:
            return self._tools.get(name)
        params: dict[str, Any] | None = None
        for _ in range(_MAX_LIST_PAGES):
            result = await self._request_upstream("tools/list", params)
            self._filter_tools(result)
            cursor = result.get("nextCursor")
            if name in self._tools or name in self._changed or not (isinstance(cursor, str) and cursor):
                break
            params = {"cursor": cursor}
        return self._tools.get(name)

    # -- tools/call ---------------------------------------------------------------------------

    async def _call_tool(self, pending: _Pending) -> None:
        """Decide, then forward or refuse, one tools/call (a task of its own)."""
        try:
            await self._decide_and_run(pending)
        except Exception:  # answer the client; the session goes on
            log.exception("spinegate-mcp: the proxy failed while handling tools/call %r", pending.request.id)
            if self._pending.pop(pending.request.id, None) is pending:
                await self.client.send(messages.error(
                    pending.request.id, INTERNAL_ERROR, "spinegate-mcp failed while handling this call (its log on "
                    "stderr says why); the receipt log shows whether it was decided and forwarded"))

    async def _decide_and_run(self, pending: _Pending) -> None:
        request = pending.request
        rid = request.id
        if self.server_name is None and any(p.kind == "initialize" for p in self._pending.values()):
            with anyio.move_on_after(self.settings.request_timeout):  # a client that did not wait for it
                await self._initialized.wait()
        if self.server_name is None:
            self._pending.pop(rid, None)
            await self.client.send(messages.error(rid, INVALID_REQUEST, "the session is not initialized (or the "
                                                  "server gave no name): no tool can be called yet"))
            return
        decision = await self._decide(pending)
        if pending.cancelled:
            return
        if not decision.approved:
            self._pending.pop(rid, None)
            await self.client.send(messages.response(rid, refusal_result(decision)))
            return
        await self._run_approved(pending, decision)

    async def _decide(self, pending: _Pending) -> Decision:
        """The gate's decision on the call, with its receipt; refusals the gate cannot see are recorded too."""
        server = self.server_name
        assert server is not None
        params = pending.request.params or {}
        name, arguments = params.get("name"), params.get("arguments")
        if arguments is None:
            arguments = {}
        if not isinstance(name, str) or not name:
            call = ToolCall(function="<unnamed tool>", plugin=server, framework=FRAMEWORK)
            return await self.gate.adeny(call, MALFORMED_TOOL_CALL,
                                         "the tools/call request has no tool name (params.name must be a string)")
        if not isinstance(arguments, dict):
            call = ToolCall(function=name, plugin=server, framework=FRAMEWORK)
            return await self.gate.adeny(call, ARGUMENTS_NOT_OBJECT,
                                         f"params.arguments must be a JSON object, not {type(arguments).__name__}")
        call = ToolCall(function=name, plugin=server, arguments=arguments, framework=FRAMEWORK)
        if self.gate.lookup(server, name) is None:
            return await self.gate.acheck(call)  # TOOL_NOT_IN_MANIFEST, recorded like any decision
        try:
            definition = await self._definition(name)
        except PeerError as exc:
            return await self.gate.adeny(call, TOOL_NOT_OFFERED,
                                         f"the server's tool list could not be read to check {name}: {exc}")
        if name in self._changed:
            return await self.gate.adeny(call, TOOL_DEFINITION_CHANGED, f"{server}.{name}: {self._changed[name]}")
        if definition is None:
            return await self.gate.adeny(call, TOOL_NOT_OFFERED,
                                         f"the server {server!r} does not list a tool named {name!r}")
        problem = self._schema_problem(name, definition, arguments)
        if problem is not None:
            return await self.gate.adeny(call, ARGUMENTS_SCHEMA_MISMATCH, problem)
        ask = self._elicitation_for(pending) if self._client_can_elicit else None
        return await decide(self.gate, call, ask, self._client_label)

    def _schema_problem(self, name: str, definition: Mapping[str, Any], arguments: Mapping[str, Any]) -> str | None:
        """Why `arguments` do not fit the tool's input schema, or None when they do."""
        schema = definition.get("inputSchema")
        if not isinstance(schema, dict):
            return f"the tool {name!r} has no usable input schema (inputSchema must be a JSON object)"
        key = (name, definition_hash(definition))
        validator = self._validators.get(key)
        try:
            if validator is None:
                cls = jsonschema_validators.validator_for(schema, default=jsonschema_validators.Draft202012Validator)
                cls.check_schema(schema)
                validator = self._validators[key] = cls(schema)
            error = jsonschema_exceptions.best_match(validator.iter_errors(arguments))
        except jsonschema_exceptions.SchemaError as exc:
            return f"the input schema of {name!r} is not a valid JSON Schema: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - an unresolvable $ref, nesting too deep: fail closed
            return (f"the arguments of {name!r} could not be checked against its input schema: "
                    f"{type(exc).__name__}: {exc}")
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path) or "(the arguments object)"
        message = error.message if len(error.message) <= _DETAIL_LIMIT else error.message[:_DETAIL_LIMIT] + "..."
        return f"the arguments do not fit the input schema of {name!r} at {where}: {message}"

    async def _run_approved(self, pending: _Pending, decision: Decision) -> None:
        """Forward an approved call, wait (bounded) for the server's answer, record it, pass it on."""
        rid = pending.request.id
        pending.progress_token = _progress_token(pending.request.params)
        outcome: dict[str, Any] | None = None
        try:
            problem = await self._forward(pending)
            if problem is not None:
                outcome = {"error": f"the call was not forwarded: {problem}"}
                await self._answer_call(pending, text_result(
                    f"The call to {decision.tool_name} was approved (receipt {decision.receipt_id}) but could not be "
                    f"sent: {problem}. Nothing ran.", is_error=True))
                return
            with anyio.move_on_after(self.settings.call_timeout):
                await pending.done.wait()
            reply = pending.reply
            if pending.cancelled:
                outcome = {"error": "the client cancelled the call after it was forwarded; whether it completed "
                                    "is not known"}
            elif reply is None and self.upstream.gone is not None:
                outcome = {"error": f"no answer: {self.upstream.gone}"}
                await self._answer_call(pending, text_result(
                    f"The call to {decision.tool_name} was forwarded, but {self.upstream.gone} before answering; "
                    f"whether it completed is not known (receipt {decision.receipt_id}).", is_error=True))
            elif reply is None:
                seconds = f"{self.settings.call_timeout:g}"
                outcome = {"error": f"no answer within {seconds} s; the proxy cancelled the call"}
                await self._send_upstream(messages.cancelled(rid, f"spinegate: no answer within {seconds} s"))
                await self._answer_call(pending, text_result(
                    f"The MCP server did not answer the call to {decision.tool_name} within {seconds} s; the proxy "
                    f"cancelled it. Whether it completed is not known (receipt {decision.receipt_id}).",
                    is_error=True))
            else:
                outcome = outcome_of_result(reply.result) if isinstance(reply, JSONRPCResponse) \
                    else outcome_of_error(reply.error.code, reply.error.message)
                record_outcome(self.gate, decision, outcome)
                outcome = None
                self._pending.pop(rid, None)
                await self.client.send(pending.reply_message or JSONRPCMessage(reply))
        finally:
            self._pending.pop(rid, None)
            if outcome is not None:
                record_outcome(self.gate, decision, outcome)

    async def _answer_call(self, pending: _Pending, result: dict[str, Any]) -> None:
        self._pending.pop(pending.request.id, None)
        pending.done.set()
        await self.client.send(messages.response(pending.request.id, result))

    # -- plumbing ---------------------------------------------------------------------------------

    async def _forward(self, pending: _Pending) -> str | None:
        """Send the client's request to the server as it came; None, or why it could not be sent.

        A request other than a call is answered with an error at once when it cannot be sent;
        a call's task answers its own.
        """
        pending.forwarded = True
        problem = await self.upstream.send(pending.message)
        if problem is None or pending.kind == "tools/call":
            return problem
        if self._pending.pop(pending.request.id, None) is pending:
            pending.done.set()
            await self.client.send(messages.error(pending.request.id, messages.UPSTREAM_UNAVAILABLE,
                                                  f"{problem}; the request was not answered"))
        return problem

    async def _send_upstream(self, message: JSONRPCMessage) -> None:
        problem = await self.upstream.send(message)
        if problem is not None:
            log.warning("spinegate-mcp: a message for the server was dropped: %s", problem)

    async def _expire(self, pending: _Pending) -> None:
        """Answer `pending` with an error if the server has not answered it within `request_timeout`."""
        seconds = self.settings.request_timeout
        with anyio.move_on_after(seconds):
            await pending.done.wait()
            return
        rid = pending.request.id
        if self._pending.get(rid) is not pending:
            return
        del self._pending[rid]
        pending.done.set()
        await self._send_upstream(messages.cancelled(rid, f"spinegate: no answer within {seconds:g} s"))
        await self.client.send(messages.error(rid, messages.REQUEST_TIMEOUT,
                                              f"the MCP server did not answer {pending.request.method} within "
                                              f"{seconds:g} s; the proxy cancelled the request"))

    def _is_own(self, reply: JSONRPCResponse | JSONRPCError) -> bool:
        """True for an answer to a request of the proxy's own (handed to its waiter, or dropped when late)."""
        rid = reply.id
        if not (isinstance(rid, str) and rid.startswith(self._id_prefix)):
            return False
        own = self._own.get(rid)
        if own is not None:
            own.reply = reply
            own.done.set()
        else:
            log.info("spinegate-mcp: dropped a late answer to the proxy's own request %s", rid)
        return True

    def _new_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    async def _request_upstream(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        """A request of the proxy's own to the server; its result, or PeerError."""
        reply = await self._own_request(method, params, self.settings.request_timeout, to_client=False)
        if isinstance(reply, JSONRPCError):
            raise PeerError(f"the server answered {method} with error {reply.error.code}: {reply.error.message}")
        return reply.result

    def _elicitation_for(self, pending: _Pending) -> AskPerson:
        """Asks the person through the client, on the stream of the call `pending` (HTTP routing).

        When the client cancels the call meanwhile, the question is withdrawn (the
        client is sent `notifications/cancelled` for it) and the call is refused:
        an answer that came later would approve a call that can no longer run.
        """
        call_id = pending.request.id

        async def ask(message: str, schema: dict[str, Any], timeout: float) -> Mapping[str, Any]:
            reply: JSONRPCResponse | JSONRPCError | None = None
            problem: PeerError | None = None
            async with anyio.create_task_group() as tg:
                async def asking() -> None:
                    nonlocal reply, problem
                    try:
                        reply = await self._own_request(
                            "elicitation/create", {"mode": "form", "message": message, "requestedSchema": schema},
                            timeout, to_client=True, related_request_id=call_id)
                    except PeerError as exc:
                        problem = exc
                    tg.cancel_scope.cancel()

                async def until_cancelled() -> None:
                    await pending.done.wait()  # before forwarding, only the client's cancellation sets it
                    tg.cancel_scope.cancel()

                tg.start_soon(asking)
                tg.start_soon(until_cancelled)
            if problem is not None:
                raise problem
            if pending.cancelled or reply is None:
                raise PeerError("the client cancelled the call while the person was being asked")
            if isinstance(reply, JSONRPCError):
                raise PeerError(f"the client answered the elicitation with error {reply.error.code}: "
                                    f"{reply.error.message}")
            return reply.result

        return ask

    async def _own_request(self, method: str, params: dict[str, Any] | None, timeout: float, *, to_client: bool,
                           related_request_id: RequestId | None = None) -> JSONRPCResponse | JSONRPCError:
        """Send a request of the proxy's own and wait (at most `timeout`) for the answer.

        When it ends without one (a timeout, or the waiting task was cancelled, as
        the gate does when its approval timeout runs out) the other side is told
        with `notifications/cancelled`, so that a client stops asking its person.
        """
        rid = self._new_id()
        own = self._own[rid] = _Own()
        where = "the client" if to_client else "the server"
        sent = False
        try:
            if to_client:
                await self.client.send(messages.request(rid, method, params), related_request_id)
            else:
                problem = await self.upstream.send(messages.request(rid, method, params))
                if problem is not None:
                    raise PeerError(problem)
            sent = True
            with anyio.move_on_after(timeout):
                await own.done.wait()
            if own.reply is None:
                if not to_client and self.upstream.gone is not None:
                    raise PeerError(self.upstream.gone)
                raise PeerError(f"{where} did not answer {method} within {timeout:g} s")
            return own.reply
        finally:
            self._own.pop(rid, None)
            if sent and own.reply is None and not self._closing:
                with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                    cancel = messages.cancelled(rid, "spinegate: no longer waiting for an answer")
                    if to_client:
                        await self.client.send(cancel, related_request_id)
                    else:
                        await self._send_upstream(cancel)

    def _related_id(self, note: JSONRPCNotification) -> RequestId | None:
        """The client request a server notification belongs to (progress by its token), for HTTP routing."""
        if note.method == "notifications/progress":
            token = (note.params or {}).get("progressToken")
            if token is not None:
                for rid, pending in self._pending.items():
                    if pending.progress_token == token:
                        return rid
        return self._single_forwarded_id()

    def _single_forwarded_id(self) -> RequestId | None:
        """The one forwarded request in progress, if exactly one is: what a server message most likely belongs to."""
        found: RequestId | None = None
        for rid, pending in self._pending.items():
            if pending.forwarded:
                if found is not None:
                    return None
                found = rid
        return found


def _names_listed_twice(tools: list[Any]) -> set[str]:
    """The tool names that more than one entry of a tools/list page carries."""
    seen: set[str] = set()
    twice: set[str] = set()
    for tool in tools:
        name = tool.get("name") if isinstance(tool, dict) else None
        if isinstance(name, str):
            (twice if name in seen else seen).add(name)
    return twice


def _progress_token(params: Mapping[str, Any] | None) -> Any:
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    return meta.get("progressToken") if isinstance(meta, Mapping) else None


