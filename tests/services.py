"""Services the integration and contract tests talk to, and how a missing one is handled.

A test that needs a service it cannot reach is skipped with the reason locally and fails
when CI=true (CI machines run PostgreSQL and the brokers).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import attrs
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL_VARIABLE = "DATAPLATFORM_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def unavailable(service: str, reason: str) -> None:
    message = f"{service} unavailable: {reason}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (CI=true: services must be up)")
    pytest.skip(message)


def _reachable(service: str, variable: str, default: str) -> str:
    """The URL of ``service`` to test against (``variable``, else ``default``), or
    skip/fail when it cannot be reached."""
    url = os.environ.get(variable) or default
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # any failure to connect means "not there"
        unavailable(
            service,
            f"{make_url(url).render_as_string(hide_password=True)}: {error}".splitlines()[0],
        )
    finally:
        engine.dispose()
    return url


def postgres_url() -> str:
    """The PostgreSQL URL to test against, or skip/fail when it cannot be reached."""
    return _reachable("PostgreSQL", POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL)


@attrs.frozen
class FreshSchema:
    """A schema of its own for one test: its name, the server's URL, and a URL whose
    connections use it (``search_path``)."""

    name: str
    server: str
    url: str

    def libpq(self) -> str:
        """The server's URL as libpq and the apps' ``--url`` take it (``postgresql://``)."""
        return make_url(self.server).set(drivername="postgresql").render_as_string(False)

    def jdbc(self) -> str:
        """The server's JDBC URL (tables named ``<name>.<table>``)."""
        parts = make_url(self.server)
        return (
            f"jdbc:postgresql://{parts.host or 'localhost'}:{parts.port or 5432}/"
            f"{parts.database}?user={parts.username or 'postgres'}"
        )


@contextlib.contextmanager
def fresh_schema(url: str | None = None) -> Iterator[FreshSchema]:
    """A fresh schema on the PostgreSQL server at ``url`` (the test server by default),
    dropped with everything in it afterwards."""
    server = url or postgres_url()
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield FreshSchema(
            name,
            server,
            make_url(server)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False),
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema for one test; yields a URL whose connections use it."""
    with fresh_schema(url) as schema:
        yield schema.url


MARIADB_URL_VARIABLE = "DATAPLATFORM_TEST_MARIADB_URL"
DEFAULT_MARIADB_URL = "mariadb+pymysql://root@127.0.0.1:3306/test"


def mariadb_url() -> str:
    """The MariaDB URL to test against, or skip/fail when it cannot be reached."""
    return _reachable("MariaDB", MARIADB_URL_VARIABLE, DEFAULT_MARIADB_URL)


@contextlib.contextmanager
def fresh_mariadb() -> Iterator[FreshSchema]:
    """A fresh database on the MariaDB test server (in MySQL a schema is a database),
    dropped with everything in it afterwards: its name, the server's URL, and a URL whose
    connections use it."""
    server = mariadb_url()
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}`"))
    try:
        yield FreshSchema(name, server, make_url(server).set(database=name).render_as_string(False))
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


NATS_URL_VARIABLE = "DATAPLATFORM_TEST_NATS_URL"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def nats_url() -> str:
    """The NATS (JetStream) URL to test against, or skip/fail when it cannot be reached."""
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get(NATS_URL_VARIABLE) or DEFAULT_NATS_URL
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 3).close()
    except OSError as error:
        unavailable("NATS", f"{url}: {error}")
    return url
