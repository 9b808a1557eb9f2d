"""The PostgreSQL ledger's schema, its version, and connecting to it (the extra `spinegate[postgres]`).

Everything lives in the schema ``spinegate`` of the database the URL names:

- ``receipts``: one row per receipt, the canonical line (``line``) exactly as
  the gate wrote it, beside the fields an auditor queries (session,
  sequence, ids, hashes, the receipt's time, its kind, tool and status) and
  the server's ``recorded_at``. ``position`` (an identity) is the order rows
  were written; (``session_id``, ``sequence_number``) is unique, so a
  session's chain cannot fork.
- ``checkpoints``: the signed checkpoints of the receipts in the ledger, one
  canonical line each, unique per (``session_id``, ``checkpoint_index``).
- ``witness``: copies of the checkpoints of logs kept elsewhere (a gate's
  ``witness=`` pointing here), per ``log_name``.
- ``schema_version``: the version of this layout, so a later spinegate can
  migrate it and an older one refuses a layout it does not know.

The first writer that finds no schema creates it (under an advisory lock, so
two hosts starting at once do not race). A writer role that may only insert
and read cannot: the owner creates it first with the SQL in docs/fleet.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ReceiptLogError

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

SCHEMA = "spinegate"
SCHEMA_VERSION = 1

#: The layout, version 1. Also printed in docs/fleet.md (a test keeps the two equal).
SCHEMA_SQL = """\
CREATE SCHEMA IF NOT EXISTS spinegate;
CREATE TABLE spinegate.schema_version (
    version integer PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE spinegate.receipts (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id text NOT NULL,
    sequence_number bigint NOT NULL,
    receipt_id text NOT NULL,
    receipt_hash text NOT NULL,
    previous_receipt_hash text,
    receipt_time timestamptz NOT NULL,
    operation text NOT NULL,
    tool text NOT NULL,
    status text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    line text NOT NULL,
    CONSTRAINT receipts_session_sequence UNIQUE (session_id, sequence_number)
);
CREATE INDEX receipts_receipt_time ON spinegate.receipts (receipt_time);
CREATE TABLE spinegate.checkpoints (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id text NOT NULL,
    checkpoint_index bigint NOT NULL,
    sequence_number bigint NOT NULL,
    key_id text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    line text NOT NULL,
    CONSTRAINT checkpoints_session_index UNIQUE (session_id, checkpoint_index)
);
CREATE TABLE spinegate.witness (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    log_name text NOT NULL,
    session_id text NOT NULL,
    checkpoint_index bigint NOT NULL,
    sequence_number bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    line text NOT NULL,
    CONSTRAINT witness_log_session_index UNIQUE (log_name, session_id, checkpoint_index)
);
INSERT INTO spinegate.schema_version (version) VALUES (1);
"""

#: Later versions: the SQL that takes a ledger from version N-1 to N (none yet).
MIGRATIONS: dict[int, str] = {}

SETUP_FIX = ("create the ledger's tables as their owner: connect with a role that may create them once, or run "
             "the schema SQL in docs/fleet.md")
INSTALL_FIX = "pip install 'spinegate[postgres]'"

#: libpq settings a ledger connection gets unless the URL sets them: a dead server or network is
#: noticed within seconds (no call hangs on it), and the connection says who it is.
CONNECTION_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "application_name": "spinegate",
}


def display_dsn(dsn: str) -> str:
    """The URL without its password, for messages and `ReceiptStore.location`."""
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:  # pragma: no cover - without the driver, keep only what precedes any credentials
        return dsn.split("@", 1)[-1] if "@" in dsn else dsn
    try:
        params = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - a malformed URL: say so when connecting, show no secret now
        return "postgresql://<unparsable URL>"
    user = f"{params['user']}@" if params.get("user") else ""
    host = params.get("host") or ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{host}{port}/{params.get('dbname') or ''}"


def first_line(exc: BaseException) -> str:
    """The first line of a driver error (the server's message, without its detail and hint lines)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def driver() -> Any:
    """The psycopg module, or ReceiptLogError saying how to install it."""
    try:
        import psycopg
    except ImportError as exc:
        raise ReceiptLogError(f"the PostgreSQL ledger needs the psycopg driver ({exc})", path="postgresql://",
                              fix=INSTALL_FIX) from None
    return psycopg


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection to the ledger, with `CONNECTION_DEFAULTS` for what the URL leaves unset.

    Raises psycopg.OperationalError when the server cannot be reached.
    """
    driver()
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    given: Mapping[str, Any] = conninfo_to_dict(dsn)
    extra = {k: v for k, v in CONNECTION_DEFAULTS.items() if k not in given}
    return psycopg.connect(dsn, autocommit=autocommit, **extra)


def schema_version(conn: psycopg.Connection[Any]) -> int | None:
    """The ledger's layout version, or None when the database holds no ledger yet."""
    row = conn.execute("SELECT to_regclass('spinegate.schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT max(version) FROM spinegate.schema_version").fetchone()
    return int(found[0]) if found and found[0] is not None else None


def ensure_schema(conn: psycopg.Connection[Any], location: str) -> None:
    """Create the ledger's schema if the database has none, or migrate an older one; refuse a newer one.

    Runs in its own transaction on `conn` (which must not be in autocommit
    mode) and commits it. Raises ReceiptWriteError naming the fix when the
    role may not create the tables or the layout is newer than this spinegate.
    """
    from .errors import ReceiptWriteError

    psycopg = driver()
    version = schema_version(conn)
    conn.rollback()
    if version == SCHEMA_VERSION:
        return
    if version is not None and version > SCHEMA_VERSION:
        raise ReceiptWriteError(f"the ledger's layout is version {version}; this spinegate knows up to "
                                f"{SCHEMA_VERSION}", path=location, fix="upgrade spinegate on this host")
    try:
        with conn.transaction():
            # One creator at a time across hosts; the others wait here, then find it made.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('spinegate.schema'))")
            version = schema_version(conn)
            if version is None:
                conn.execute(SCHEMA_SQL)
                version = 1
            while version < SCHEMA_VERSION:
                version += 1
                conn.execute(MIGRATIONS[version])
                conn.execute("INSERT INTO spinegate.schema_version (version) VALUES (%s)", (version,))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ReceiptWriteError(f"the ledger has no tables (or an older layout) and this role may not create "
                                f"them: {exc.diag.message_primary or exc}", path=location, fix=SETUP_FIX) from None
