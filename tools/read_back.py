"""Read an Iceberg table back with two engines: the runtime's own reader (Spark over the
snapshot's files) and DuckDB with its iceberg extension (from PyPI, loaded from its file:
nothing is fetched). Prints the row count and a column's sum from each, and exits 1 when
they differ.

    ./pants run tools/read_back.py -- sales.orders --sum amount
    ./pants run tools/read_back.py -- sales.orders --catalog postgresql://etl@db:5432/lake
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import duckdb_extension_avro
import duckdb_extension_iceberg


def _extension(module: Any, name: str) -> str:
    folder = os.path.dirname(module.__file__)
    return glob.glob(os.path.join(folder, "extensions", "*", f"{name}.duckdb_extension"))[0]


@contextmanager
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that reads Iceberg tables (its extensions loaded from files)."""
    connection = duckdb.connect()
    connection.execute("SET autoinstall_known_extensions = false")
    connection.execute("SET autoload_known_extensions = false")
    connection.execute(f"LOAD '{_extension(duckdb_extension_avro, 'avro')}'")
    connection.execute(f"LOAD '{_extension(duckdb_extension_iceberg, 'iceberg')}'")
    try:
        yield connection
    finally:
        connection.close()


def duckdb_select(metadata: str, select: str, snapshot: int | None = None) -> list[tuple[Any, ...]]:
    """``select`` (its FROM clause is ``t``) over the table whose metadata file is
    ``metadata``, as DuckDB reads it (at ``snapshot`` when given)."""
    at = "" if snapshot is None else f", snapshot_from_id = {snapshot}"
    with duck() as connection:
        connection.execute(f"CREATE VIEW t AS SELECT * FROM iceberg_scan('{metadata}'{at})")
        return connection.execute(select).fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table", help="namespace.name")
    parser.add_argument("--catalog", help="the SQL catalog's URL (default: the home's)")
    parser.add_argument("--sum", dest="column", default="amount", help="the column to sum")
    args = parser.parse_args()
    home = Path(os.environ.get("DATAPLATFORM_HOME") or Path.home() / ".dataplatform")
    catalog = args.catalog or f"sqlite:///{home / 'iceberg' / 'catalog.db'}"

    from adapters.iceberg.tables import IcebergTable, open_catalog
    from adapters.spark.iceberg_read import read_snapshot
    from adapters.spark.session import SparkSessionProvider, SparkSettings
    from adapters.sql.target_urls import catalog_url

    table = IcebergTable(open_catalog(catalog_url(catalog)), args.table, "")
    if table.table is None:
        print(f"error: no iceberg table {args.table} in {catalog}", file=sys.stderr)
        return 2
    snapshot = table.snapshot_named()
    # Spark's own log lines go to <home>/logs/spark.log, as the apps' do.
    sessions = SparkSessionProvider(
        SparkSettings(master="local[1]", app_name="read-back", log_dir=str(home / "logs"))
    )
    try:
        frame = read_snapshot(sessions.session(), table, snapshot)
        ours = tuple(frame.selectExpr("count(*)", f"sum(`{args.column}`)").collect()[0])
    finally:
        sessions.stop()
    column = args.column.replace('"', '""')
    theirs = duckdb_select(
        table.table.metadata_location, f'SELECT count(*), sum("{column}") FROM t', snapshot
    )[0]
    same = ours == theirs
    print(
        f"{args.table} at snapshot {snapshot}: the runtime (Spark) reads {ours[0]} row(s), "
        f"sum({args.column}) {ours[1]}; DuckDB reads {theirs[0]} row(s), sum({args.column}) "
        f"{theirs[1]}: {'equal' if same else 'DIFFERENT'}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
