"""The ingestion engine on Spark: read a pipeline's source, commit its target atomically.

Parquet targets are versioned: each run writes a complete new version beside the old ones
(``<parent>/.<name>.versions/<run id>/``), marks it committed, then switches the target
path, a symbolic link, to it with one atomic rename. A reader sees the old version or the
new one, never a mix; a run killed before the switch leaves the old version in place (its
half-written directory is removed by a later run). The link's target names the committed
run: the commit marker a rerun reads even when the state write was lost. Older versions
but the previous one are deleted after the switch.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import attrs
from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from adapters.spark import strategies
from adapters.spark.endpoints import EndpointConfig, open_endpoint
from adapters.spark.session import SparkSessionProvider
from adapters.spark.types import schema_from_spark
from domain.dataset import RunId
from domain.ingestion.plan import Plan
from domain.ingestion.spec import Mode, PipelineSpec
from domain.schema import Schema
from ports.ingestion import Written

COMMIT_MARKER = "_COMMITTED.json"
_KEEP_VERSIONS = 2  # the current one and the one before it (readers still on it)


@attrs.frozen
class SparkBatch:
    """The rows of one run as a lazy DataFrame, with their schema in platform types."""

    frame: DataFrame
    schema: Schema


class TargetNotManaged(ValueError):
    """The target path exists but is not a version link this engine wrote."""


def _versions_of(target: Path) -> Path:
    return target.parent / f".{target.name}.versions"


class SparkIngestionEngine:
    """Implements the IngestionEngine port with Spark and the local file system."""

    def __init__(self, sessions: SparkSessionProvider) -> None:
        self._sessions = sessions

    def read(self, spec: PipelineSpec, plan: Plan) -> SparkBatch:
        source = spec.source
        config = EndpointConfig(
            name=spec.name,
            kind=source.kind,
            path=source.path,
            url=source.url,
            table=source.table,
            user=source.user,
            password=source.password,
            namespace=source.namespace,
            options=dict(source.options),
        )
        frame = open_endpoint(config, self._sessions).read()
        return SparkBatch(frame, schema_from_spark(frame.schema, where=f"{spec.name} source"))

    def _target(self, spec: PipelineSpec) -> Path:
        return Path(spec.target.path or "")

    def committed_version(self, spec: PipelineSpec) -> str | None:
        target = self._target(spec)
        if not target.is_symlink():
            if target.exists():
                raise TargetNotManaged(
                    f"target.path {target} exists and is not a version link written by this "
                    f"runtime; move it away, or point target.path at a new location"
                )
            return None
        return Path(os.readlink(target)).name

    def target_schema(self, spec: PipelineSpec) -> Schema | None:
        if self.committed_version(spec) is None:
            return None
        frame = self._sessions.session().read.parquet(str(self._target(spec)))
        return schema_from_spark(frame.schema, where=f"{spec.name} target")

    def write(self, spec: PipelineSpec, batch: object, plan: Plan, run_id: RunId) -> Written:
        assert isinstance(batch, SparkBatch)
        if plan.strategy is not Mode.FULL:
            raise NotImplementedError(f"strategy {plan.strategy.value} is not available yet")
        target = self._target(spec)
        self.committed_version(spec)  # refuse an unmanaged target before writing anything
        versions = _versions_of(target)
        version = versions / run_id.value
        frame = strategies.full(batch.frame)
        # Counted on the way through the write: one pass, nothing collected on the driver.
        counted = Observation(f"rows_{run_id.value}")
        frame = frame.observe(counted, F.count(F.lit(1)).alias("rows"))
        writer = frame.write.mode("overwrite")
        if spec.target.partition_by:
            writer = writer.partitionBy(*spec.target.partition_by)
        writer.parquet(str(version))
        rows = int(counted.get["rows"])
        size = sum(f.stat().st_size for f in version.rglob("*") if f.is_file())
        (version / COMMIT_MARKER).write_text(
            json.dumps({"pipeline": spec.name, "run_id": run_id.value, "rows": rows})
        )
        self._switch(target, version)
        self._clean(versions, keep=version.name)
        return Written(rows_read=rows, rows_written=rows, bytes_written=size, version=run_id.value)

    @staticmethod
    def _switch(target: Path, version: Path) -> None:
        """Point ``target`` at ``version`` with one atomic rename of a new link."""
        target.parent.mkdir(parents=True, exist_ok=True)
        link = target.parent / f".{target.name}.switch-{version.name}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(version, target.parent))
        os.replace(link, target)

    @staticmethod
    def _clean(versions: Path, keep: str) -> None:
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
