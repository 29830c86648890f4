"""Compaction of an Iceberg table: the small data files of the current snapshot, where a
partition holds many (one per append run, as a pipeline that runs often leaves them), are
rewritten into one file per partition and committed as one ``replace`` snapshot (the
table's rows unchanged: Iceberg's operation for compaction), so planning a read stays flat
however many runs appended.

The rewrite reads the files through pyiceberg (the table's schema and name mapping: a file
from before a column was added reads it as NULL), writes one Parquet file without field ids
(the table reads it by name, like Spark's), and commits only on the snapshot it planned
from: a run that committed meanwhile makes it stop (:class:`TableMoved`), nothing visible.
The replaced files stay on disk while an older snapshot reads them; maintenance removes them
once those snapshots expire. The new snapshot keeps the commit marker of the one it
compacts (run, rows, watermark), so the next run plans as if nothing happened.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable

import attrs
import pyarrow.parquet as pq
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan, parquet_files_to_data_files, schema_to_pyarrow
from pyiceberg.table import FileScanTask
from pyiceberg.table.snapshots import Operation, Summary
from pyiceberg.table.update.snapshot import _OverwriteFiles
from pyiceberg.typedef import EMPTY_DICT

from adapters.iceberg.tables import IcebergTable, TableMoved, remove, storage, uri

SMALL_BYTES = 32 * 1024 * 1024  # a data file under this is small
MIN_FILES = 8  # a partition is compacted once it holds this many small files
COMPACTED = "dataplatform.compacted"  # the summary key: how many files the snapshot merged


@attrs.frozen
class Group:
    """The small files of one partition, to become one file."""

    partition: str  # the partition's values as text ("" for an unpartitioned table)
    files: tuple[str, ...]
    rows: int
    bytes: int


@attrs.frozen
class CompactionPlan:
    table: str
    groups: tuple[Group, ...] = ()

    @property
    def files(self) -> int:
        return sum(len(g.files) for g in self.groups)


def plan_compaction(
    table: IcebergTable, *, small_bytes: int = SMALL_BYTES, min_files: int = MIN_FILES
) -> CompactionPlan:
    """The partitions of the current snapshot holding ``min_files`` or more small files;
    changes nothing."""
    by_partition: dict[str, list[FileScanTask]] = defaultdict(list)
    specs = {} if table.table is None else table.table.specs()
    for task in table.scan_tasks():
        if task.file.file_size_in_bytes < small_bytes:
            fields = specs[task.file.spec_id].fields
            values = task.file.partition
            named = ", ".join(f"{f.name}={values[i]}" for i, f in enumerate(fields))
            by_partition[named].append(task)
    groups = tuple(
        Group(
            partition,
            tuple(t.file.file_path for t in tasks),
            sum(t.file.record_count for t in tasks),
            sum(t.file.file_size_in_bytes for t in tasks),
        )
        for partition, tasks in sorted(by_partition.items())
        if len(tasks) >= min_files
    )
    return CompactionPlan(table.identifier, groups)


def apply_compaction(
    table: IcebergTable, plan: CompactionPlan, before: Callable[[], None] = lambda: None
) -> int | None:
    """Rewrite the plan's groups and commit them as one replace snapshot; its id (None when
    there was nothing to do). The new files are removed again when the commit is refused."""
    loaded = table.table
    if loaded is None or not plan.groups:
        return None
    tasks = {t.file.file_path: t for t in table.scan_tasks()}
    wanted = [path for group in plan.groups for path in group.files]
    if any(path not in tasks for path in wanted):
        raise TableMoved(
            f"iceberg table {table.identifier}: a run committed while compaction planned; "
            f"nothing was compacted; run it again"
        )
    directory = f"{table.location.rstrip('/')}/data/compacted-{uuid.uuid4().hex}"
    filesystem, root = storage(directory)
    filesystem.create_dir(root, recursive=True)
    schema = loaded.schema()
    plain = schema_to_pyarrow(schema, include_field_ids=False)
    written = []
    try:
        scan = ArrowScan(loaded.metadata, loaded.io, schema, AlwaysTrue())
        for number, group in enumerate(plan.groups):
            rows = scan.to_table([tasks[path] for path in group.files]).cast(plain)
            path = f"{root}/part-{number:05d}.parquet"  # (its URI below)
            with filesystem.open_output_stream(path) as stream:
                pq.write_table(rows, stream, coerce_timestamps="us")
            name = f"part-{number:05d}.parquet"
            written.append(f"{directory}/{name}" if "://" in directory else uri(path))
        return _commit(table, [tasks[path] for path in wanted], written, before)
    except BaseException:
        remove(directory)  # never committed: nobody's files
        raise


class _Rewrite(_OverwriteFiles):
    """pyiceberg 0.12 has no producer of "replace" snapshots (Iceberg's operation for a
    rewrite that leaves the rows as they were): its overwrite, whose summary (the totals)
    is counted as an overwrite's and then named a replace."""

    def _summary(self, snapshot_properties: dict[str, str] = EMPTY_DICT) -> Summary:
        self._operation = Operation.OVERWRITE
        try:
            counted = super()._summary(snapshot_properties)
        finally:
            self._operation = Operation.REPLACE
        return Summary(Operation.REPLACE, **counted.additional_properties)


def _commit(
    table: IcebergTable,
    replaced: list[FileScanTask],
    written: list[str],
    before: Callable[[], None],
) -> int:
    loaded = table.table
    assert loaded is not None
    current = loaded.current_snapshot()
    marker = (
        {} if current is None or current.summary is None else current.summary.additional_properties
    )
    properties = {k: v for k, v in marker.items() if k.startswith("dataplatform.")}
    properties[COMPACTED] = str(len(replaced))
    tx = loaded.transaction()
    data_files = list(parquet_files_to_data_files(loaded.io, tx.table_metadata, iter(written)))
    producer = _Rewrite(
        operation=Operation.REPLACE,
        transaction=tx,
        io=loaded.io,
        snapshot_properties=properties,
    )
    with producer as rewrite:
        for task in replaced:
            rewrite.delete_data_file(task.file)
        for data_file in data_files:
            rewrite.append_data_file(data_file)
    before()
    try:
        committed = tx.commit_transaction()
    except CommitFailedException:
        raise TableMoved(
            f"iceberg table {table.identifier}: a run committed while compaction wrote; "
            f"nothing was compacted; run it again"
        ) from None
    snapshot = committed.current_snapshot()
    assert snapshot is not None
    table.table = committed
    return snapshot.snapshot_id
