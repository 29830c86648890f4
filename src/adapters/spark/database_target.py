"""Database targets (PostgreSQL, SQLite) of the Spark ingestion engine.

Spark computes what a run applies and writes it into staging tables
(:mod:`adapters.spark.staging`); one transaction of the target database then applies it
with the run's commit marker (:class:`adapters.sql.target.table.SqlTarget`). The target is
untouched until that transaction commits; a run killed before it leaves only staging
tables, which the next run drops.

What each mode stages: ``full`` the batch (then swapped in as the table); ``append`` the
batch's rows in the read window (the database skips those the target holds); ``scd1`` one
row per key, the latest by sequence, with a delete flag (the database upserts by key);
``scd2`` the batch, then the rebuilt history of the keys it touches (Spark reads their
stored history through JDBC; the database replaces it).

With an asynchronous metadata transport the apply transaction also writes the run's
records into ``metadata_outbox`` of the target database, which ``metadata relay --outbox
<target url>`` drains: the records exist exactly when the data does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sqlalchemy import Boolean, Column, Connection
from sqlalchemy.exc import DBAPIError

from adapters.serialization.records import RecordConverter
from adapters.spark import strategies
from adapters.spark.batch_keys import checked_keys, deleted_flag
from adapters.spark.database_history import stored_history
from adapters.spark.errors import engine_step
from adapters.spark.session import SparkSessionProvider
from adapters.spark.staging import (
    PostgresCopy,
    PostgresCsvCopy,
    SqliteInsert,
    copies_as_csv,
    stage_rows,
)
from adapters.spark.types import schema_from_spark
from adapters.sql.errors import TargetDatabaseError, database_reason
from adapters.sql.outbox import SqlOutbox, create_outbox_tables
from adapters.sql.target.stage import DELETED, Applied, Stage, Then
from adapters.sql.target.table import SqlTarget
from adapters.sql.target_urls import libpq_url, sqlalchemy_url
from domain.dataset import RunId
from domain.ingestion.plan import Plan
from domain.ingestion.spec import Mode, NullCursor, PipelineSpec
from domain.schema import Schema
from ports.ingestion import CommitRecords, Committed, Written


@attrs.frozen
class _Load:
    """One run's write into one database target: what a mode's body needs."""

    spec: PipelineSpec
    target: SqlTarget
    frame: DataFrame
    schema: Schema
    plan: Plan
    run: str
    records: CommitRecords | None


class DatabaseTargets:
    """The engine's half for database targets: stage with Spark, apply in the database."""

    def __init__(
        self,
        sessions: SparkSessionProvider,
        checkpoint: Callable[[str], None] | None = None,
        outbox: RecordConverter | None = None,
    ) -> None:
        self._sessions = sessions
        self._checkpoint = checkpoint or (lambda point: None)
        self._targets: dict[tuple[str, str], SqlTarget] = {}
        # Given: runs commit their records into the target database's outbox, in this form.
        self._converter = outbox

    @property
    def records_in_commit(self) -> bool:
        return self._converter is not None

    def outbox_url(self, spec: PipelineSpec) -> str:
        """The URL of the target database, whose outbox ``metadata relay --outbox`` drains
        (a SQLite file by its absolute path: the relay may run elsewhere)."""
        if spec.target.kind == "sqlite":
            return f"sqlite:///{Path(spec.target.path or '').resolve()}"
        return sqlalchemy_url(spec.target)

    def _commit(
        self,
        load: _Load,
        apply: Callable[[Then | None], Applied],
        *,
        rows_read: int,
        watermark: str | None = None,
        rejected: int = 0,
    ) -> Written:
        """Run the mode's apply transaction; with ``records``, the run's records (built from
        what it applied) go into the target database's outbox in that same transaction."""

        target, records, run = load.target, load.records, load.run

        def written(applied: Applied) -> Written:
            return Written(
                rows_read=rows_read,
                rows_written=applied.rows_written,
                bytes_written=None,
                version=run,
                watermark=watermark,
                rows_rejected=rejected,
                rows_inserted=applied.inserted,
                rows_updated=applied.updated,
                rows_deleted=applied.deleted,
                rows_closed=applied.closed,
            )

        if records is None:
            return written(apply(None))
        converter = self._converter
        assert converter is not None, "records in the commit need the outbox's converter"

        def then(connection: Connection, applied: Applied) -> None:
            create_outbox_tables(connection)  # in the target database, on first use
            SqlOutbox(target.engine, converter).put_in(
                connection, records(written(applied)), datetime.now(UTC)
            )

        return written(apply(then))

    def sql(self, spec: PipelineSpec) -> SqlTarget:
        key = (spec.name, repr(spec.target))
        if key not in self._targets:
            self._targets[key] = SqlTarget(spec.target, spec.name, self._checkpoint)
        return self._targets[key]

    def committed(self, spec: PipelineSpec) -> Committed | None:
        return self.sql(spec).committed()

    def target_schema(self, spec: PipelineSpec) -> Schema | None:
        schema = self.sql(spec).schema()
        if schema is None or spec.mode is not Mode.SCD2:
            return schema
        # The batch is judged against the data, not the history columns.
        return Schema.from_columns(
            [c for c in schema.columns if c.name not in strategies.HISTORY_COLUMNS]
        )

    def _writer(
        self, spec: PipelineSpec, stage: Stage, frame: DataFrame
    ) -> PostgresCopy | PostgresCsvCopy | SqliteInsert:
        if spec.target.kind == "sqlite":
            return SqliteInsert(spec.target.path or "", stage)
        if copies_as_csv(frame):
            return PostgresCsvCopy(libpq_url(spec.target), stage)
        return PostgresCopy(libpq_url(spec.target), stage)

    def _stage(self, spec: PipelineSpec, frame: DataFrame, stage: Stage, what: str) -> int:
        with engine_step(
            f"{spec.name}: writing {what} into a staging table (the target is unchanged)"
        ):
            rows = stage_rows(frame, self._writer(spec, stage, frame))
        if spec.mode is not Mode.FULL:  # joined with the target next: plan on its real size
            self.sql(spec).analyze(stage)
        return rows

    def write(
        self,
        spec: PipelineSpec,
        frame: DataFrame,
        schema: Schema,
        plan: Plan,
        run_id: RunId,
        records: CommitRecords | None = None,
    ) -> Written:
        target = self.sql(spec)
        try:
            return self._write(spec, target, frame, schema, plan, run_id, records)
        except DBAPIError as failure:
            raise TargetDatabaseError(
                f"{target.where}: {database_reason(failure)}; the target is unchanged"
            ) from None

    def _write(
        self,
        spec: PipelineSpec,
        target: SqlTarget,
        frame: DataFrame,
        schema: Schema,
        plan: Plan,
        run_id: RunId,
        records: CommitRecords | None,
    ) -> Written:
        target.drop_stages()  # what killed runs of this target left behind
        # A rebuild: staged as for a new target, which the apply's transaction then drops.
        target.replacing = plan.rebuild
        load = _Load(spec, target, frame, schema, plan, run_id.value, records)
        modes = {Mode.FULL: self._full, Mode.APPEND: self._append, Mode.SCD1: self._scd1}
        try:
            return modes.get(plan.strategy, self._scd2)(load)
        finally:
            target.drop_stages()

    def _full(self, load: _Load) -> Written:
        spec, target, frame, schema, run = load.spec, load.target, load.frame, load.schema, load.run
        stage = target.create_stage(run, "full", schema)
        rows = self._stage(spec, frame, stage, "the batch")
        self._checkpoint("staged")
        return self._commit(
            load,
            lambda then: target.apply_full(stage, run, spec.keys, rows, then),
            rows_read=rows,
        )

    def _append(self, load: _Load) -> Written:
        spec, target, frame, schema, plan, run = (
            load.spec,
            load.target,
            load.frame,
            load.schema,
            load.plan,
            load.run,
        )
        assert spec.watermark is not None and plan.window is not None
        column, window = spec.watermark.column, plan.window
        data_type, lower = strategies.read_window(
            spec.name, frame, column, window.after, window.lag
        )
        watermark = F.col(f"`{column}`")
        in_window = watermark.isNotNull() if lower is None else watermark >= lower
        # One small aggregate before the write (partitions written by their own connections
        # cannot carry Spark's observed metrics back).
        with engine_step(f"{spec.name}: reading the window's statistics"):
            observed = frame.agg(
                F.sum(F.when(in_window | watermark.isNull(), 1).otherwise(0)).alias("rows"),
                F.sum(F.when(watermark.isNull(), 1).otherwise(0)).alias("nulls"),
                strategies.greatest_watermark(column, window.after, data_type).alias("watermark"),
            ).first()
        assert observed is not None
        nulls = int(observed["nulls"] or 0)
        if spec.watermark.null_cursor is NullCursor.RAISE and nulls:
            raise strategies.NullWatermark(
                f"{spec.name}: {nulls} source row(s) have a NULL {column}; nothing was "
                f"written. Set [watermark] null_cursor to include or exclude to load or skip them"
            )
        include = spec.watermark.null_cursor is NullCursor.INCLUDE
        rows = strategies.append(
            frame,
            None,
            column=column,
            lower=lower,
            identity=list(spec.keys) or list(frame.columns),
            include_nulls=include,
        )
        stage = target.create_stage(run, "append", schema)
        self._stage(spec, rows, stage, "the rows in the read window")
        self._checkpoint("staged")
        bound = None
        if lower is not None:
            value = self._sessions.session().range(1).select(lower.alias("b")).first()
            bound = _python(value["b"] if value else None, data_type)
        new_watermark = observed["watermark"]
        reached = None if new_watermark is None else str(new_watermark)
        rejected = nulls if spec.watermark.null_cursor is NullCursor.EXCLUDE else 0
        return self._commit(
            load,
            lambda then: target.apply_append(
                stage,
                run,
                identity=list(spec.keys) or list(frame.columns),
                watermark_column=column,
                lower=bound,
                include_nulls=include,
                watermark=reached,
                then=then,
            ),
            rows_read=int(observed["rows"] or 0),
            watermark=reached,
            rejected=rejected,
        )

    def _scd1(self, load: _Load) -> Written:
        spec, target, frame, schema, run = load.spec, load.target, load.frame, load.schema, load.run
        rows_read = checked_keys(spec, frame)
        latest = strategies.latest_per_key(frame, spec.keys, spec.change_order).withColumn(
            DELETED, deleted_flag(spec)
        )
        stage = target.create_stage(run, "scd1", schema, extra=[Column(DELETED, Boolean)])
        self._stage(spec, latest, stage, "the batch's latest row per key")
        self._checkpoint("staged")
        return self._commit(
            load,
            lambda then: target.apply_scd1(
                stage,
                run,
                keys=spec.keys,
                sequence=spec.change_order,
                delete_missing=spec.deletes is not None and spec.deletes.missing_keys,
                then=then,
            ),
            rows_read=rows_read,
        )

    def _scd2(self, load: _Load) -> Written:
        spec, target, frame, run = load.spec, load.target, load.frame, load.run
        assert spec.change_order is not None
        checked_keys(spec, frame)
        schema = schema_from_spark(frame.schema, where=f"{spec.name} source")
        batch_stage = target.create_stage(run, "batch", schema)
        rows_read = self._stage(spec, frame, batch_stage, "the batch")
        # The batch (read once from the source and kept by the executors) and the stored
        # history of the keys it touches: the only rows the rebuild needs.
        batch = frame
        history = None
        if target.exists() and not target.replacing:
            history = stored_history(self._sessions, spec, target, batch_stage, frame, schema)
        deleted = (
            None
            if spec.deletes is None
            else strategies.delete_marker(spec.deletes.column, spec.deletes.value)
        )
        rebuilt = strategies.scd2(
            history, batch, keys=spec.keys, sequence=spec.change_order, deleted=deleted
        )
        rebuilt = rebuilt.withColumn(
            strategies.SEQUENCES,
            F.to_json(F.transform(F.col(strategies.SEQUENCES), lambda x: x.cast("string"))),
        )
        history_schema = schema_from_spark(rebuilt.schema, where=f"{spec.name} history")
        history_stage = target.create_stage(run, "history", history_schema)
        self._stage(spec, rebuilt, history_stage, "the touched keys' rebuilt history")
        self._checkpoint("staged")
        return self._commit(
            load,
            lambda then: target.apply_scd2(
                batch_stage,
                history_stage,
                run,
                keys=spec.keys,
                current=strategies.IS_CURRENT,
                then=then,
            ),
            rows_read=rows_read,
        )


def _python(value: Any, data_type: T.DataType) -> Any:
    """A bound for SQL: Spark's naive local timestamps become UTC instants."""
    if isinstance(value, datetime) and isinstance(data_type, T.TimestampType):
        return value.astimezone(UTC)
    return value
