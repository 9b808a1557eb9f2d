"""The resident helper (`spinegate serve`): a project's gates kept open behind a Unix socket.

A coding agent runs its hook once per tool call; starting Python and
opening a gate each time costs far more than deciding. The helper opens the
project's gates once and answers the thin hook client (`hook_client.py`)
over `PROJECT/.spinegate/run/helper.sock`:

- only its user can connect: the run directory is 0700, the socket 0600,
  and each peer's user id is checked (SO_PEERCRED / LOCAL_PEERCRED);
- it holds `helper.lock` while it runs, so it is the log's only writer
  (in-process hooks and `spinegate posture set` wait for it or ask it);
- it exits after `idle_timeout` seconds without a request, closing its
  gates (a final signed checkpoint where a key is configured);
- SIGHUP (or `spinegate serve --reload`) reloads a re-sealed manifest in
  every open gate with a `reload` receipt; until then a changed manifest
  denies every call (MANIFEST_INTEGRITY_FAILURE). SIGTERM and SIGINT stop it.

Linux and macOS (Unix sockets, flock, peer credentials).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from .. import hook_client as wire
from ..effects import Posture
from ..errors import SpinegateError
from ..hosts.events import MAX_PAYLOAD_BYTES
from ..hosts.service import HookService
from .index import IndexedStore, open_indexed
from .layout import LockBusy, ProjectLayout, WriterLock

log = logging.getLogger("spinegate")

#: Seconds without a request after which the helper exits (the next hook call starts it again).
DEFAULT_IDLE_TIMEOUT = 900.0
#: Seconds a client may take to send its request.
READ_TIMEOUT = 30.0
MAX_REQUEST = MAX_PAYLOAD_BYTES + 4096


def peer_uid(conn: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket, or None if the platform cannot tell."""
    if hasattr(socket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
        data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return int(struct.unpack("3i", data)[1])
    if sys.platform == "darwin":  # macOS: LOCAL_PEERCRED (0x001) at SOL_LOCAL (0) gives struct xucred
        data = conn.getsockopt(0, 0x001, struct.calcsize("IIh16I"))
        return int(struct.unpack_from("II", data)[1])
    return None


def read_request(conn: socket.socket) -> tuple[list[str], bytes]:
    """The header fields and body of one request (the client closes its side when done); ValueError if malformed."""
    conn.settimeout(READ_TIMEOUT)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_REQUEST:
            raise ValueError(f"the request is larger than {MAX_REQUEST} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    head, sep, body = data.partition(wire.HEADER_END)
    fields = head.split(b"\0")
    if not sep or fields[0] != wire.MAGIC:
        raise ValueError("not a spinegate helper request")
    return [f.decode("utf-8", "surrogateescape") for f in fields[1:]], body


class Helper:
    """One project's helper: the socket, the service, the idle clock and the signals."""

    def __init__(self, layout: ProjectLayout, *, idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                 gate_options: dict[str, Any] | None = None) -> None:
        self.layout = layout
        self.idle_timeout = idle_timeout
        self.gate_options = gate_options
        self._lock: WriterLock | None = None
        self._sock: socket.socket | None = None
        self._store: IndexedStore | None = None
        self.service: HookService | None = None
        self._active = 0
        self._last = time.monotonic()
        self._state = threading.Lock()
        self._stop = threading.Event()
        self._reload_requested = threading.Event()
        self._threads: set[threading.Thread] = set()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> bool:
        """Take the lock and listen. False when another helper already serves the project."""
        self.layout.make_run_dir()
        try:
            self._lock = WriterLock(self.layout.lock)
        except LockBusy:
            return False
        try:
            self._store = open_indexed(self.layout.receipts, self.layout.index_dir)
            self.service = HookService(self.layout.manifest, self._store, project=self.layout.project,
                                       gate_options=self.gate_options)
            try:
                self.service.manifest()
            except SpinegateError as exc:  # keep serving: every call is refused with this reason
                log.warning("the manifest cannot be used; every call will be refused: %s", exc)
            self._sock = self._listen()
            with open(self.layout.pid_file, "w", encoding="ascii") as fh:
                fh.write(f"{os.getpid()}\n")
        except BaseException:
            self._release()
            raise
        return True

    def _listen(self) -> socket.socket:
        here = os.getcwd()
        old_umask = os.umask(0o077)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.chdir(self.layout.run_dir)  # bind by a relative name: a deep project path may be too long
            with contextlib.suppress(FileNotFoundError):
                os.unlink(wire.SOCKET_NAME)  # a stale socket: we hold the lock, so no helper serves it
            sock.bind(wire.SOCKET_NAME)
            sock.listen(64)
        except BaseException:
            sock.close()
            raise
        finally:
            os.umask(old_umask)
            os.chdir(here)
        sock.setblocking(False)
        return sock

    def serve(self, *, install_signals: bool = True) -> None:
        """Answer requests until stopped, idle for `idle_timeout`, or signalled."""
        if install_signals:
            self._install_signals()
        assert self._sock is not None
        try:
            while not self._stop.is_set():
                if self._reload_requested.is_set():
                    self._reload_requested.clear()
                    self.reload(by="SIGHUP")
                ready, _, _ = select.select([self._sock], [], [], 0.1)
                if ready:
                    self._accept()
                with self._state:
                    idle = self._active == 0 and time.monotonic() - self._last > self.idle_timeout
                if idle:
                    log.info("no request for %.0f s: the helper stops", self.idle_timeout)
                    break
        finally:
            self.close()

    def _install_signals(self) -> None:
        signal.signal(signal.SIGHUP, lambda *_: self._reload_requested.set())
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Stop listening, let requests in progress finish (briefly), close the gates and the log."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.layout.socket)
            self._sock.close()
            self._sock = None
        for thread in list(self._threads):
            thread.join(timeout=10)
        if self.service is not None:
            self.service.close()
        with contextlib.suppress(OSError):
            os.unlink(self.layout.pid_file)
        self._release()

    def _release(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.close_log()
            self._store = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- requests --------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._sock is not None
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(True)
        with self._state:
            self._active += 1
            self._last = time.monotonic()
        thread = threading.Thread(target=self._serve_one, args=(conn,), daemon=True, name="spinegate-hook")
        self._threads.add(thread)
        thread.start()

    def _serve_one(self, conn: socket.socket) -> None:
        try:
            with conn:
                uid = peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    log.warning("refused a connection from user %s", uid)
                    return
                try:
                    fields, body = read_request(conn)
                    code, out, err = self.dispatch(fields, body)
                except (ValueError, OSError) as exc:
                    code, out, err = wire.EXIT_BLOCK, b"", f"spinegate blocked this call: {exc}\n".encode()
                with contextlib.suppress(OSError):
                    conn.sendall(wire.answer(code, out, err))
        finally:
            with self._state:
                self._active -= 1
                self._last = time.monotonic()
            self._threads.discard(threading.current_thread())

    def dispatch(self, fields: list[str], body: bytes) -> tuple[int, bytes, bytes]:
        """(exit code, stdout, stderr) for one request."""
        service = self.service
        assert service is not None
        command = fields[0] if fields else ""
        if command == "hook" and len(fields) >= 2:
            reply = service.answer(fields[1], body, fields[2] if len(fields) > 2 else None)
            return reply.exit_code, reply.stdout.encode("utf-8"), reply.stderr.encode("utf-8")
        handler = self._controls.get(command)
        if handler is None:
            return wire.EXIT_BLOCK, b"", f"spinegate blocked this call: unknown request {command!r}\n".encode()
        try:
            return 0, handler(self, fields[1:]).encode("utf-8") + b"\n", b""
        except (SpinegateError, ValueError) as exc:
            return 1, b"", f"{exc}\n".encode()

    # -- operator requests (spinegate serve --reload, spinegate posture set) --------------------

    def _ping(self, args: list[str]) -> str:
        return f"spinegate helper {os.getpid()} serving {self.layout.project}"

    def reload(self, by: str = "operator") -> str:
        service = self.service
        assert service is not None
        try:
            receipts = service.reload(by=by)
        except SpinegateError as exc:
            log.warning("reload failed; every call stays refused until a reload succeeds: %s", exc)
            raise
        manifest = service.manifest()
        log.info("manifest reloaded (%s); %d reload receipt(s)", manifest.manifest_hash, len(receipts))
        return (f"reloaded {self.layout.manifest} (manifest_hash {manifest.manifest_hash}); "
                f"{len(receipts)} open session(s), a reload receipt each")

    def _reload(self, args: list[str]) -> str:
        return self.reload(by=args[0] if args and args[0] else "spinegate serve --reload")

    def _posture(self, args: list[str]) -> str:
        if len(args) < 2:
            raise ValueError("posture takes a session id and a posture")
        service = self.service
        assert service is not None
        receipt = service.set_posture(args[0], Posture(args[1]), by=args[2] if len(args) > 2 else "operator")
        return f"session {args[0]}: {receipt['action']['description']} (receipt {receipt.receipt_id})"

    def _stop_request(self, args: list[str]) -> str:
        self._stop.set()
        return "stopping"

    _controls: ClassVar[dict[str, Callable[[Helper, list[str]], str]]] = {
        "ping": _ping, "reload": _reload, "posture": _posture, "stop": _stop_request}


def control(layout: ProjectLayout, *fields: str) -> tuple[int, str, str] | None:
    """Send an operator request to the project's running helper: (code, stdout, stderr), or None if none runs."""
    sock = wire.connect(layout.project)
    if sock is None:
        return None
    reply = wire.exchange(sock, wire.request(list(fields)), timeout=120.0)  # a reload may re-read a big manifest
    if reply is None:
        return None
    code, out, err = reply
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


__all__ = ["DEFAULT_IDLE_TIMEOUT", "Helper", "control", "peer_uid"]
