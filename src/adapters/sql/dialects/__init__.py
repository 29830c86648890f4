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

__all__ = ["DIALECTS", "SqlDialect", "dialect_of", "url_of_jdbc"]

DIALECTS: dict[str, SqlDialect] = {
    d.name: d for d in (PostgresDialect(), SqliteDialect(), MysqlDialect())
}
DIALECTS["mariadb"] = DIALECTS["mysql"]  # SQLAlchemy's name for a MariaDB server


# JDBC URL schemes -> (SQLAlchemy driver name, default port, default user).
_JDBC = {
    "postgresql": ("postgresql+psycopg", 5432, "postgres"),
    "mariadb": ("mariadb+pymysql", 3306, "root"),
    "mysql": ("mysql+pymysql", 3306, "root"),
}


def url_of_jdbc(url: str, user: str | None, password: str | None) -> URL | None:
    """The SQLAlchemy URL of a JDBC URL of a database server (``jdbc:postgresql://``,
    ``jdbc:mariadb://``, ``jdbc:mysql://``), None for other databases."""
    scheme, _, rest = url.removeprefix("jdbc:").partition("://")
    if not url.startswith("jdbc:") or scheme not in _JDBC:
        return None
    drivername, port, default_user = _JDBC[scheme]
    address, _, database = rest.split("?", 1)[0].partition("/")
    host, _, given_port = address.partition(":")
    return URL.create(
        drivername,
        username=user or default_user,
        password=password,
        host=host or "localhost",
        port=int(given_port) if given_port.isdigit() else port,
        database=database,
    )


def dialect_of(engine: Engine | URL) -> SqlDialect:
    """The dialect of ``engine``'s database (ValueError naming the supported ones)."""
    name = engine.get_backend_name() if isinstance(engine, URL) else engine.dialect.name
    found = DIALECTS.get(name)
    if found is None:
        raise ValueError(
            f"database {name!r} is not supported; use PostgreSQL, SQLite, MariaDB or MySQL"
        )
    return found
