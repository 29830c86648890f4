"""Composition of a Spark-backed recon (imported only when a recon runs, so the app starts
without a JVM and its PEX can leave pyspark to the cluster)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import attrs
import punq

from adapters.spark.recon import SparkReconEngine
from adapters.spark.session import SparkSessionProvider, SparkSettings
from domain.metadata.gateway import MetadataGateway
from domain.recon.run import ReconRun
from domain.recon.spec import ReconSpec
from ports.recon import ReconEngine


@attrs.define
class Runtime:
    """A recon's use case with its engine; ``stop`` ends a Spark session it started."""

    use_case: ReconRun
    sessions: SparkSessionProvider | None

    def stop(self) -> None:
        if self.sessions is not None:
            self.sessions.stop()


def runtime(
    container: punq.Container, spec: ReconSpec, master: str, conf: Mapping[str, str]
) -> Runtime:
    sessions = None
    try:
        engine: ReconEngine = container.resolve(ReconEngine)
    except punq.MissingDependencyError:
        drivers = sorted(
            {
                "sqlite" if (side.url or "").startswith("jdbc:sqlite:") else "postgresql"
                for side in (spec.source, spec.target)
                if side.kind == "jdbc"
            }
        )
        sessions = SparkSessionProvider(
            SparkSettings(master=master, app_name=f"recon-{spec.name}", conf=dict(conf)),
            tuple(drivers),
        )
        engine = SparkReconEngine(sessions)
    gateway: MetadataGateway = container.resolve(MetadataGateway)
    return Runtime(ReconRun(engine, gateway, lambda: datetime.now(UTC)), sessions)
