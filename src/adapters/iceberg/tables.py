"""Iceberg tables in a SQL catalog (SQLite or PostgreSQL), through pyiceberg.

Spark writes a run's Parquet files under the table's location; :meth:`IcebergTable.commit`
makes them the table's next snapshot in one catalog commit, which is a compare-and-set of
the table's metadata location: a run commits only on top of the snapshot it planned from
(pyiceberg's retries are off), so a concurrent commit is refused, never merged. The
snapshot's summary carries the run's id, mode, rows and watermark: the commit marker a rerun
reads. Nothing here links, renames or deletes a committed file; the storage is reached
through pyarrow's file systems (a local path, s3://, gs://, abfs://, hdfs://).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.io.pyarrow import parquet_files_to_data_files, schema_to_pyarrow
from pyiceberg.manifest import ManifestEntryStatus
from pyiceberg.table import FileScanTask, Table, TableProperties, Transaction
from pyiceberg.table.snapshots import Snapshot
from sqlalchemy.engine import make_url

# The snapshot summary keys of a run's commit: what a rerun reads back.
RUN_ID, PIPELINE, MODE, ROWS, WATERMARK = (
    "dataplatform.run-id",
    "dataplatform.pipeline",
    "dataplatform.mode",
    "dataplatform.rows",
    "dataplatform.watermark",
)
CATALOG_NAME = "dataplatform"
_TABLE_PROPERTIES = {
    # A stale commit is refused, never retried on top of a snapshot the run did not see.
    "commit.retry.num-retries": "0",
    # Appends merge small manifests once there are a few: planning stays flat over many
    # runs (pyiceberg's default waits for 100; measured: bench/iceberg_commits.py).
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "4",
    "format-version": "2",
    # Each commit writes a metadata file: keep the last ones, delete the older.
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
}


class TableMoved(ValueError):
    """Another run committed to the table after this run planned: nothing of this run is
    visible; run it again (it re-plans from the new snapshot)."""


class UnreadableSnapshot(ValueError):
    """A snapshot this platform cannot read exactly (delete files another engine wrote)."""


@attrs.frozen
class Marker:
    """What a run's snapshot says about the run."""

    snapshot_id: int
    run_id: str | None
    rows: int
    watermark: str | None


@lru_cache(maxsize=8)
def open_catalog(url: str) -> SqlCatalog:
    """The SQL catalog at ``url`` (a SQLite file's directory is made when missing)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(CATALOG_NAME, uri=url)


def storage(location: str) -> tuple[fs.FileSystem, str]:
    """The file system of ``location`` and the path in it."""
    if "://" not in location:
        return fs.LocalFileSystem(), str(Path(location).absolute())
    filesystem, path = fs.FileSystem.from_uri(location)
    return filesystem, str(path)


def uri(location: str) -> str:
    """``location`` as a URI pyiceberg and Spark both read (``file:`` for a local path)."""
    return location if "://" in location else Path(location).absolute().as_uri()


def parquet_files(directory: str) -> list[str]:
    """The Parquet files Spark wrote under ``directory`` (its marker files left out), as
    URIs."""
    filesystem, path = storage(directory)
    found = filesystem.get_file_info(fs.FileSelector(path, recursive=True, allow_not_found=True))
    scheme = directory.split("://", 1)[0] + "://" if "://" in directory else "file://"
    return sorted(
        f"{scheme}{info.path}"
        for info in found
        if info.type == fs.FileType.File
        and info.base_name.endswith(".parquet")
        and not info.base_name.startswith(("_", "."))
        and "/_temporary/" not in info.path
    )


def remove(directory: str) -> None:
    """Delete ``directory`` and what is in it (a run's files no snapshot references)."""
    filesystem, path = storage(directory)
    with contextlib.suppress(FileNotFoundError):
        filesystem.delete_dir(path)


def _nullable(schema: pa.Schema) -> pa.Schema:
    """The table owns its schema: every column optional, so no batch is refused for a
    nullability Spark happened to infer."""
    return pa.schema([field.with_nullable(True) for field in schema])


class IcebergTable:
    """One table of a catalog as a run sees it: loaded once, when the run plans; the run's
    commit lands only on top of that snapshot."""

    def __init__(self, catalog: SqlCatalog, identifier: str, location: str) -> None:
        self.catalog = catalog
        self.identifier = identifier
        self.location = uri(location)
        try:
            self.table: Table | None = catalog.load_table(identifier)
        except NoSuchTableError:
            self.table = None

    @property
    def snapshot(self) -> Snapshot | None:
        return None if self.table is None else self.table.current_snapshot()

    def marker(self) -> Marker | None:
        """The current snapshot's commit marker (None before the first commit)."""
        snapshot = self.snapshot
        if snapshot is None or snapshot.summary is None:
            return None
        summary = snapshot.summary
        rows = summary.get(ROWS) or summary.get("added-records") or "0"
        return Marker(snapshot.snapshot_id, summary.get(RUN_ID), int(rows), summary.get(WATERMARK))

    def snapshot_named(
        self,
        snapshot: int | None = None,
        as_of: datetime | None = None,
        committed_by: str | None = None,
    ) -> int | None:
        """The snapshot a read names: by id, the one current at ``as_of``, or the one the
        run ``committed_by`` committed; the current one when none is named (None: the table
        has no snapshot). ValueError names the table and what it does hold."""
        loaded = self.table
        if loaded is None:
            raise ValueError(f"iceberg table {self.identifier} does not exist in its catalog")
        snapshots = loaded.snapshots()
        held = ", ".join(str(s.snapshot_id) for s in snapshots[-5:]) or "none"
        if snapshot is not None:
            if loaded.snapshot_by_id(snapshot) is None:
                raise ValueError(
                    f"iceberg table {self.identifier} has no snapshot {snapshot} (expired, or "
                    f"never there); its newest: {held}"
                )
            return snapshot
        if as_of is not None:
            found = loaded.snapshot_as_of_timestamp(int(as_of.timestamp() * 1000))
            if found is None:
                raise ValueError(
                    f"iceberg table {self.identifier} had no snapshot at {as_of.isoformat()} "
                    f"(its oldest kept is newer); name a later time"
                )
            return found.snapshot_id
        if committed_by is not None:
            for candidate in reversed(snapshots):
                if candidate.summary is not None and candidate.summary.get(RUN_ID) == committed_by:
                    return candidate.snapshot_id
            raise ValueError(
                f"iceberg table {self.identifier} holds no snapshot of run {committed_by} "
                f"(expired by maintenance?); its newest: {held}"
            )
        current = loaded.current_snapshot()
        return None if current is None else current.snapshot_id

    def files(self, snapshot_id: int | None = None) -> list[str]:
        """The data files of a snapshot (the current one by default)."""
        return [task.file.file_path for task in self.scan_tasks(snapshot_id)]

    def appended_since(self, after: int, upto: int) -> list[str]:
        """The data files the append snapshots after ``after`` up to ``upto`` added (the
        rows appended since ``after``, told apart by file). A compaction since (``replace``)
        is passed over unless it merged such a file; UnreadableSnapshot names a snapshot
        that rewrote rows, or an ``after`` no longer in ``upto``'s history."""
        loaded = self.table
        assert loaded is not None
        chain, walked = [], loaded.snapshot_by_id(upto)
        while walked is not None and walked.snapshot_id != after:
            chain.append(walked)
            parent = walked.parent_snapshot_id
            walked = None if parent is None else loaded.snapshot_by_id(parent)
        fix = "run once with --full-refresh (it reads the table whole)"
        if walked is None:
            raise UnreadableSnapshot(
                f"iceberg table {self.identifier}: snapshot {after}, which the last run read, "
                f"is no longer in the table's history (expired, or the table was replaced); {fix}"
            )
        added: list[str] = []
        for snapshot in reversed(chain):
            operation = snapshot.summary.operation.value if snapshot.summary else "?"
            entries = list(self._written(snapshot))
            merged = {path for status, path in entries if status == ManifestEntryStatus.DELETED}
            if operation == "append":
                added += [p for status, p in entries if status == ManifestEntryStatus.ADDED]
            elif operation != "replace" or merged & set(added):
                raise UnreadableSnapshot(
                    f"iceberg table {self.identifier}: snapshot {snapshot.snapshot_id} "
                    f"({operation}) rewrote rows appended after snapshot {after}, which the last "
                    f"run read: the rows appended since cannot be told apart; {fix}"
                )
        return added

    def _written(self, snapshot: Snapshot) -> Iterator[tuple[ManifestEntryStatus, str]]:
        """(status, data file) of the manifest entries ``snapshot`` itself wrote."""
        assert self.table is not None
        for manifest in snapshot.manifests(self.table.io):
            if manifest.added_snapshot_id != snapshot.snapshot_id:
                continue
            for entry in manifest.fetch_manifest_entry(self.table.io, discard_deleted=False):
                if entry.snapshot_id == snapshot.snapshot_id:
                    yield entry.status, entry.data_file.file_path

    def scan_tasks(self, snapshot_id: int | None = None) -> list[FileScanTask]:
        """The scan tasks of a snapshot; refuses one with delete files, which a plain
        Parquet read would not apply."""
        if self.table is None:
            return []
        tasks = list(self.table.scan(snapshot_id=snapshot_id).plan_files())
        if any(task.delete_files for task in tasks):
            raise UnreadableSnapshot(
                f"iceberg table {self.identifier}: its snapshot has delete files (written by "
                f"another engine); compact the table (rewrite its data files) before this "
                f"platform reads it"
            )
        return tasks

    def arrow_schema(self, snapshot_id: int | None = None) -> pa.Schema | None:
        """The table's schema (at ``snapshot_id``: the schema that snapshot was written
        with)."""
        if self.table is None:
            return None
        schema = self.table.schema()
        if snapshot_id is not None:
            found = self.table.snapshot_by_id(snapshot_id)
            if found is not None and found.schema_id is not None:
                schema = self.table.schemas().get(found.schema_id, schema)
        return schema_to_pyarrow(schema)

    def commit(
        self,
        files: Sequence[str],
        *,
        replace: bool,
        summary: Mapping[str, str],
        partition: Iterable[tuple[str | None, str]] = (),
        before: Callable[[], None] = lambda: None,
    ) -> int:
        """``files`` as the table's next snapshot: appended, or replacing every current file
        (``replace``), with the table's schema evolved to the files' in the same commit;
        the new snapshot's id (``before`` is called just before the catalog commit). Raises :class:`TableMoved` when another commit landed since
        this table was loaded."""
        if not files:
            raise ValueError(f"iceberg table {self.identifier}: a commit needs files")
        filesystem, first = storage(files[0])
        with filesystem.open_input_file(first) as stream:
            written = _nullable(pq.read_schema(stream))
        properties = {k: str(v) for k, v in summary.items()}
        try:
            tx: Transaction
            if self.table is None:
                tx = self.catalog.create_table_transaction(
                    self.identifier,
                    schema=written,
                    location=self.location,
                    properties=_TABLE_PROPERTIES,
                )
                if partition:
                    with tx.update_spec() as spec:
                        for transform, column in partition:
                            if transform is None:
                                spec.add_identity(column)
                            else:
                                spec.add_field(column, transform, f"{column}_{transform}")
                current: list[FileScanTask] = []
            else:
                tx = self.table.transaction()
                current = self.scan_tasks() if replace else []
                self._evolve(tx, written, replace)
            # Spark's files carry no field ids: the table reads them by name.
            mapping = tx.table_metadata.schema().name_mapping.model_dump_json()
            tx.set_properties({TableProperties.DEFAULT_NAME_MAPPING: mapping})
            data_files = list(
                parquet_files_to_data_files(tx._table.io, tx.table_metadata, iter(files))
            )
            if current:
                with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
                    for task in current:
                        overwrite.delete_data_file(task.file)
                    for data_file in data_files:
                        overwrite.append_data_file(data_file)
            else:
                with tx.update_snapshot(snapshot_properties=properties).merge_append() as append:
                    for data_file in data_files:
                        append.append_data_file(data_file)
            before()  # the last step before the catalog's compare-and-set
            committed = tx.commit_transaction()
        except CommitFailedException:
            raise TableMoved(self._moved()) from None
        except Exception as failure:
            if "already exists" in str(failure).lower() and self.table is None:
                raise TableMoved(self._moved()) from None
            raise
        if self.table is None:  # a created table comes back staged: loaded, it scans
            committed = self.catalog.load_table(self.identifier)
        snapshot = committed.current_snapshot()
        assert snapshot is not None
        self.table = committed
        return snapshot.snapshot_id

    def _evolve(self, tx: Transaction, written: pa.Schema, replace: bool) -> None:
        """The table's schema made the files': new columns added, types widened; a replace
        also drops the columns its files no longer have and retypes what changed."""
        assert self.table is not None
        held = {field.name: field for field in self.table.schema().fields}
        names = set(written.names)
        with tx.update_schema(allow_incompatible_changes=replace) as update:
            if replace:
                for name in held:
                    if name not in names:
                        update.delete_column(name)
            update.union_by_name(written)

    def _moved(self) -> str:
        """Who committed first, as one line."""
        try:
            now = self.catalog.load_table(self.identifier).current_snapshot()
        except NoSuchTableError:
            now = None
        summary = None if now is None else now.summary
        winner = None if summary is None else summary.get(RUN_ID)
        return (
            f"iceberg table {self.identifier}: another run committed first"
            + (f" (run {winner}, snapshot {now.snapshot_id})" if now is not None else "")
            + "; nothing of this run is visible; run it again (it plans from the new snapshot)"
        )
