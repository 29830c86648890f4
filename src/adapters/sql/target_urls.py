"""A database target's addresses: SQLAlchemy, libpq, JDBC with its properties (what its
database says when it refuses is in ``adapters.sql.errors``)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from domain.ingestion.spec import TargetSpec


def sqlalchemy_url(spec: TargetSpec) -> str:
    """The SQLAlchemy URL of a database target (psycopg for PostgreSQL)."""
    if spec.kind == "sqlite":
        return f"sqlite:///{spec.path}"
    url = make_url(spec.url or "").set(drivername="postgresql+psycopg")
    if spec.password is not None and url.password is None:
        url = url.set(password=spec.password)
    return url.render_as_string(hide_password=False)


def libpq_url(spec: TargetSpec) -> str:
    """The target as a libpq connection URI (what psycopg connects with in Spark's workers)."""
    url = make_url(sqlalchemy_url(spec)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def jdbc_url(spec: TargetSpec) -> tuple[str, dict[str, str]]:
    """The JDBC URL of a database target, and its user and password properties."""
    if spec.kind == "sqlite":
        return f"jdbc:sqlite:{spec.path}", {}
    url = make_url(sqlalchemy_url(spec))
    properties = {"user": url.username or "postgres"}
    if url.password:
        properties["password"] = str(url.password)
    return (
        f"jdbc:postgresql://{url.host or 'localhost'}:{url.port or 5432}/{url.database}",
        properties,
    )


def catalog_url(url: str, password: str | None = None) -> str:
    """The SQLAlchemy URL of a catalog: psycopg for PostgreSQL, a busy timeout for SQLite
    (two runs commit at once), the password when it was given apart."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("postgresql") and password and parsed.password is None:
        parsed = parsed.set(password=password)
    if parsed.drivername == "sqlite" and "timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"timeout": "30"})
    return parsed.render_as_string(hide_password=False)
