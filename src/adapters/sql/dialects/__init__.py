"""One dialect object per database behind the SQL adapters: PostgreSQL, SQLite, and
MariaDB/MySQL. What differs between them (default schema, type mapping, statistics) is
asked of :func:`dialect_of` rather than branched on by name."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from adapters.sql.dialects.base import SqlDialect
from adapters.sql.dialects.mysql import MysqlDialect
from adapters.sql.dialects.postgresql import PostgresDialect
from adapters.sql.dialects.sqlite import SqliteDialect

__all__ = ["DIALECTS", "SqlDialect", "dialect_of"]

DIALECTS: dict[str, SqlDialect] = {
    d.name: d for d in (PostgresDialect(), SqliteDialect(), MysqlDialect())
}
DIALECTS["mariadb"] = DIALECTS["mysql"]  # SQLAlchemy's name for a MariaDB server


def dialect_of(engine: Engine | URL) -> SqlDialect:
    """The dialect of ``engine``'s database (ValueError naming the supported ones)."""
    name = engine.get_backend_name() if isinstance(engine, URL) else engine.dialect.name
    found = DIALECTS.get(name)
    if found is None:
        raise ValueError(
            f"database {name!r} is not supported; use PostgreSQL, SQLite, MariaDB or MySQL"
        )
    return found
