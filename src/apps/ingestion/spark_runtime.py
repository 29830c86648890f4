"""Composition of a Spark-backed pipeline run (the engine per pipeline file's [spark]).

Kept apart from bootstrap.py and imported only when a pipeline runs, so the ingestion app
starts without a JVM and its PEX can leave pyspark to the cluster.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import attrs
import punq

from adapters.files.pipelines import PipelineFile
from adapters.spark.ingestion import SparkIngestionEngine
from adapters.spark.session import SparkSessionProvider, SparkSettings
from apps.faults import kill_at
from apps.ingestion.bootstrap import legacy_outputs
from apps.store import MetadataStore
from domain.ingestion.legacy import Outputs
from domain.ingestion.run import RunPipeline
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

    def stop(self) -> None:
        if self.sessions is not None:
            self.sessions.stop()


def runtime(container: punq.Container, pipeline: PipelineFile) -> Runtime:
    """The run use case for ``pipeline``: its engine (Spark, unless one is registered)."""
    sessions = None
    checkpoint = kill_at()
    try:
        engine: IngestionEngine = container.resolve(IngestionEngine)
    except punq.MissingDependencyError:
        sessions = SparkSessionProvider(
            SparkSettings(
                master=pipeline.spark_master,
                app_name=f"ingestion-{pipeline.spec.name}",
                conf=pipeline.spark_conf,
            ),
            (
                ("postgresql", "sqlite")
                if pipeline.spec.source.kind == "jdbc" or pipeline.spec.target.is_database
                else ()
            ),
        )
        engine = SparkIngestionEngine(sessions, checkpoint)
    gateway: MetadataGateway = container.resolve(MetadataGateway)
    baselines: SchemaBaselines = container.resolve(SchemaBaselines)
    states: StateStore = container.resolve(StateStore)
    drift = SchemaDriftCheck(baselines, gateway, PolicyBook(pipeline.spec.policy, {}))
    store: MetadataStore = container.resolve(MetadataStore)
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
    return Runtime(use_case, sessions)
