"""Reading an Iceberg table with Spark: the files of one snapshot, planned by pyiceberg,
read with the schema that snapshot was written with (files from before a column was added
read it as NULL; Spark's reader never guesses a schema from one file)."""

from __future__ import annotations

from pyiceberg.exceptions import NoSuchTableError
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.iceberg.tables import IcebergTable, open_catalog
from adapters.spark.endpoints import EndpointConfig
from adapters.sql.target_urls import catalog_url
from domain.metadata.timestamps import parse_instant


def read_snapshot(spark: SparkSession, table: IcebergTable, snapshot: int | None) -> DataFrame:
    """The rows of ``snapshot`` (the current one when None) of ``table``."""
    schema = table.arrow_schema(snapshot)
    assert schema is not None, "read_snapshot needs a table that exists"
    spark_schema = from_arrow_schema(schema, prefer_timestamp_ntz=True)
    files = table.files(snapshot)
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
            return self.table().resolve(self.config.snapshot, as_of, self.config.committed_by)
        except NoSuchTableError as missing:
            raise ValueError(f"{self.config.name}: {missing}") from None

    def read(self) -> DataFrame:
        table = self.table()
        return read_snapshot(self.spark, table, self.snapshot())

    def write(self, frame: DataFrame, mode: str) -> None:
        raise ValueError(
            f"{self.config.name}: an iceberg table is written by a pipeline's target "
            f'(kind = "iceberg"), not as an endpoint'
        )
