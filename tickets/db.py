"""Engine and session factory, and `migrate` (Alembic upgrade + the defaults a mailbox needs).

SQLite is opened in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing half-way (the ticket code
counter relies on it). PostgreSQL needs nothing special: the counter row is locked by UPDATE.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from tickets.sla_sql import register_sqlite_functions
from tickets.text_match import register_sqlite_function

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Execution option of read-only sessions: on SQLite they BEGIN DEFERRED and never block writers.
READONLY_OPTION = "atencion_readonly"


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for ``url`` (SQLite file directories are created when missing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            register_sqlite_function(dbapi_conn)  # the list's accent-insensitive search
            register_sqlite_functions(dbapi_conn)  # the SLA filters' local dates and business days

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            readonly = conn.get_execution_options().get(READONLY_OPTION)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (expire_on_commit=False)."""
    return sessionmaker(engine, expire_on_commit=False)


def make_reader(engine: Engine) -> sessionmaker[Session]:
    """Sessions for long reads (exports, lists): on SQLite they do not take the write lock.

    Writing through them is allowed but, on SQLite, may fail with "database is locked" under
    concurrent writers; use `make_sessionmaker` for writes.
    """
    return sessionmaker(engine.execution_options(**{READONLY_OPTION: True}), expire_on_commit=False)


def alembic_config(url: str):
    """An Alembic Config pointing at the migration scripts shipped inside this package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision, then seed the defaults where missing.

    Idempotent: running it twice changes nothing the second time.
    """
    from alembic import command

    from tickets.defaults import seed_defaults

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with make_sessionmaker(engine).begin() as session:
        seed_defaults(session)
