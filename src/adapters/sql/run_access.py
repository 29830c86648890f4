"""Whether a run could use its source and target, asked before any engine starts: a file
source readable; the target's schema exists, the user may create in it (a new table) or
change the table, the SQLite file's or the target directory's folder is writable. One line
naming what is wrong and the fix, or None."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from adapters.files.access import path_problem, readable_problem
from adapters.sql.target_urls import catalog_url, sqlalchemy_url
from domain.ingestion.errors import EngineFailed
from domain.ingestion.spec import PipelineSpec


def postgresql_problem(engine: Engine, schema: str | None, table: str, where: str) -> str | None:
    try:
        with engine.connect() as connection:
            schema = schema or connection.execute(text("select current_schema()")).scalar()
            if schema is None:
                return f'{where}: no schema on the search path; write table = "schema.{table}"'
            found = connection.execute(
                text("select 1 from pg_namespace where nspname = :s"), {"s": schema}
            ).first()
            if found is None:
                return (
                    f"{where}: the schema {schema!r} does not exist; create it "
                    f'(create schema "{schema}") or name another in table = "schema.{table}"'
                )
            qualified = f'"{schema}"."{table}"'
            exists = connection.execute(
                text("select to_regclass(:q) is not null"), {"q": qualified}
            ).scalar()
            if exists:
                allowed = connection.execute(
                    text(
                        "select has_table_privilege(:q, 'INSERT') and "
                        "has_table_privilege(:q, 'DELETE') and has_table_privilege(:q, 'UPDATE')"
                    ),
                    {"q": qualified},
                ).scalar()
                if not allowed:
                    return (
                        f"{where}: the user may not insert, update and delete in {schema}.{table}; "
                        f"grant those (or connect as its owner)"
                    )
            allowed = connection.execute(
                text("select has_schema_privilege(:s, 'CREATE')"), {"s": schema}
            ).scalar()
            if not allowed:  # staging tables (and a new target) are created in the schema
                return f"{where}: the user may not create tables in schema {schema!r}; grant CREATE on it"
    except DBAPIError as failure:  # not the pipeline's fault: the database is away
        reason = " ".join(str(failure.orig or failure).split()).split(" [SQL:")[0]
        raise EngineFailed(f"{where}: connection failed: {reason}") from None
    return None


def sqlite_problem(path: str, where: str) -> str | None:
    database = Path(path)
    if database.exists() and not os.access(database, os.W_OK):
        return f"{where}: {database} is not writable; fix its permissions or name another file"
    found = path_problem(database.parent, where)
    if found is None and not database.parent.is_dir():  # SQLite makes the file, not folders
        return (
            f"{where}: the folder {database.parent} does not exist; create it "
            f"(mkdir -p {database.parent}) or name another path"
        )
    return found


def target_problem(spec: PipelineSpec) -> str | None:
    """Why a run of ``spec`` could not write its target (database or folder), or None;
    no engine is started (a short-lived connection for a database target). A database that
    cannot be reached raises :class:`EngineFailed` (not the pipeline's fault: exit 1)."""
    target = spec.target
    if target.kind == "sqlite":
        where = f"{spec.name}: target {target.table} in the SQLite file {target.path}"
        return sqlite_problem(target.path or "", where)
    if target.kind == "iceberg":
        return iceberg_problem(spec)
    where = f"{spec.name}: target {target.table or target.path}"
    if target.kind == "postgresql":
        where = f"{where} (postgresql)"
        schema, table = target.schema_and_table
        engine = create_engine(sqlalchemy_url(target), connect_args={"connect_timeout": 10})
        try:
            return postgresql_problem(engine, schema, table, where)
        finally:
            engine.dispose()
    return parquet_problem(spec) or path_problem(Path(target.path or "."), where)


def parquet_problem(spec: PipelineSpec) -> str | None:
    """A versioned Parquet directory (deprecated) is written only where one was made before
    (its path a version link): a new one is refused with what to write instead."""
    path = spec.target.path or ""
    if "://" not in path and Path(path).is_symlink():
        return None
    return (
        f"{spec.name}: target {path}: new Parquet directory targets are no longer made (the "
        f"versioned layout is deprecated: its links and renames work on one POSIX file system "
        f'only); write an Iceberg table instead: kind = "iceberg" and table = '
        f'"NAMESPACE.NAME" in [target] (docs/ingestion.md, "Iceberg targets"); a Parquet '
        f"target made before converts with: ingestion migrate-target PIPELINE.toml "
        f"--table NAMESPACE.NAME"
    )


def iceberg_problem(spec: PipelineSpec) -> str | None:
    """Why a run could not commit to its Iceberg target: its catalog (the SQLite file's
    folder, or the PostgreSQL schema the catalog's tables live in) or its files' location."""
    target = spec.target
    where = f"{spec.name}: target {target.table} (iceberg)"
    catalog = make_url(catalog_url(target.catalog or "", target.password))
    if catalog.drivername == "sqlite":
        database = Path(catalog.database or "")
        found = (
            sqlite_problem(str(database), f"{where}: catalog")
            if database.exists()
            else path_problem(database.parent, f"{where}: catalog")
        )
    else:
        engine = create_engine(catalog, connect_args={"connect_timeout": 10})
        try:
            found = postgresql_problem(engine, None, "iceberg_tables", f"{where}: catalog")
        finally:
            engine.dispose()
    location = target.location or ""
    if found is not None or ("://" in location and not location.startswith("file:")):
        return found  # an object store's or HDFS's location: nothing local to look at
    return path_problem(Path(location.removeprefix("file://")), where)


def access_problem(spec: PipelineSpec) -> str | None:
    """Why a run of ``spec`` could not read its (file) source or write its target, or None;
    see :func:`target_problem` for an unreachable database."""
    source = spec.source
    # A local path only: an object store's or HDFS's (scheme://...) is the engine's to read.
    if source.kind != "jdbc" and source.path and ":" not in source.path.split("/", 1)[0]:
        found = readable_problem(Path(source.path), f"{spec.name}: source")
        if found is not None:
            return found
    return target_problem(spec)
