"""Endpoints as a catalog, a profiler and probes: the ports the harvest and planner use."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import attrs
from pyspark.sql import functions as F

from adapters.spark.endpoints import EndpointConfig, JdbcEndpoint, SparkEndpoint, open_endpoint
from adapters.spark.iceberg_read import IcebergEndpoint, manifest_statistics
from adapters.spark.parquet_footers import parquet_footer_statistics
from adapters.spark.profiler import profile_frame
from adapters.spark.session import SparkSessionProvider
from adapters.spark.types import schema_from_spark
from domain.dataset import DatasetRef
from domain.metadata.payloads import DatasetProfile
from domain.schema import Schema


class SparkCatalog:
    """A list of endpoints (from a TOML file) seen as a Catalog and a Profiler.

    Profiles of Parquet endpoints take row counts, nulls and min/max from the files' footers,
    those of Iceberg tables from the snapshot's manifests, and scan for the rest; ``distinct=False`` leaves out approximate distinct counts.
    """

    def __init__(
        self,
        configs: Sequence[EndpointConfig],
        sessions: SparkSessionProvider,
        *,
        distinct: bool = True,
    ) -> None:
        self._configs = {config.subject(): config for config in configs}
        self._sessions = sessions
        self._distinct = distinct
        self._open: dict[DatasetRef, SparkEndpoint] = {}

    def datasets(self) -> list[DatasetRef]:
        return list(self._configs)

    def endpoint(self, subject: DatasetRef) -> SparkEndpoint:
        if subject not in self._open:
            self._open[subject] = open_endpoint(self._configs[subject], self._sessions)
        return self._open[subject]

    def schema(self, subject: DatasetRef) -> Schema:
        endpoint = self.endpoint(subject)
        if isinstance(endpoint, JdbcEndpoint) and endpoint.config.driver == "sqlite":
            return endpoint.sql_schema()
        return schema_from_spark(endpoint.read().schema, where=str(subject))

    def profile(self, subject: DatasetRef, schema: Schema) -> DatasetProfile:
        endpoint = self.endpoint(subject)
        frame = endpoint.read()
        known = None
        if endpoint.config.kind == "parquet":
            known = parquet_footer_statistics(frame)
        elif isinstance(endpoint, IcebergEndpoint):  # the manifests' statistics: no scan
            known = manifest_statistics(endpoint.table(), endpoint.snapshot())
        return profile_frame(frame, distinct=self._distinct, known=known)


class SparkProbe:
    """Row count, min/max and size of one endpoint: the inputs of the ingestion planner."""

    def __init__(self, endpoint: SparkEndpoint) -> None:
        self._endpoint = endpoint

    def row_count(self, exact: bool = False) -> int:
        """The catalog's estimate where one exists (PostgreSQL statistics); exact otherwise
        or on request (Parquet answers an exact count from its footers)."""
        config = self._endpoint.config
        if not exact and config.kind == "jdbc" and config.driver == "postgresql":
            estimate = self._postgres_estimate()
            if estimate is not None and estimate >= 0:
                return estimate
        return int(self._endpoint.read().count())

    def _postgres_estimate(self) -> int | None:
        assert isinstance(self._endpoint, JdbcEndpoint)
        table = self._endpoint.config.table or ""
        query = f"(SELECT reltuples::bigint AS n FROM pg_class WHERE oid = to_regclass('{table}')) AS estimate"
        probe = JdbcEndpoint(attrs.evolve(self._endpoint.config, table=query), self._endpoint.spark)
        rows = probe.read().collect()
        return int(rows[0]["n"]) if rows and rows[0]["n"] is not None else None

    def min_max(self, column: str) -> tuple[str | None, str | None]:
        row = (
            self._endpoint.read()
            .agg(F.min(F.col(column)).alias("lo"), F.max(F.col(column)).alias("hi"))
            .collect()[0]
        )
        return (
            None if row["lo"] is None else str(row["lo"]),
            None if row["hi"] is None else str(row["hi"]),
        )

    def size_bytes(self) -> int | None:
        """Bytes on disk for local files; Spark's plan estimate otherwise."""
        config = self._endpoint.config
        if config.kind != "jdbc" and config.path and Path(config.path).exists():
            root = Path(config.path)
            files = (
                [root]
                if root.is_file()
                else [
                    p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))
                ]
            )
            return sum(os.path.getsize(p) for p in files)
        frame = self._endpoint.read()
        size = frame._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()
        return int(str(size))
