"""Suite-wide set-up: the tests folder on sys.path for the shared helpers (`outside_tools`, ...), signing keys,
and the session's PostgreSQL server."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


# -- a real PostgreSQL server, started once for the session (tests/postgres_cluster.py) --------------------------

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


# -- Ed25519 key pairs for signed checkpoints ----------------------------------------------------------------------


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[Path, Path]:
    """(private key, public key) files, as `spinegate keygen` writes them."""
    from spinegate.keys import write_keypair

    priv, pub, _ = write_keypair(tmp_path / "signing.key")
    return Path(priv), Path(pub)


@pytest.fixture
def other_keypair(tmp_path: Path) -> tuple[Path, Path]:
    """A second signer's key pair."""
    from spinegate.keys import write_keypair

    priv, pub, _ = write_keypair(tmp_path / "other.key")
    return Path(priv), Path(pub)
