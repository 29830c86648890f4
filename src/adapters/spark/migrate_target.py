"""A versioned Parquet target turned into an Iceberg table holding its current version.

The version's rows are read by Spark and written as the table's first snapshot (its files
rewritten: versioned targets wrote INT96 timestamps, which Iceberg refuses), whose summary
names the run that committed the version, its rows and its watermark: the commit marker the
pipeline's next run reads, so an incremental pipeline goes on from where it was.
"""

from __future__ import annotations

import attrs

from adapters.spark.iceberg_target import IcebergTarget
from adapters.spark.session import SparkSessionProvider
from adapters.spark.versioned import VersionedTarget
from domain.ingestion.spec import PipelineSpec, TargetSpec


@attrs.frozen
class Migrated:
    run_id: str
    rows: int
    watermark: str | None
    snapshot_id: int


def migrate_target(
    spec: PipelineSpec, target: TargetSpec, sessions: SparkSessionProvider
) -> Migrated:
    """Copy ``spec``'s committed Parquet version into the new Iceberg ``target``."""
    versioned = VersionedTarget(spec, sessions)
    committed = versioned.committed()
    rows = versioned.held()
    if committed is None or rows is None:
        raise ValueError(
            f"{spec.name}: target.path {spec.target.path} holds no committed version; "
            f'there is nothing to migrate: write kind = "iceberg" in the pipeline and run it'
        )
    iceberg_spec = attrs.evolve(spec, target=target)
    iceberg = IcebergTarget(iceberg_spec, sessions)
    if iceberg.table.table is not None:
        raise ValueError(
            f"{spec.name}: the iceberg table {target.table} exists already; name a new table "
            f"(--table), or drop that one first"
        )
    staged = iceberg.stage(rows, committed.run_id, replace=True)
    snapshot = iceberg.commit(staged, committed.run_id, committed.rows_written, committed.watermark)
    return Migrated(committed.run_id, committed.rows_written, committed.watermark, snapshot)
