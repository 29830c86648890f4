"""Iceberg tables as the tests read them back: with the runtime's own reader (Spark over
the snapshot's files) and with a second engine, DuckDB and its iceberg extension (from PyPI,
loaded from its file: nothing is fetched)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import duckdb_extension_avro
import duckdb_extension_iceberg
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.iceberg.tables import open_catalog
from adapters.sql.target_urls import catalog_url


def table(catalog: str, identifier: str) -> Table:
    opened: SqlCatalog = open_catalog(catalog_url(catalog))
    return opened.load_table(identifier)


def spark_read(
    spark: SparkSession, catalog: str, identifier: str, snapshot: int | None = None
) -> DataFrame:
    """The table (at ``snapshot``, else the current one) as the runtime reads it."""
    found = table(catalog, identifier)
    files = [t.file.file_path for t in found.scan(snapshot_id=snapshot).plan_files()]
    schema = from_arrow_schema(found.schema().as_arrow(), prefer_timestamp_ntz=True)
    return spark.read.schema(schema).parquet(*files)


def _extension(module: Any, name: str) -> str:
    pattern = os.path.join(
        os.path.dirname(module.__file__), "extensions", "*", f"{name}.duckdb_extension"
    )
    return glob.glob(pattern)[0]


@contextmanager
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET autoinstall_known_extensions = false")
    connection.execute("SET autoload_known_extensions = false")
    connection.execute(f"LOAD '{_extension(duckdb_extension_avro, 'avro')}'")
    connection.execute(f"LOAD '{_extension(duckdb_extension_iceberg, 'iceberg')}'")
    try:
        yield connection
    finally:
        connection.close()


def duckdb_rows(
    catalog: str, identifier: str, select: str, snapshot: int | None = None
) -> list[tuple[Any, ...]]:
    """``select`` (its FROM clause is ``t``) over the table as DuckDB reads it."""
    found = table(catalog, identifier)
    at = "" if snapshot is None else f", snapshot_from_id = {snapshot}"
    with duck() as connection:
        connection.execute(
            f"CREATE VIEW t AS SELECT * FROM iceberg_scan('{found.metadata_location}'{at})"
        )
        return connection.execute(select).fetchall()
