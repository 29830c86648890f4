"""The ingestion engine on Spark: read a pipeline's source, commit its target atomically.

Database targets are in :mod:`adapters.spark.database_target`; file targets are Iceberg
tables (:mod:`adapters.spark.iceberg_target`: Spark writes the run's files, one catalog
commit makes them the table's next snapshot) or, deprecated, versioned Parquet directories
(:mod:`adapters.spark.versioned`). This module builds the rows a run writes for each mode;
the target stages them (nothing visible), then publishes them in one step a reader sees
whole or not at all. The commit marker a rerun reads is the snapshot's summary (Iceberg) or
the version's marker file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import attrs
from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from adapters.iceberg.tables import TableMoved
from adapters.serialization.records import RecordConverter
from adapters.spark import strategies
from adapters.spark.append import append_rows
from adapters.spark.database_target import DatabaseTargets
from adapters.spark.declared import Rejected, missing_columns, split_declared
from adapters.spark.endpoints import JdbcEndpoint, endpoint_config, open_endpoint
from adapters.spark.errors import engine_step
from adapters.spark.file_target import FileTarget
from adapters.spark.iceberg_read import IcebergEndpoint
from adapters.spark.iceberg_target import IcebergTarget
from adapters.spark.profiler import profile_frame
from adapters.spark.session import SparkSessionProvider
from adapters.spark.types import schema_from_spark, to_spark
from adapters.spark.versioned import VersionedTarget
from adapters.sql.run_access import access_problem
from adapters.sql.source_probe import engine_for_jdbc, probe_table
from domain.dataset import RunId
from domain.ingestion.plan import SNAPSHOTS, Plan, Probe
from domain.ingestion.spec import LOAD_TIME, Mode, NullCursor, PipelineSpec, TargetSpec
from domain.metadata.payloads import ColumnProfile
from domain.schema import DataType, Schema
from ports.ingestion import CommitRecords, Committed, Written


@attrs.frozen
class SparkBatch:
    """The rows of one run as a lazy DataFrame, with their schema in platform types."""

    frame: DataFrame
    schema: Schema
    rejected: Rejected = Rejected()  # rows whose declared types did not parse: left out
    snapshot: int | None = None  # an Iceberg source: the snapshot read
    notes: tuple[str, ...] = ()  # what the read changed by the source's policy, named

    @property
    def rejections(self) -> tuple[str, ...]:
        return self.rejected.reasons


def _versions(history: DataFrame) -> tuple[int, int]:
    """(versions, current versions) of a committed SCD2 target: one small aggregate."""
    row = history.agg(
        F.count(F.lit(1)), F.sum(F.when(F.col(strategies.IS_CURRENT), 1).otherwise(0))
    ).collect()[0]
    return int(row[0]), int(row[1] or 0)


class SparkIngestionEngine:
    """Implements the IngestionEngine port with Spark and the local file system."""

    def __init__(
        self,
        sessions: SparkSessionProvider,
        checkpoint: Callable[[str], None] | None = None,
        outbox: RecordConverter | None = None,
    ) -> None:
        self._sessions = sessions
        # Named points of a write, for crash tests (see apps.ingestion.spark_runtime).
        self._checkpoint = checkpoint or (lambda point: None)
        # ``outbox``: a database target's runs commit their records into its outbox.
        self._database = DatabaseTargets(sessions, self._checkpoint, outbox)
        # Each pipeline's file target as its current run sees it (see _file_target).
        self._files: dict[str, tuple[TargetSpec, FileTarget]] = {}

    def records_in_commit(self, spec: PipelineSpec) -> bool:
        return spec.target.is_database and self._database.records_in_commit

    def outbox_url(self, spec: PipelineSpec) -> str | None:
        """Where a run's records wait when they are committed with its data, if they are."""
        return self._database.outbox_url(spec) if self.records_in_commit(spec) else None

    def read(self, spec: PipelineSpec, plan: Plan) -> SparkBatch:
        config = endpoint_config(spec.name, spec.source)
        with engine_step(f"{spec.name}: reading the source"):
            endpoint = open_endpoint(config, self._sessions)
            parts, snapshot = plan.partitioning, None
            if parts is not None and isinstance(endpoint, JdbcEndpoint):
                frame = endpoint.read_partitioned(parts.predicates(), parts.fetch_size)
            elif isinstance(endpoint, IcebergEndpoint):  # by snapshot: what was appended since
                window = plan.window
                since = window.after if window and window.column == SNAPSHOTS else None
                if since is not None and not since.lstrip("-").isdigit():
                    raise ValueError(
                        f"{spec.name}: the committed watermark {since!r} is not a snapshot id "
                        f"(the pipeline read by a column before); run once with --full-refresh"
                    )
                frame, snapshot = endpoint.read_since(None if since is None else int(since))
            else:
                frame = endpoint.read()
        rejected = Rejected()
        if spec.source.columns:
            missing = missing_columns(frame, spec.source.columns)
            if missing:
                raise ValueError(
                    f"{spec.name}: source.columns declares {', '.join(map(repr, missing))}, "
                    f"which the source does not have; it has {', '.join(frame.columns)}"
                )
            with engine_step(f"{spec.name}: parsing the declared column types"):
                frame, rejected = split_declared(frame, spec.source.columns)
        if spec.mode is Mode.SCD2 and spec.sequence is None:
            if LOAD_TIME in frame.columns:
                raise ValueError(
                    f"{spec.name}: the source has a column {LOAD_TIME!r}, which a scd2 "
                    f"pipeline without a sequence stamps with the load time; name the "
                    f'sequence column (sequence = "{LOAD_TIME}") or rename it'
                )
            # One instant for the whole batch: the order of its changes is the load's.
            frame = frame.withColumn(LOAD_TIME, F.lit(datetime.now(UTC)).cast("timestamp"))
        if plan.strategy in (Mode.SCD1, Mode.SCD2):
            # The gate, the key checks and the write each pass over a batch: the source is
            # read once, kept by the executors (spilling to their disks), never on the
            # driver; the write releases it.
            frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
        notes = endpoint.notes if isinstance(endpoint, JdbcEndpoint) else ()
        return SparkBatch(
            frame,
            schema_from_spark(frame.schema, where=f"{spec.name} source"),
            rejected,
            snapshot,
            notes,
        )

    def access_problem(self, spec: PipelineSpec) -> str | None:
        return access_problem(spec)

    def probe(self, spec: PipelineSpec) -> Probe:
        slots = self._sessions.session().sparkContext.defaultParallelism
        source = spec.source
        if source.kind != "jdbc":
            return Probe(slots=slots, files=True)
        engine = engine_for_jdbc(source.url or "", source.user, source.password)
        if engine is None:  # SQLite: one file, one reader
            return Probe(slots=slots)
        candidates = [*spec.keys, *([spec.watermark.column] if spec.watermark else [])]
        return probe_table(engine, source.table or "", candidates, slots)

    def profile(self, batch: object, columns: Sequence[str]) -> Mapping[str, ColumnProfile]:
        assert isinstance(batch, SparkBatch)
        with engine_step("profiling the batch's values for the precision gate"):
            profile = profile_frame(
                batch.frame.select(*(F.col(f"`{c}`") for c in columns)), distinct=False
            )
        return {c.name: c for c in profile.columns}

    def key_of(self, batch: object, column: str, value: str, keys: Sequence[str]) -> str | None:
        assert isinstance(batch, SparkBatch)
        field = batch.frame.schema[column]
        shown = list(keys) or [f.name for f in batch.frame.schema.fields]
        with engine_step("finding a row with the offending value"):
            rows = (
                batch.frame.where(F.col(f"`{column}`") == F.lit(value).cast(field.dataType))
                .select(*(F.col(f"`{k}`") for k in shown))
                .limit(1)
                .collect()
            )
        return None if not rows else ", ".join(f"{k}={rows[0][k]!r}" for k in shown)

    def conform(self, batch: object, types: Mapping[str, DataType]) -> SparkBatch:
        assert isinstance(batch, SparkBatch)
        frame = batch.frame
        for name, data_type in types.items():
            frame = frame.withColumn(name, F.col(f"`{name}`").cast(to_spark(data_type)))
        return SparkBatch(frame, schema_from_spark(frame.schema, where="the batch"), batch.rejected)

    def _file_target(self, spec: PipelineSpec, *, fresh: bool = False) -> FileTarget:
        """The pipeline's file target as this run sees it: loaded afresh when the run plans
        (``fresh``, from :meth:`committed`), then the same for its gate and its commit (an
        Iceberg commit lands only on the snapshot the run planned from)."""
        known = self._files.get(spec.name)
        if fresh or known is None or known[0] != spec.target:
            made: FileTarget = (
                IcebergTarget(spec, self._sessions, self._checkpoint)
                if spec.target.is_iceberg
                else VersionedTarget(spec, self._sessions, self._checkpoint)
            )
            self._files[spec.name] = known = (spec.target, made)
        return known[1]

    def committed_version(self, spec: PipelineSpec) -> str | None:
        committed = self.committed(spec)
        return None if committed is None else committed.run_id

    def committed(self, spec: PipelineSpec) -> Committed | None:
        """What the target's commit marker says: the run, its rows and the watermark."""
        if spec.target.is_database:
            return self._database.committed(spec)
        return self._file_target(spec, fresh=True).committed()

    def target_schema(self, spec: PipelineSpec) -> Schema | None:
        if spec.target.is_database:
            return self._database.target_schema(spec)
        with engine_step(f"{spec.name}: reading the target's schema"):
            frame = self._file_target(spec).held()
        if frame is None:
            return None
        if spec.mode is Mode.SCD2:  # the batch is judged against the data, not the history
            frame = frame.drop(*strategies.HISTORY_COLUMNS)
        return schema_from_spark(frame.schema, where=f"{spec.name} target")

    def write(
        self,
        spec: PipelineSpec,
        batch: object,
        plan: Plan,
        run_id: RunId,
        records: CommitRecords | None = None,
    ) -> Written:
        assert isinstance(batch, SparkBatch)
        left_out = batch.rejected.rows

        def counted(written: Written) -> Written:
            # Rows whose declared types did not parse were read and rejected, not written.
            if not left_out:
                return written
            return attrs.evolve(
                written,
                rows_read=written.rows_read + left_out,
                rows_rejected=written.rows_rejected + left_out,
            )

        inner = None if records is None else (lambda w: records(counted(w)))
        try:
            return counted(self._write(spec, batch, plan, run_id, inner))
        finally:
            batch.frame.unpersist()

    def _write(
        self,
        spec: PipelineSpec,
        batch: SparkBatch,
        plan: Plan,
        run_id: RunId,
        records: CommitRecords | None,
    ) -> Written:
        if spec.target.is_database:
            return self._database.write(spec, batch.frame, batch.schema, plan, run_id, records)
        assert records is None, "a file target commits no records with its data"
        target = self._file_target(spec)
        held = None if plan.rebuild else target.held()  # a rebuild replaces what is held
        read = watermark = actions = None
        if plan.strategy in (Mode.SCD1, Mode.SCD2):
            frame, read, actions = self._merge(spec, batch, held, run_id, plan.strategy)
            replace = True
        elif plan.strategy is Mode.APPEND and spec.by_snapshot:  # the rows appended since
            frame, replace = batch.frame, held is None
        elif plan.strategy is Mode.APPEND:
            frame, read, watermark = append_rows(spec, batch.frame, plan, held, run_id)
            replace = held is None
        else:
            frame, replace = strategies.full(batch.frame), True
        # Counted on the way through the write: one pass, nothing collected on the driver.
        counted = Observation(f"written_{run_id.value}")
        frame = frame.observe(counted, F.count(F.lit(1)).alias("rows"))
        staged = target.stage(frame, run_id.value, replace=replace)
        self._checkpoint("staged")
        rows = int(counted.get["rows"])
        rows_read, rejected = rows, 0
        changes: dict[str, int] = {}
        if actions is not None and read is not None:
            changes = {k: int(v or 0) for k, v in actions.get.items()}
            rows_read = int(read.get["rows"] or 0)
            rows = max(0, changes["insert"]) + changes["update"]
        if read is not None and spec.watermark is not None:
            rows_read, nulls = int(read.get["rows"] or 0), int(read.get["nulls"] or 0)
            if spec.watermark.null_cursor is NullCursor.RAISE and nulls:
                target.discard(staged)  # never committed: nothing written
                raise strategies.NullWatermark(
                    f"{spec.name}: {nulls} source row(s) have a NULL {spec.watermark.column}; "
                    f"nothing was written. Set [watermark] null_cursor to include or exclude "
                    f"to load or skip them"
                )
            if spec.watermark.null_cursor is NullCursor.EXCLUDE:
                rejected = nulls
        new_watermark = None if watermark is None else watermark.get["watermark"]
        if spec.by_snapshot:  # the snapshot read is where the next run starts
            new_watermark = batch.snapshot
        try:
            published = target.commit(staged, run_id.value, rows, new_watermark)
        except TableMoved:
            target.discard(staged)  # the run that won holds the table; these files are nobody's
            raise
        return Written(
            rows_read=rows_read,
            rows_written=rows,
            bytes_written=staged.bytes,
            version=run_id.value,
            watermark=None if new_watermark is None else str(new_watermark),
            rows_rejected=rejected,
            rows_inserted=changes.get("insert"),
            rows_updated=changes.get("update", 0),
            rows_deleted=changes.get("delete", 0),
            rows_closed=max(0, changes.get("close", 0)),
            snapshot_id=published if isinstance(published, int) else None,
            schema=target.schema() if isinstance(target, IcebergTarget) else None,
        )

    def _merge(
        self,
        spec: PipelineSpec,
        batch: SparkBatch,
        target: DataFrame | None,
        run_id: RunId,
        strategy: Mode,
    ) -> tuple[DataFrame, Observation, Observation]:
        """The whole new version of an SCD1 or SCD2 target, with the batch's size and what
        changed counted on the way through the write."""
        marker = None if spec.deletes is None else spec.deletes.column
        strategies.require_columns(spec.name, batch.frame, [*spec.keys, spec.change_order, marker])
        with engine_step(f"{spec.name}: checking the batch's keys"):
            strategies.refuse_ambiguous_changes(batch.frame, spec.keys, spec.change_order)
        read = Observation(f"read_{run_id.value}")
        source = batch.frame.observe(read, F.count(F.lit(1)).alias("rows"))
        deleted = (
            None
            if spec.deletes is None
            else strategies.delete_marker(spec.deletes.column, spec.deletes.value)
        )
        actions = Observation(f"actions_{run_id.value}")
        if strategy is Mode.SCD2:
            assert spec.change_order is not None
            history = strategies.scd2(
                target, source, keys=spec.keys, sequence=spec.change_order, deleted=deleted
            )
            # Net counts: versions added, and versions closed (current before, not after).
            before = (0, 0) if target is None else _versions(target)
            current_now = F.col(strategies.IS_CURRENT)
            history = history.observe(
                actions,
                (F.count(F.lit(1)) - F.lit(before[0])).alias("insert"),
                (F.lit(before[1]) - F.sum(F.when(current_now, 1).otherwise(0))).alias("close"),
                F.lit(0).alias("update"),
                F.lit(0).alias("delete"),
            )
            return history, read, actions
        changes = strategies.scd1(
            target,
            source,
            keys=spec.keys,
            sequence=spec.change_order,
            deleted=deleted,
            delete_missing=spec.deletes is not None and spec.deletes.missing_keys,
        )
        action = F.col("__action")
        changes = changes.observe(
            actions,
            *(
                F.sum(F.when(action == name, 1).otherwise(0)).alias(name)
                for name in ("insert", "update", "delete", "keep")
            ),
        )
        return strategies.applied(changes), read, actions
