"""The thin hook client: what a coding agent runs on every tool call, kept to almost no imports.

    python3 -I -S .../spinegate/hook_client.py --host claude-code --project "$CLAUDE_PROJECT_DIR"

It reads the hook's standard input, hands it to the project's resident
helper (`spinegate serve`) over a Unix socket, and prints the helper's
answer with its exit code. It imports only `_socket` (the C module under
`socket`) besides what Python has loaded at start-up (`sys`, `os`), and
never the `spinegate` package,
so a round trip costs little more than starting Python.

When no helper is running it starts one (detached, started with this
interpreter) and waits for it briefly; when that fails too it runs
``python -m spinegate.cli hook --in-process``, which decides the call in
this process: slower, never less safe. Anything else that goes wrong
exits 2, which every supported host treats as "block the call".

This file is also imported by the helper (`spinegate.helper`) for the
wire format and the file names below, so the two cannot drift apart.
"""

import _socket
import os
import sys

#: The project's spinegate directory, the helper's private directory in it, and the names inside.
STATE_DIR = ".spinegate"
RUN_DIR = "run"
SOCKET_NAME = "helper.sock"
LOCK_NAME = "helper.lock"
MANIFEST_NAME = "manifest.json"
RECEIPTS_NAME = "receipts.jsonl"
#: The first bytes of every request, and the end of a request's header (fields are NUL-separated).
MAGIC = b"SPINEGATE/1"
HEADER_END = b"\0\0"
#: Seconds to wait for a helper that this call started, and for an answer (hosts give a hook 30 s or more).
START_WAIT = 10.0
ANSWER_WAIT = 25.0
EXIT_BLOCK = 2
INSTALL_HINT = ("install it (pip install spinegate) and run `spinegate init` in the project again, "
                "or remove spinegate's hooks from the agent's settings")


def _block(message: str) -> int:
    os.write(2, f"spinegate blocked this call: {message}\n".encode("utf-8", "replace"))
    return EXIT_BLOCK


def find_project(start: str) -> str | None:
    """The nearest directory at or above `start` that holds `.spinegate/manifest.json`."""
    here = os.path.abspath(start)
    while True:
        if os.path.isfile(os.path.join(here, STATE_DIR, MANIFEST_NAME)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def run_dir(project: str) -> str:
    return os.path.join(project, STATE_DIR, RUN_DIR)


def request(fields: list[str], body: bytes = b"") -> bytes:
    """One request: the magic, the header fields, the end of the header, the body."""
    return b"\0".join([MAGIC, *(f.encode("utf-8", "surrogateescape") for f in fields)]) + HEADER_END + body


def parse_answer(data: bytes) -> tuple[int, bytes, bytes] | None:
    """(exit code, stdout, stderr) from a helper's answer ``b"<code> <out> <err>\\n" + out + err``."""
    head, sep, rest = data.partition(b"\n")
    parts = head.split(b" ")
    if not sep or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    code, out, err = (int(p) for p in parts)
    if len(rest) != out + err:
        return None
    return code, rest[:out], rest[out:]


def answer(code: int, out: bytes, err: bytes) -> bytes:
    return b"%d %d %d\n" % (code, len(out), len(err)) + out + err


def connect(project: str) -> "_socket.socket | None":
    """A socket connected to the project's helper, or None. Connects by a relative name (paths may be long)."""
    here = os.getcwd()
    try:
        os.chdir(run_dir(project))
    except OSError:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(SOCKET_NAME)
    except OSError:
        sock.close()
        return None
    finally:
        os.chdir(here)
    return sock


def exchange(sock: "_socket.socket", data: bytes, timeout: float = ANSWER_WAIT) -> tuple[int, bytes, bytes] | None:
    """Send one request on a connected socket and read the whole answer (None if the helper went away)."""
    sock.settimeout(timeout)
    try:
        sock.sendall(data)
        sock.shutdown(_socket.SHUT_WR)
        chunks: list[bytes] = []
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        sock.close()
    return parse_answer(b"".join(chunks))


def start_helper(project: str) -> int | None:
    """Start `spinegate serve` for the project, detached from this hook's pipes; its process id, or None."""
    try:
        os.makedirs(run_dir(project), mode=0o700, exist_ok=True)
        log = os.open(os.path.join(run_dir(project), "helper.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(log)
        return None
    if pid == 0:  # the helper: its own session, no tie to the agent's pipes (the agent waits for them to close)
        try:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            os.dup2(log, 2)
            os.chdir(project)
            os.execv(sys.executable, [sys.executable, "-m", "spinegate.cli", "serve", "--project", project])
        finally:
            os._exit(127)
    os.close(log)
    return pid


def helper_round_trip(project: str, data: bytes, start: bool = True) -> tuple[int, bytes, bytes] | None:
    """Ask the project's helper; start it first if it is not running. None when no helper could be reached.

    A helper that took the request but gave no answer (it stopped, or took
    longer than ANSWER_WAIT) blocks the call: it may have decided already.
    """
    sock = connect(project)
    if sock is None and start:
        pid = start_helper(project)
        if pid is None:
            return None
        import time

        deadline = time.monotonic() + START_WAIT
        starting = True
        while sock is None and time.monotonic() < deadline:
            time.sleep(0.005)
            sock = connect(project)
            if sock is None and starting:
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done, status = pid, 0
                if done:
                    starting = False
                    if os.waitstatus_to_exitcode(status) != 0:  # it could not run: no point waiting
                        sock = connect(project)
                        break
                    # it exited cleanly: another call's helper won the start; wait for that one to listen
    if sock is None:
        return None
    reply = exchange(sock, data)
    if reply is None:  # a helper took the request and gave no answer: block this call, do not decide it twice
        return EXIT_BLOCK, b"", b"spinegate blocked this call: the helper took the request but gave no answer\n"
    return reply


def in_process(project: str, host: str, payload: bytes) -> int:
    """Decide in a new Python process with the whole package (no helper): `spinegate hook --in-process`."""
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError as exc:
        return _block(f"spinegate cannot be started ({exc}); {INSTALL_HINT}")
    if pid == 0:
        try:
            os.close(write_end)
            os.dup2(read_end, 0)
            os.execv(sys.executable, [sys.executable, "-m", "spinegate.cli", "hook", "--host", host,
                                      "--project", project, "--in-process"])
        finally:
            os._exit(127)
    os.close(read_end)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view):]
    except OSError:
        pass  # the child stopped reading: its exit code says why
    finally:
        os.close(write_end)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 127:
        return _block(f"spinegate cannot be started with {sys.executable}; {INSTALL_HINT}")
    return code if code in (0, EXIT_BLOCK) else _block(f"spinegate exited with status {code}")


def read_stdin() -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def main(argv: list[str]) -> int:
    host, project = "claude-code", ""
    i = 0
    while i < len(argv):
        if argv[i] in ("--host", "--project") and i + 1 < len(argv):
            if argv[i] == "--host":
                host = argv[i + 1]
            else:
                project = argv[i + 1]
            i += 2
        else:
            return _block(f"unknown argument {argv[i]!r} (usage: hook_client.py [--host H] [--project DIR])")
    project = project or os.environ.get("SPINEGATE_PROJECT", "") or find_project(os.getcwd()) or ""
    if not project or not os.path.isdir(os.path.join(project, STATE_DIR)):
        return _block("no spinegate project here (no .spinegate/manifest.json in this directory or above it); "
                      "run `spinegate init` in the project")
    project = os.path.abspath(project)
    try:
        payload = read_stdin()
    except OSError as exc:
        return _block(f"cannot read the hook's input: {exc}")
    reply = helper_round_trip(project, request(["hook", host, os.getcwd()], payload))
    if reply is None:
        return in_process(project, host, payload)
    code, out, err = reply
    try:
        if out:
            os.write(1, out)
        if err:
            os.write(2, err)
    except OSError:
        return EXIT_BLOCK
    return code


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except BaseException as exc:  # noqa: BLE001 - any other exit would let the agent run the tool
        code = _block(f"{type(exc).__name__}: {exc}")
    sys.exit(code)
