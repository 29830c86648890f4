"""Maintenance of an Iceberg table: expire old snapshots, remove the files no snapshot
references (the leftovers of failed or killed runs, and what expired snapshots alone held).

The plan is computed first and applied only when asked (``--dry-run`` shows it): snapshots
older than ``older_than`` beyond the newest ``keep`` are expired in one catalog commit
(refused, like a run's, when the table changed meanwhile); then every data or manifest file
under the table's location that no remaining snapshot references, and that is older than
``grace`` (a run may be writing it right now), is deleted. The current snapshot is never
expired, and nothing a remaining snapshot reads is ever deleted.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import attrs
from pyarrow import fs
from pyiceberg.exceptions import CommitFailedException

from adapters.iceberg.tables import RUN_ID, IcebergTable, TableMoved, storage


@attrs.frozen
class Expired:
    snapshot_id: int
    committed_at: datetime
    run_id: str | None


@attrs.frozen
class Orphan:
    path: str
    bytes: int


@attrs.frozen
class MaintenancePlan:
    """What maintenance would do to one table (or did)."""

    table: str
    snapshots: int  # the table's snapshots before
    expired: tuple[Expired, ...]
    orphans: tuple[Orphan, ...]
    young: int  # unreferenced files kept because they are younger than the grace
    directories: tuple[str, ...] = ()  # run directories no snapshot reads from

    @property
    def data_files(self) -> int:
        """The orphaned data files (their companions are counted in ``orphans`` only)."""
        return sum(1 for o in self.orphans if _data_file(o.path))

    @property
    def orphan_bytes(self) -> int:
        return sum(o.bytes for o in self.orphans)

    @property
    def runs(self) -> tuple[str, ...]:
        """The run directories the orphans are in (one per failed or killed run)."""
        return tuple(sorted(d.rsplit("/", 1)[-1] for d in self.directories))


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def plan_maintenance(
    table: IcebergTable,
    *,
    keep: int,
    older_than: timedelta,
    grace: timedelta,
    now: datetime,
) -> MaintenancePlan:
    """The snapshots to expire and the files to remove; changes nothing."""
    loaded = table.table
    if loaded is None:
        return MaintenancePlan(table.identifier, 0, (), (), 0)
    snapshots = sorted(loaded.snapshots(), key=lambda s: s.timestamp_ms)
    current = loaded.current_snapshot()
    cutoff = _millis(now - older_than)
    candidates = snapshots[: max(0, len(snapshots) - keep)]
    expired = tuple(
        Expired(
            s.snapshot_id,
            datetime.fromtimestamp(s.timestamp_ms / 1000).astimezone(),
            None if s.summary is None else s.summary.get(RUN_ID),
        )
        for s in candidates
        if s.timestamp_ms < cutoff and (current is None or s.snapshot_id != current.snapshot_id)
    )
    gone = {e.snapshot_id for e in expired}
    referenced: set[str] = set()
    io = loaded.io
    for snapshot in snapshots:
        if snapshot.snapshot_id in gone:
            continue
        referenced.add(_plain(snapshot.manifest_list))
        for manifest in snapshot.manifests(io):
            referenced.add(_plain(manifest.manifest_path))
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                referenced.add(_plain(entry.data_file.file_path))
    filesystem, root = storage(table.location)
    selector = fs.FileSelector(root, recursive=True, allow_not_found=True)
    listed = filesystem.get_file_info(selector)
    files = [i for i in listed if i.type == fs.FileType.File]
    youngest = now - grace
    # A run's directory (data/<run>/...) that no snapshot reads from goes whole, whatever
    # Spark left in it; from one a snapshot reads, only the data files it does not read.
    held = {_run_dir(i.path, root) for i in files if _plain(i.path) in referenced}
    orphans, young = [], 0
    for info in files:
        run_dir = _run_dir(info.path, root)
        if _plain(info.path) in referenced:
            continue
        if run_dir is None:
            if not _manifest(info.path):
                continue
        elif run_dir in held and not _data_file(info.path):
            continue
        written = info.mtime
        if written is not None and written.tzinfo is None:
            written = written.replace(tzinfo=UTC)
        if written is not None and written > youngest:
            young += 1  # perhaps a run writing right now
            held.add(run_dir)
            continue
        orphans.append(Orphan(info.path, int(info.size or 0)))
    unread = sorted(
        {
            d
            for i in listed
            if i.type == fs.FileType.Directory and (d := _run_dir(i.path, root)) is not None
        }
        - held
    )
    return MaintenancePlan(
        table.identifier,
        len(snapshots),
        expired,
        tuple(sorted(orphans, key=lambda o: o.path)),
        young,
        tuple(unread),
    )


def apply_maintenance(table: IcebergTable, plan: MaintenancePlan) -> None:
    """Expire the plan's snapshots (one commit), then delete its orphaned files."""
    loaded = table.table
    if loaded is None:
        return
    if plan.expired:
        try:
            loaded.maintenance.expire_snapshots().by_ids(
                [e.snapshot_id for e in plan.expired]
            ).commit()
        except CommitFailedException:
            raise TableMoved(
                f"iceberg table {table.identifier}: a run committed while maintenance planned; "
                f"nothing was expired or removed; run it again"
            ) from None
    filesystem, _ = storage(table.location)
    for orphan in plan.orphans:
        with contextlib.suppress(FileNotFoundError):
            filesystem.delete_file(orphan.path)
    # The run directories left without a file go too (with Spark's empty folders in them).
    for run_dir in plan.directories:
        inside = filesystem.get_file_info(
            fs.FileSelector(run_dir, recursive=True, allow_not_found=True)
        )
        if not any(i.type == fs.FileType.File for i in inside):
            with contextlib.suppress(OSError):
                filesystem.delete_dir(run_dir)


def _run_dir(path: str, root: str) -> str | None:
    """The run directory (``<root>/data/<run>``) a path is in, or None outside one."""
    parts = path[len(root.rstrip("/")) + 1 :].split("/")
    if len(parts) < 2 or parts[0] != "data" or not parts[1]:
        return None
    return f"{root.rstrip('/')}/data/{parts[1]}"


def _data_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".parquet") and not name.startswith(".") and "/_temporary/" not in path


def _manifest(path: str) -> bool:
    """Manifests and manifest lists (the metadata.json files are pruned by the catalog
    commit itself)."""
    return "/metadata/" in path and path.endswith(".avro")


def _plain(location: str) -> str:
    """A file's path without its scheme, as the file system lists it."""
    return location.split("://", 1)[1] if "://" in location else location
