"""Suite-wide set-up: the tests folder on sys.path for the shared helpers (`outside_tools`, ...)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


# -- a real PostgreSQL server, started once for the session (tests/postgres_cluster.py) --------------------------

import itertools
from collections.abc import Iterator

import pytest

_DATABASES = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (skipped, or failed under CI, without the server programs)."""
    from outside_tools import missing
    from postgres_cluster import HOW_TO_INSTALL, Cluster, server_bindir

    bindir = server_bindir()
    if bindir is None:
        missing("PostgreSQL's server programs (initdb, pg_ctl, postgres)", HOW_TO_INSTALL)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("the psycopg driver", "pip install -r requirements-dev.txt")
    cluster = Cluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def ledger(postgres: object) -> str:
    """The URL of a new, empty database on the session's server: one ledger per test."""
    return postgres.create_database(f"ledger_{next(_DATABASES)}")  # type: ignore[attr-defined]
