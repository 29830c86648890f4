"""An Iceberg target: Spark writes a run's Parquet files, the catalog commit publishes them.

A run writes its files under ``<location>/data/<run id>/`` (new files only: never over a
file of a committed snapshot), then :class:`adapters.iceberg.tables.IcebergTable` commits
them as one snapshot: appended (append runs) or replacing the current files (full, SCD1,
SCD2). Until that commit nothing of the run is visible; a run that fails or is killed
before it leaves files no snapshot references, which ``ingestion maintain`` removes. The
table is loaded once, when the run plans (:meth:`IcebergTarget.committed`), and the commit
is refused if another run committed since: the run is re-planned as a whole, never
committed on top of what it did not see. No link, rename or move is part of the commit.

Partitioned tables are written by a copy of each partition value (Spark's ``partitionBy``
drops the column it splits by from the files; the copy keeps the real column in every
file, so no value reads back NULL), one value per file, as Iceberg requires.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.iceberg.compaction import apply_compaction, plan_compaction
from adapters.iceberg.maintenance import apply_maintenance, plan_maintenance
from adapters.iceberg.tables import (
    MODE,
    PIPELINE,
    ROWS,
    RUN_ID,
    WATERMARK,
    IcebergTable,
    open_catalog,
    parquet_files,
    remove,
    storage,
)
from adapters.spark.errors import engine_step
from adapters.spark.file_target import OpenedForRun, Staged
from adapters.spark.types import schema_from_spark
from adapters.sql.target_urls import catalog_url
from domain.ingestion.spec import PipelineSpec
from domain.schema import Schema
from ports.ingestion import Committed

_FORMATS = {"day": "yyyy-MM-dd", "month": "yyyy-MM", "year": "yyyy"}


def open_table(spec: PipelineSpec) -> IcebergTable:
    """The target's table as it stands now (absent before the first commit)."""
    target = spec.target
    catalog = open_catalog(catalog_url(target.catalog or "", target.password))
    return IcebergTable(catalog, target.table or "", target.location or "")


class IcebergTarget(OpenedForRun):
    """One pipeline's Iceberg table, as one run plans, writes and commits it."""

    def _open(self) -> None:
        spec = self._spec
        with engine_step(f"{spec.name}: loading the iceberg table {spec.target.table}"):
            self.table = open_table(spec)

    def committed(self) -> Committed | None:
        marker = self.table.marker()
        if marker is None:
            return None
        # A snapshot another engine wrote has no run: named by its id.
        run = marker.run_id or f"snapshot-{marker.snapshot_id}"
        return Committed(run, marker.rows, marker.watermark)

    def held(self) -> DataFrame | None:
        """The rows of the snapshot the run planned from, read with the table's schema
        (files written before a column was added read it as NULL)."""
        files = self.table.files()
        schema = self.table.arrow_schema()
        if not files or schema is None:
            return None
        spark_schema = from_arrow_schema(schema, prefer_timestamp_ntz=True)
        return self._sessions.session().read.schema(spark_schema).parquet(*files)

    def schema(self) -> Schema | None:
        """The table's schema as it stands (after the run's commit: the table owns it)."""
        arrow = self.table.arrow_schema()
        if arrow is None:
            return None
        spark_schema = from_arrow_schema(arrow, prefer_timestamp_ntz=True)
        return schema_from_spark(spark_schema, where=f"iceberg table {self._spec.target.table}")

    def stage(self, frame: DataFrame, run_id: str, *, replace: bool) -> Staged:
        """Write ``frame`` as this run's new files (nothing visible yet)."""
        spark = self._sessions.session()
        # Iceberg refuses INT96, Spark's default for timestamps.
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        directory = f"{self.table.location.rstrip('/')}/data/{run_id}"
        remove(directory)  # a killed attempt of this very run: never committed
        copies = self._partition_copies(frame)
        writer = frame.select("*", *(c.alias(n) for n, c in copies.items())).write
        if copies:
            writer = writer.partitionBy(*copies)
        try:
            with engine_step(f"{self._spec.name}: writing the run's files (nothing visible yet)"):
                writer.mode("errorifexists").parquet(directory)
        except BaseException:
            remove(directory)  # what a failed write left: never to be committed
            raise
        files = parquet_files(directory)
        size = sum(_size(f) for f in files)
        return Staged(directory, tuple(files), size, replace)

    def commit(self, staged: Staged, run_id: str, rows: int, watermark: object) -> int:
        """Commit the staged files as the table's next snapshot; its id."""
        spec = self._spec
        summary = {
            RUN_ID: run_id,
            PIPELINE: spec.name,
            MODE: spec.mode.value,
            ROWS: str(rows),
            **({} if watermark is None else {WATERMARK: str(watermark)}),
        }
        with engine_step(f"{spec.name}: committing the iceberg snapshot"):
            snapshot = self.table.commit(
                staged.files,
                replace=staged.replace,
                summary=summary,
                partition=spec.target.partition_fields,
                before=lambda: self._checkpoint("committing"),
            )
        self._checkpoint("switched")  # the snapshot is the table's: as a switched link
        if spec.target.maintenance.after_each_run:
            self._maintain()
        return snapshot

    def _maintain(self) -> None:
        """The pipeline's maintenance after its committed run; a failure here is said and
        does not undo the run (``ingestion maintain`` does it again)."""
        settings = self._spec.target.maintenance
        try:
            apply_compaction(self.table, plan_compaction(self.table))
            plan = plan_maintenance(
                self.table,
                keep=settings.keep_snapshots,
                older_than=timedelta(seconds=settings.older_than_seconds),
                grace=timedelta(hours=1),
                now=datetime.now(UTC),
            )
            apply_maintenance(self.table, plan)
        except Exception as failure:  # the run is committed: maintenance is its own step
            warnings.warn(
                f"{self._spec.name}: maintenance after the run failed ({failure}); run "
                f"`ingestion maintain` for the table {self._spec.target.table}",
                stacklevel=1,
            )

    def discard(self, staged: Staged) -> None:
        remove(staged.where)

    def _partition_copies(self, frame: DataFrame) -> Mapping[str, Column]:
        """A column per partition field holding its value (the directory Spark splits by)."""
        copies: dict[str, Column] = {}
        types = {f.name.lower(): f for f in frame.schema.fields}
        for i, (transform, column) in enumerate(self._spec.target.partition_fields):
            field = types.get(column.lower())
            where = f"{self._spec.name}: target.partition_by"
            if field is None:
                raise ValueError(
                    f"{where} names {column!r}, which the batch does not have; it has "
                    f"{', '.join(frame.columns)}"
                )
            value = F.col(f"`{field.name}`")
            if transform is not None:
                value = _temporal(where, field, transform, value, self._session_zone())
            elif isinstance(field.dataType, T.StructType | T.ArrayType | T.MapType):
                raise ValueError(
                    f"{where}: {column!r} is a {field.dataType.simpleString()}, which a table "
                    f"cannot be partitioned by; name a column of a plain type"
                )
            copies[f"__partition_{i}"] = value
        return copies

    def _session_zone(self) -> str:
        return str(self._sessions.session().conf.get("spark.sql.session.timeZone") or "UTC")


def _temporal(where: str, field: T.StructField, transform: str, value: Column, zone: str) -> Column:
    """The value of ``transform`` (day, month, year) of a timestamp or date, as Iceberg
    computes it: of an instant, in UTC."""
    kind = field.dataType
    if isinstance(kind, T.TimestampType):  # an instant: its UTC wall time
        value = F.convert_timezone(F.lit(zone), F.lit("UTC"), value.cast("timestamp_ntz"))
    elif not isinstance(kind, T.TimestampNTZType | T.DateType):
        raise ValueError(
            f"{where}: {transform}({field.name}) needs a timestamp or a date; "
            f"{field.name!r} is a {kind.simpleString()}; partition by the column itself"
        )
    return F.date_format(value, _FORMATS[transform])


def _size(file: str) -> int:
    filesystem, path = storage(file)
    return int(filesystem.get_file_info(path).size or 0)
