"""Composition of a Spark-backed pipeline run (the engine per pipeline file's [spark]).

Kept apart from bootstrap.py and imported only when a pipeline runs, so the ingestion app
starts without a JVM and its PEX can leave pyspark to the cluster.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import attrs

from adapters.files.pipelines import PipelineFile
from adapters.spark.ingestion import SparkIngestionEngine
from adapters.spark.migrate_target import Migrated, migrate_target
from adapters.spark.session import SparkSessionProvider, SparkSettings, driver_of_url
from apps.faults import kill_at
from apps.ingestion.bootstrap import legacy_outputs
from apps.services import Services
from apps.store import MetadataStore
from domain.ingestion.legacy import Outputs
from domain.ingestion.run import RunPipeline
from domain.ingestion.spec import PipelineSpec, TargetSpec
from domain.metadata.gateway import MetadataGateway
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import PolicyBook
from ports.baselines import SchemaBaselines
from ports.ingestion import IngestionEngine, StateStore


@attrs.define
class Runtime:
    """A pipeline's use case with its engine; ``stop`` ends a Spark session it started."""

    use_case: RunPipeline
    sessions: SparkSessionProvider | None
    # Where a run's records wait when they are committed with its data (a database
    # target's outbox, with an asynchronous transport), for `metadata relay --outbox`.
    records_at: str | None = None

    def stop(self) -> None:
        if self.sessions is not None:
            self.sessions.stop()


def _settings(pipeline: PipelineFile, store: MetadataStore, role: str) -> SparkSettings:
    """The Spark session a pipeline's [spark] table asks for (its log in the home)."""
    return SparkSettings(
        master=pipeline.spark_master,
        app_name=f"{role}-{pipeline.spec.name}",
        conf=pipeline.spark_conf,
        log_dir=str(store.settings.home / "logs"),
    )


def migrate(services: Services, pipeline: PipelineFile, target: TargetSpec) -> Migrated:
    """``ingestion migrate-target``: the pipeline's Parquet target into the Iceberg
    ``target``, on a Spark session of the pipeline's [spark] settings."""
    store: MetadataStore = services.store
    sessions = SparkSessionProvider(_settings(pipeline, store, "migrate"))
    try:
        return migrate_target(pipeline.spec, target, sessions)
    finally:
        sessions.stop()


def _drivers(spec: PipelineSpec) -> tuple[str, ...]:
    """The JDBC drivers a run of ``spec`` loads into its Spark session."""
    source = spec.source
    if not (source.kind == "jdbc" or spec.target.is_database):
        return ()
    drivers = {"postgresql", "sqlite"}  # the database targets' and their history reads
    if source.kind == "jdbc":
        drivers.add(driver_of_url(source.url or ""))
    return tuple(sorted(drivers))


def runtime(services: Services, pipeline: PipelineFile) -> Runtime:
    """The run use case for ``pipeline``: its engine (Spark, unless one is registered)."""
    sessions = None
    records_at = None
    checkpoint = kill_at()
    store: MetadataStore = services.store
    given = services.ingestion_engine
    if given is not None:
        engine: IngestionEngine = given
    else:
        sessions = SparkSessionProvider(
            _settings(pipeline, store, "ingestion"),
            _drivers(pipeline.spec),
        )
        # With an asynchronous transport a database target's run commits its records into
        # the target's own outbox, in the transaction that commits its data.
        asynchronous = store.settings.transport != "direct"
        spark = SparkIngestionEngine(
            sessions, checkpoint, store.converter if asynchronous else None
        )
        records_at = spark.outbox_url(pipeline.spec)
        engine = spark
    gateway: MetadataGateway = services.gateway()
    baselines: SchemaBaselines = services.baselines()
    states: StateStore = services.states()
    drift = SchemaDriftCheck(baselines, gateway, PolicyBook(pipeline.spec.policy, {}))
    use_case = RunPipeline(
        engine,
        states,
        gateway,
        drift,
        now=lambda: datetime.now(UTC),
        clock=time.monotonic,
        checkpoint=checkpoint,
        outputs=Outputs(store.settings.ingestion_outputs),
        legacy=legacy_outputs(store.settings.home),
    )
    return Runtime(use_case, sessions, records_at)
