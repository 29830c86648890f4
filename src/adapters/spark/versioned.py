"""The versioned directory layout of a Parquet target (deprecated: Iceberg targets replace
it; ``ingestion migrate-target`` moves one over): each run's complete version beside the old
ones (``<parent>/.<name>.versions/<run id>/``), a commit marker in it, and the target path a
symbolic link switched to the new version by one atomic rename. It works on one POSIX file
system only: the links and the rename are its commit.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pyspark.sql import DataFrame

from adapters.spark.errors import engine_step
from adapters.spark.file_target import OpenedForRun, Staged
from ports.ingestion import Committed

COMMIT_MARKER = "_COMMITTED.json"
_KEEP_VERSIONS = 2  # the current one and the one before it (readers still on it)


class TargetNotManaged(ValueError):
    """The target path exists but is not a version link this engine wrote."""


def link_files(committed: Path, version: Path) -> set[Path]:
    """The committed version's data files, hard-linked into the new version (no copy);
    returns their paths relative to the version."""
    linked = set()
    for source in committed.rglob("*"):
        if source.is_file() and source.name != COMMIT_MARKER:
            relative = source.relative_to(committed)
            (version / relative).parent.mkdir(parents=True, exist_ok=True)
            os.link(source, version / relative)
            linked.add(relative)
    return linked


def versions_of(target: Path) -> Path:
    return target.parent / f".{target.name}.versions"


def switch(target: Path, version: Path) -> None:
    """Point ``target`` at ``version`` with one atomic rename of a new link."""
    target.parent.mkdir(parents=True, exist_ok=True)
    link = target.parent / f".{target.name}.switch-{version.name}"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(version, target.parent))
    os.replace(link, target)


def clean(versions: Path, keep: str) -> None:
    """Delete versions older than the newest committed ones, and uncommitted leftovers
    of killed runs."""
    committed = sorted(
        (v for v in versions.iterdir() if (v / COMMIT_MARKER).is_file()),
        key=lambda v: (v / COMMIT_MARKER).stat().st_mtime,
    )
    kept = {keep, *(v.name for v in committed[-_KEEP_VERSIONS:])}
    for version in versions.iterdir():
        if version.name not in kept:
            shutil.rmtree(version, ignore_errors=True)


def committed_version(target: Path) -> str | None:
    """The run whose version ``target`` links to (None before the first run)."""
    if not target.is_symlink():
        if target.exists():
            raise TargetNotManaged(
                f"target.path {target} exists and is not a version link written by this "
                f"runtime; move it away, or point target.path at a new location"
            )
        return None
    return Path(os.readlink(target)).name


class VersionedTarget(OpenedForRun):
    """One pipeline's versioned Parquet directory, as one run writes and switches it."""

    def _open(self) -> None:
        self.path = Path(self._spec.target.path or "")

    def committed(self) -> Committed | None:
        run = committed_version(self.path)
        if run is None:
            return None
        data = json.loads((versions_of(self.path) / run / COMMIT_MARKER).read_text())
        return Committed(run, int(data.get("rows", 0)), data.get("watermark"))

    def held(self) -> DataFrame | None:
        if committed_version(self.path) is None:
            return None
        return self._sessions.session().read.parquet(str(self.path))

    def stage(self, frame: DataFrame, run_id: str, *, replace: bool) -> Staged:
        current = committed_version(self.path)  # refuses an unmanaged target first
        versions = versions_of(self.path)
        version = versions / run_id
        if version.exists():  # a killed attempt of this very run: start it again
            shutil.rmtree(version)
        linked: set[Path] = set()
        if not replace and current is not None:
            linked = link_files(versions / current, version)
        writer = frame.write.mode("overwrite" if replace else "append")
        if self._spec.target.partition_by:
            writer = writer.partitionBy(*self._spec.target.partition_by)
        with engine_step(f"{self._spec.name}: writing the new version (the target is unchanged)"):
            writer.parquet(str(version))
        # This run's files only: the committed ones were hard-linked in, not written.
        size = sum(
            f.stat().st_size
            for f in version.rglob("*")
            if f.is_file() and f.relative_to(version) not in linked
        )
        return Staged(str(version), (), size, replace)

    def commit(self, staged: Staged, run_id: str, rows: int, watermark: object) -> None:
        version = Path(staged.where)
        marker = {"pipeline": self._spec.name, "run_id": run_id, "rows": rows}
        (version / COMMIT_MARKER).write_text(json.dumps({**marker, "watermark": watermark}))
        self._checkpoint("marked")
        switch(self.path, version)
        self._checkpoint("switched")
        clean(version.parent, keep=version.name)

    def discard(self, staged: Staged) -> None:
        shutil.rmtree(staged.where, ignore_errors=True)
