"""One canonical dataset reference per table, however its location is written.

Ingestion, recon, harvest and the metadata CLI all name datasets here, so one table has one
timeline. The forms follow OpenLineage's naming:

- PostgreSQL: ``postgres://HOST:PORT`` :: ``DATABASE.SCHEMA.TABLE`` (schema ``public`` when
  not given), from ``postgresql://``, ``postgresql+DRIVER://``, ``postgres://`` and
  ``jdbc:postgresql://`` URLs alike; credentials, options and the query string never count.
- MySQL/MariaDB: ``mysql://HOST:PORT`` :: ``DATABASE.TABLE``.
- SQLite: ``sqlite://ABSOLUTE-PATH`` :: ``TABLE`` (``jdbc:sqlite:``, ``sqlite:///``).
- Files: ``home`` :: a path relative to the platform home when the file lives under it (a
  moved home keeps its history), else ``file`` :: the absolute path.
- Iceberg tables: ``iceberg://CATALOG`` :: ``NAMESPACE.TABLE``, the catalog named by where
  it lives: ``HOST:PORT/DATABASE`` for a PostgreSQL catalog, ``~/PATH`` for a SQLite
  catalog under the platform home (``~`` stands for it), else the file's absolute path.

Unquoted SQL identifiers fold to lower case, as the databases fold them. :func:`canonical`
maps a reference written in an older or another spelling onto the canonical one; the store
migration and the gateway's reads use it, so queries by either spelling find the records.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

from domain.dataset import DatasetRef

HOME_NAMESPACE = "home"
FILE_NAMESPACE = "file"
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}
_SCHEMES = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class DatasetNameError(ValueError):
    """A location that does not name a table: says what is missing and how to write it."""


def _fold(identifier: str) -> str:
    """An identifier as the database stores it: unquoted ones fold to lower case."""
    if len(identifier) >= 2 and identifier[0] == identifier[-1] == '"':
        return identifier[1:-1]
    return identifier.lower() if _PLAIN_IDENTIFIER.match(identifier) else identifier


def _parts(table: str) -> list[str]:
    return [_fold(part.strip()) for part in table.split(".")]


def database_ref(
    dialect: str, host: str | None, port: int | None, database: str, table: str
) -> DatasetRef:
    """The reference of ``table`` (``schema.table`` or ``table``) in ``database`` on a
    server (``dialect``: postgres, mysql)."""
    scheme = _SCHEMES.get(dialect.split("+", 1)[0].lower())
    if scheme not in ("postgres", "mysql"):
        raise DatasetNameError(f"{dialect!r} is not a database server kind (postgres, mysql)")
    server = (host or "localhost").lower()
    if ":" in server:  # IPv6: bracketed, as in a URL
        server = f"[{server.strip('[]')}]"
    where = f"{scheme}://{server}:{port or _DEFAULT_PORTS[scheme]}"
    parts = _parts(table)
    if not database or not all(parts):
        raise DatasetNameError(
            f"{where}: a table needs a database and a table name, got database "
            f"{database!r}, table {table!r}"
        )
    if scheme == "mysql":
        # In MySQL a schema is a database: "db.table" names another database's table.
        if len(parts) > 2:
            raise DatasetNameError(f"table {table!r}: MySQL names a table as database.table")
        name_parts = parts if len(parts) == 2 else [database, *parts]
    else:
        if len(parts) > 3:
            raise DatasetNameError(f"table {table!r}: at most database.schema.table")
        name_parts = (
            parts
            if len(parts) == 3
            else [database, *(["public"] if len(parts) == 1 else []), *parts]
        )
    return DatasetRef(where, ".".join(name_parts))


def sqlite_ref(path: str, table: str) -> DatasetRef:
    """A table of the SQLite file at ``path`` (callers pass it absolute: the domain does not
    know the working directory)."""
    parts = _parts(table)
    if parts[0] == "main" and len(parts) == 2:
        parts = parts[1:]
    return DatasetRef(f"sqlite://{posixpath.normpath(path)}", ".".join(parts))


def url_ref(url: str, table: str) -> DatasetRef:
    """The reference of ``table`` in the database at ``url``: a SQLAlchemy URL, a libpq URL
    or a JDBC URL (``jdbc:postgresql://host/db``, ``jdbc:sqlite:/path/file.db``)."""
    text = url.strip()
    if text.lower().startswith("jdbc:"):
        text = text[len("jdbc:") :]
    scheme, colon, rest = text.partition(":")
    dialect = scheme.split("+", 1)[0].lower()
    if not colon or dialect not in _SCHEMES:
        raise DatasetNameError(
            f"url {_short(url)}: not a database URL; write postgresql://host:5432/db, "
            f"mysql://host:3306/db, sqlite:///path/file.db or their jdbc: forms"
        )
    if _SCHEMES[dialect] == "sqlite":
        path = rest.split("?", 1)[0]
        if not url.strip().lower().startswith("jdbc:"):
            # SQLAlchemy: sqlite:///relative.db, sqlite:////absolute.db
            path = path[3:] if path.startswith("///") else path.removeprefix("//")
        if not path:
            raise DatasetNameError(f"url {_short(url)}: a SQLite URL needs the database file")
        return sqlite_ref(unquote(path), table)
    if not rest.startswith("//"):  # jdbc:postgresql:db (the local server)
        rest = "///" + rest
    parts = urlsplit(f"{dialect}:{rest}")
    try:
        port = parts.port
    except ValueError:
        raise DatasetNameError(f"url {_short(url)}: the port is not a number") from None
    database = unquote(parts.path.lstrip("/").split("/", 1)[0])
    return database_ref(dialect, parts.hostname, port, database, table)


def file_ref(path: str, home: str | None) -> DatasetRef:
    """A file or directory dataset: relative to the platform ``home`` when it lies under
    it, else by its absolute path."""
    absolute = posixpath.normpath(path)
    if home:
        root = posixpath.normpath(home)
        if absolute.startswith(root.rstrip("/") + "/"):
            return DatasetRef(HOME_NAMESPACE, absolute[len(root.rstrip("/")) + 1 :])
    return DatasetRef(FILE_NAMESPACE, absolute)


def iceberg_ref(catalog: str, table: str, home: str | None) -> DatasetRef:
    """An Iceberg table ``namespace.table`` of the SQL catalog at ``catalog`` (a SQLAlchemy
    URL: sqlite:///PATH or postgresql://HOST:PORT/DB)."""
    database = url_ref(catalog, "catalog")
    if database.namespace.startswith("sqlite://"):
        path = database.namespace.removeprefix("sqlite://")
        located = file_ref(path, home)
        where = f"~/{located.name}" if located.namespace == HOME_NAMESPACE else path
    else:
        where = database.namespace.split("://", 1)[1] + "/" + database.name.split(".", 1)[0]
    return DatasetRef(f"iceberg://{where}", ".".join(_parts(table)))


def canonical(ref: DatasetRef, home: str | None = None) -> DatasetRef:
    """``ref`` in its canonical spelling (itself when it already is, or when it is not a
    location this module knows, such as a namespace chosen by hand)."""
    namespace, name = ref.namespace, ref.name
    try:
        if namespace == FILE_NAMESPACE and name.startswith("/"):
            return file_ref(name, home)
        if namespace.startswith("iceberg:///"):  # a SQLite catalog by its absolute path
            return iceberg_ref(f"sqlite://{namespace.removeprefix('iceberg:/')}", name, home)
        scheme = namespace.split(":", 1)[0].split("+", 1)[0].lower()
        kind = _SCHEMES.get(scheme.removeprefix("jdbc"))
        if namespace.lower().startswith("jdbc:"):
            return url_ref(namespace, name)
        if kind == "sqlite":  # this module's own form is sqlite://PATH
            path = namespace.split(":", 1)[1]
            return sqlite_ref(path[2:] if path.startswith("//") else path, name)
        if kind in ("postgres", "mysql"):
            parts = urlsplit(namespace)
            database = parts.path.lstrip("/")
            if database:  # a URL with its database: the name is schema.table or table
                return url_ref(namespace, name)
            first, _, rest = name.partition(".")
            if not rest:
                return ref
            # Stored names are the database's own: quoted, so they are kept, not folded.
            quoted = ".".join(f'"{part}"' for part in rest.split("."))
            return database_ref(kind, parts.hostname, parts.port, first, quoted)
    except (DatasetNameError, ValueError):
        return ref
    return ref


def _short(text: str) -> str:
    # Never echo credentials: the URL without what stands before '@'.
    shown = re.sub(r"//[^/@]*@", "//", text)
    return repr(shown if len(shown) <= 80 else shown[:77] + "...")
