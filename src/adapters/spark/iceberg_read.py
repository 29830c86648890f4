"""Reading an Iceberg table with Spark: the files of one snapshot, planned by pyiceberg,
read with the schema that snapshot was written with (files from before a column was added
read it as NULL; Spark's reader never guesses a schema from one file)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pyiceberg.conversions import from_bytes
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.schema import Schema as IcebergSchema
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    PrimitiveType,
)
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.iceberg.tables import IcebergTable, open_catalog
from adapters.spark.endpoints import EndpointConfig
from adapters.spark.parquet_footers import ColumnFooter, FooterStatistics
from adapters.sql.target_urls import catalog_url
from domain.metadata.timestamps import parse_instant

_EPOCH = date(1970, 1, 1)


def read_snapshot(
    spark: SparkSession, table: IcebergTable, snapshot: int | None, after: int | None = None
) -> DataFrame:
    """The rows of ``snapshot`` (the current one when None) of ``table``; with ``after``,
    only those the snapshots since ``after`` appended."""
    schema = table.arrow_schema(snapshot)
    assert schema is not None, "read_snapshot needs a table that exists"
    spark_schema = from_arrow_schema(schema, prefer_timestamp_ntz=True)
    if after is None or snapshot is None:
        files = table.files(snapshot)
    else:
        files = table.appended_since(after, snapshot)
    if not files:  # a table without rows (or without a snapshot yet)
        return spark.createDataFrame([], spark_schema)
    return spark.read.schema(spark_schema).parquet(*files)


class IcebergEndpoint:
    """An Iceberg table of a SQL catalog, as a source or a recon side (read only: a
    pipeline's target writes tables)."""

    def __init__(self, config: EndpointConfig, spark: SparkSession) -> None:
        self.config = config
        self.spark = spark

    def table(self) -> IcebergTable:
        catalog = open_catalog(catalog_url(self.config.catalog or "", self.config.password))
        table = IcebergTable(catalog, self.config.table or "", "")
        if table.table is None:
            raise ValueError(
                f"{self.config.name}: iceberg table {self.config.table} does not exist in "
                f"its catalog; check table (namespace.name) and catalog"
            )
        return table

    def snapshot(self) -> int | None:
        """The snapshot this side reads (pinned by the config, else the current one)."""
        as_of = None if self.config.as_of is None else parse_instant(self.config.as_of)
        try:
            return self.table().snapshot_named(
                self.config.snapshot, as_of, self.config.committed_by
            )
        except NoSuchTableError as missing:
            raise ValueError(f"{self.config.name}: {missing}") from None

    def read(self) -> DataFrame:
        return self.read_since(None)[0]

    def read_since(self, after: int | None) -> tuple[DataFrame, int | None]:
        """The rows of the snapshot this side reads (with ``after``: only those appended
        since that snapshot), and that snapshot's id."""
        table = self.table()
        snapshot = self.snapshot()
        return read_snapshot(self.spark, table, snapshot, after), snapshot

    def write(self, frame: DataFrame, mode: str) -> None:
        raise ValueError(
            f"{self.config.name}: an iceberg table is written by a pipeline's target "
            f'(kind = "iceberg"), not as an endpoint'
        )


# Types whose Iceberg bounds are exact values (strings' are truncated prefixes by default).
_EXACT_BOUNDS = (IntegerType, LongType, DecimalType, DateType, BooleanType)


def manifest_statistics(table: IcebergTable, snapshot: int | None) -> FooterStatistics | None:
    """What the snapshot's manifests already know of its top-level columns: rows, nulls and,
    for types whose bounds are exact, min and max; no data file is read. A column some file
    holds no figure for is left to the scan."""
    loaded = table.table
    if loaded is None:
        return None
    schema = loaded.schema() if snapshot is None else table_schema(table, snapshot)
    tasks = list(loaded.scan(snapshot_id=snapshot).plan_files())
    rows = sum(task.file.record_count for task in tasks)
    columns: dict[str, ColumnFooter] = {}
    for field in schema.fields:
        nulls, low, high, exact = 0, None, None, isinstance(field.field_type, _EXACT_BOUNDS)
        complete = True
        for task in tasks:
            found = task.file
            counted = (found.null_value_counts or {}).get(field.field_id)
            if counted is None:
                complete = False
                break
            nulls += counted
            lower = (found.lower_bounds or {}).get(field.field_id)
            upper = (found.upper_bounds or {}).get(field.field_id)
            if counted == found.record_count:
                continue  # all NULL: no bound to add
            if not exact or lower is None or upper is None:
                exact = False
                continue
            kind = field.field_type
            assert isinstance(kind, PrimitiveType)
            lo: Any = from_bytes(kind, lower)
            hi: Any = from_bytes(kind, upper)
            if isinstance(kind, DateType):  # days since the epoch
                lo, hi = _EPOCH + timedelta(days=int(lo)), _EPOCH + timedelta(days=int(hi))
            low = lo if low is None or lo < low else low
            high = hi if high is None or hi > high else high
        if complete:
            columns[field.name] = ColumnFooter(
                nulls, low if exact else None, high if exact else None, exact
            )
    return FooterStatistics(rows, columns)


def table_schema(table: IcebergTable, snapshot: int) -> IcebergSchema:
    assert table.table is not None
    found = table.table.snapshot_by_id(snapshot)
    schemas = table.table.schemas()
    if found is None or found.schema_id is None or found.schema_id not in schemas:
        return table.table.schema()
    return schemas[found.schema_id]
