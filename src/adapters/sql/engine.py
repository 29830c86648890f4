"""SQLAlchemy engines for the metadata store, tuned per database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from adapters.sql.dialects import dialect_of
from adapters.sql.dialects.sqlite import SQLITE_BUSY_TIMEOUT_S


def create_store_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``: SQLite (WAL, immediate write transactions) or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **options,
        )
        _tune_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **options)
    raise ValueError(
        f"metadata url: unsupported database {parsed.get_backend_name()!r} in {url!r}; "
        f"use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
    )


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY instead of waiting when another writer committed.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_catalog_engine(url: str) -> Engine:
    """An engine to read a catalog from: no tuning, since the database is somebody else's."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "mysql", "mariadb"):
        raise ValueError(
            f"catalog url: unsupported database {parsed.get_backend_name()!r} in "
            f"{parsed.render_as_string(hide_password=True)!r}; use sqlite:///PATH, "
            f"postgresql+psycopg://USER@HOST:PORT/DB or mysql://USER@HOST:3306/DB"
        )
    if (
        parsed.get_backend_name() == "sqlite"
        and parsed.database
        and not Path(parsed.database).exists()
    ):
        raise ValueError(f"catalog url: no SQLite database at {parsed.database}")
    return create_engine(parsed, connect_args=dialect_of(parsed).connect_args())
