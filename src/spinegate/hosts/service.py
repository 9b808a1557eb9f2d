"""The hook service: one gate per agent session, every host's events answered the same way.

    service = HookService(manifest_path, store, project=...)
    reply = service.handle(host, event)

Before a tool: the call is decided (`Gate.check`, with the host asking its
person when it can) and answered in the host's format; an approved or
escalated decision is remembered until its outcome arrives. After a tool:
the outcome receipt, tied to its decision by the host's tool-call id (or,
for hosts without one, by tool and arguments); a decision this process did
not make (an earlier hook process, a restarted helper) is found in the
session's receipts. A person's prompt: the session goes back to the
manifest's posture with its risk reset (a `posture` receipt), if it had
moved. MCP tools of servers behind `spinegate mcp-proxy` pass through: the
proxy decides them (one call, one decision).

Used by the resident helper (many requests, gates kept open) and by
`spinegate hook --in-process` (one request). Thread-safe.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from ..canonical import arguments_hash
from ..decision import Decision, ToolCall, Verdict
from ..effects import EffectClass, Posture
from ..gate import Gate
from ..manifest import Manifest
from ..manifest_file import load_manifest
from ..receipt_kinds import DECISION, ESCALATION
from ..receipts import Receipt
from ..store import ReceiptStore
from . import host_named
from .base import Host
from .events import EventKind, HookEvent, HookInputError, HookReply
from .mcp_servers import ProxiedServers

log = logging.getLogger("spinegate")

#: Sessions a helper keeps open at once (the least recently used is closed first; it resumes from the log).
MAX_SESSIONS = 256
#: Decisions waiting for their outcome, per service.
MAX_PENDING = 4096


class HookService:
    """Gates for a project's agent sessions, on one manifest and one receipt store."""

    def __init__(self, manifest_path: str, store: ReceiptStore, *, project: str | None = None,
                 gate_options: dict[str, Any] | None = None) -> None:
        self.manifest_path = manifest_path
        self.store = store
        self.project = project
        self.gate_options = dict(gate_options or {})
        self._manifest: Manifest | None = None
        self._gates: OrderedDict[str | None, Gate] = OrderedDict()
        self._cwds: dict[str | None, str] = {}
        self._pending: OrderedDict[tuple[str, str, str], Decision] = OrderedDict()
        self._lock = threading.RLock()
        self._proxied = ProxiedServers(project) if project is not None else None

    # -- gates ---------------------------------------------------------------------------------

    def manifest(self) -> Manifest:
        """The manifest new gates decide by (loaded and verified once; again after a reload)."""
        with self._lock:
            if self._manifest is None:
                self._manifest = load_manifest(self.manifest_path)
            return self._manifest

    def gate(self, session_id: str | None, cwd: str | None = None) -> Gate:
        """The open gate of `session_id`, working in `cwd` (continuing its chain from the log the first time).

        A session whose agent moved to another directory gets its gate
        reopened there (the chain continues from the log): relative paths in
        its calls resolve against where the agent works now, while the
        manifest's writable roots, readable secrets and the patterns anchored
        at the project stay the project's (`project_dir`).
        """
        where = self.working_dir(cwd)
        with self._lock:
            gate = self._gates.get(session_id)
            if gate is not None and self._cwds.get(session_id) == where:
                self._gates.move_to_end(session_id)
                return gate
            if gate is not None:
                del self._gates[session_id]
                gate.close()
            gate = Gate.open(self.manifest(), receipts=self.store, session_id=session_id, working_dir=where,
                             project_dir=self.project, **self.gate_options)
            self._gates[session_id] = gate
            self._cwds[session_id] = where
            while len(self._gates) > MAX_SESSIONS:
                oldest_id, oldest = self._gates.popitem(last=False)
                self._cwds.pop(oldest_id, None)
                oldest.close()
            return gate

    def working_dir(self, cwd: str | None) -> str:
        """Where a session's agent works: the payload's absolute `cwd`, else the project.

        Only the calls' relative paths are taken from there: the writable
        roots (`.` by default) stay the project's, so an agent that moved to
        a subdirectory may still edit the whole project, and one that moved
        out of it (`cd /`, a directory added with `--add-dir`) carries no
        writable root along.
        """
        if cwd is None or not os.path.isabs(cwd):
            return self.project or os.getcwd()
        return cwd

    def sessions(self) -> list[str | None]:
        with self._lock:
            return list(self._gates)

    # -- events --------------------------------------------------------------------------------

    def answer(self, host_name: str, raw: bytes | str, cwd: str | None = None) -> HookReply:
        """The reply to one hook invocation of `host_name` whose standard input was `raw`.

        `cwd` is the hook process's working directory, used when the payload
        names none. Bad input is refused like a call that cannot be decided.
        """
        try:
            host = host_named(host_name)
        except ValueError as exc:
            return HookReply.block(f"spinegate blocked this call: {exc}")
        try:
            event = host.parse(raw)
        except HookInputError as exc:
            return host.failed(None, f"the hook's input is not a {host.name} hook event: {exc}")
        if event.cwd is None and cwd:
            event = replace(event, cwd=cwd)
        return self.handle(host, event)

    def handle(self, host: Host, event: HookEvent) -> HookReply:
        """The host's answer to `event`. Never raises: what cannot be decided is blocked (before a tool)."""
        try:
            if event.kind is EventKind.BEFORE_TOOL:
                return self._before(host, event)
            if event.kind in (EventKind.AFTER_TOOL, EventKind.TOOL_FAILED):
                return self._after(host, event)
            if event.kind is EventKind.PROMPT:
                return self._prompt(host, event)
            return host.acknowledged(event)
        except Exception as exc:  # noqa: BLE001 - fail closed: a broken manifest or log blocks the call
            log.warning("hook %s %s failed: %s: %s", host.name, event.kind, type(exc).__name__, exc)
            return host.failed(event, f"{type(exc).__name__}: {exc}")

    def _before(self, host: Host, event: HookEvent) -> HookReply:
        call = event.call
        assert call is not None
        if event.mcp_server is not None and self._proxied is not None \
                and self._proxied.decides(event.mcp_server, event.mcp_source):
            return host.passed_through(event, f"decided by spinegate mcp-proxy --name {event.mcp_server}")
        gate = self.gate(event.session_id, event.cwd)
        decision = gate.check(call, host_approval=host.can_ask)
        if decision.approved or decision.escalated:
            self._remember(event, decision)
        return host.decided(event, decision)

    def _after(self, host: Host, event: HookEvent) -> HookReply:
        call = event.call
        assert call is not None
        if event.mcp_server is not None and self._proxied is not None \
                and self._proxied.decides(event.mcp_server, event.mcp_source):
            return host.acknowledged(event)  # the proxy recorded the outcome
        gate = self.gate(event.session_id, event.cwd)
        decision = self._recall(event) or self._find_decision(gate, event)
        if decision is None:
            log.warning("no decision found for the outcome of %s (session %s, call %s): not recorded",
                        call.tool_name, event.session_id, event.tool_use_id)
            return host.acknowledged(event)
        if event.kind is EventKind.TOOL_FAILED:
            gate.record_outcome(decision, output=event.output, error=event.error or "the tool failed")
        else:
            gate.record_outcome(decision, output=event.output)
        return host.acknowledged(event)

    def _prompt(self, host: Host, event: HookEvent) -> HookReply:
        gate = self.gate(event.session_id, event.cwd)
        manifest_posture = gate.manifest.posture
        if gate.posture is not manifest_posture or gate.budget()["session_risk_score"] > 0:
            gate.restore_posture(by=f"a person's new prompt in {host.framework}")
        return host.acknowledged(event)

    # -- decisions waiting for their outcome --------------------------------------------------

    @staticmethod
    def _key(event: HookEvent) -> tuple[str, str, str] | None:
        call = event.call
        if call is None:
            return None
        if event.tool_use_id:
            return (event.session_id or "", "id", event.tool_use_id)
        try:  # hosts without call ids: the same tool with the same arguments
            return (event.session_id or "", "args", f"{call.tool_name}:{arguments_hash(call.arguments)}")
        except Exception:  # noqa: BLE001 - arguments no receipt can hash were refused anyway
            return None

    def _remember(self, event: HookEvent, decision: Decision) -> None:
        key = self._key(event)
        if key is None:
            return
        with self._lock:
            self._pending[key] = decision
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)

    def _recall(self, event: HookEvent) -> Decision | None:
        key = self._key(event)
        with self._lock:
            return self._pending.pop(key, None) if key is not None else None

    def _find_decision(self, gate: Gate, event: HookEvent) -> Decision | None:
        """The approving (or escalation) receipt of this call in the session's log, as a Decision."""
        call = event.call
        if call is None or not event.tool_use_id:
            return None
        found: dict[str, Any] | None = None
        for record in self.store.session_receipts(gate.session_id):
            data = record.data
            if data.get("proposal_id") != event.tool_use_id:
                continue
            action, result = data.get("action") or {}, data.get("result") or {}
            if (action.get("operation") == DECISION and result.get("status") == "success") \
                    or action.get("operation") == ESCALATION:
                found = data
        if found is None:
            return None
        action = found["action"]
        verdict = Verdict.ESCALATE if action.get("operation") == ESCALATION else Verdict.APPROVE
        try:
            effect = EffectClass(action.get("effect_class"))
        except ValueError:
            effect = EffectClass.SHELL_DANGEROUS
        return Decision(verdict, None, effect, ToolCall(call.function, call.plugin, call.arguments,
                                                         event.tool_use_id, call.framework, call.model),
                        "found in the session's receipts", Receipt(found), gate.lookup(call.plugin, call.function),
                        tuple(action.get("target_paths") or ()))

    # -- operator requests ---------------------------------------------------------------------

    def reload(self, *, by: str = "operator") -> list[Receipt]:
        """Reload the manifest file in every open gate (a `reload` receipt each); new gates use it too.

        Raises ManifestError when the file does not verify: the open gates
        then keep denying (MANIFEST_INTEGRITY_FAILURE) until a reload succeeds.
        """
        with self._lock:
            manifest = load_manifest(self.manifest_path)  # verify first: a bad file changes nothing here
            receipts = [gate.reload(self.manifest_path, by=by) for gate in self._gates.values()]
            self._manifest = manifest
            return receipts

    def set_posture(self, session_id: str, posture: Posture | str, *, by: str) -> Receipt:
        """Set a session's posture; back to the manifest's posture also resets its risk (a `posture` receipt).

        Raises ValueError for a session with no receipts in the log: a
        mistyped id must not start a new chain that nothing continues.
        """
        target = Posture(posture)
        with self._lock:
            known = session_id in self._gates or any(True for _ in self.store.session_receipts(session_id))
        if not known:
            raise ValueError(f"session {session_id} has no receipts in this log; check the session id "
                             "(spinegate show LOG lists them)")
        gate = self.gate(session_id)
        if target is gate.manifest.posture:
            return gate.restore_posture(by=by)
        return gate.set_posture(target, by=by)

    def close(self) -> None:
        with self._lock:
            gates, self._gates = list(self._gates.values()), OrderedDict()
        for gate in gates:
            try:
                gate.close()
            except Exception as exc:  # noqa: BLE001 - close the others
                log.warning("closing the gate of session %s failed: %s", gate.session_id, exc)


def project_of(manifest_path: str) -> str | None:
    """The project a `.spinegate/manifest.json` belongs to, or None for a manifest elsewhere."""
    state = os.path.dirname(os.path.abspath(manifest_path))
    return os.path.dirname(state) if os.path.basename(state) == ".spinegate" else None


__all__ = ["HookService", "MAX_SESSIONS", "project_of"]
