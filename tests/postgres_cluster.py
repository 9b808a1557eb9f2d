"""A throwaway PostgreSQL cluster for the tests and the benchmark: a temporary directory, 127.0.0.1 only.

`initdb` refuses to run as root, so as root the cluster belongs to an
unprivileged user (`nobody`) and its programs run as that user. The server
keeps its default settings (`synchronous_commit` on), listens on a free TCP
port of 127.0.0.1 and on no Unix socket, and trusts local connections (it
is reachable from this machine only, and gone when stopped).

No pytest here: `bench/run.py` uses it too. The tests reach it through the
session fixture in tests/fleet/conftest.py.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence

#: How to get the server programs when they are missing (what scripts/setup.d/10-postgresql.sh does as root).
HOW_TO_INSTALL = "Debian: apt-get install postgresql (scripts/setup.d/10-postgresql.sh does it as root); " \
                 "macOS: brew install postgresql"
SUPERUSER = "spinegate"


def server_bindir() -> str | None:
    """The directory holding initdb, pg_ctl and postgres: on PATH, or Debian's /usr/lib/postgresql/<n>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(candidates[-1]) if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One throwaway cluster: `start`, `stop`, `dsn(db)`, `create_database(name)`, `destroy`."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        # As root, somewhere the unprivileged owner can reach (TMPDIR may be under /root).
        where = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
        self.root = tempfile.mkdtemp(prefix="spinegate-pg-", dir=where)
        self.data = os.path.join(self.root, "data")
        self.logfile = os.path.join(self.root, "server.log")
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to an unprivileged user
            self.user = "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        os.chmod(self.root, 0o700)
        self._run(["initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"])

    def _run(self, argv: Sequence[str], *, timeout: float = 120) -> None:
        program = os.path.join(self.bindir, argv[0])
        result = subprocess.run([program, *argv[1:]], cwd=self.root, user=self.user, capture_output=True,
                                text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}\n"
                               f"server log: {self.server_log()[-2000:]}")

    def server_log(self) -> str:
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def start(self) -> None:
        options = f"-p {self.port} -k '' -c listen_addresses=127.0.0.1"  # otherwise the server's defaults
        self._run(["pg_ctl", "-D", self.data, "-o", options, "-l", self.logfile, "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])

    def running(self) -> bool:
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def dsn(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL (as the superuser)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
