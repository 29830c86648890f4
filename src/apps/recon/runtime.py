"""Composition of a recon run: the engine the recon planner chose (inside PostgreSQL, or
Spark). Imported only when a recon runs, so the app starts without a JVM and its PEX can
leave pyspark to the cluster (a recon inside PostgreSQL needs no pyspark at all)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from adapters.files.legacy import FileReconSummaries
from apps.services import Services
from domain.ingestion.legacy import Outputs
from domain.recon.plan import Method, method
from domain.recon.run import ReconRun
from domain.recon.spec import ReconSpec
from ports.recon import ReconEngine


@attrs.define
class Runtime:
    """A recon's use case with its engine; ``stop`` ends a Spark session it started."""

    use_case: ReconRun
    sessions: Any
    reason: str = ""
    closer: Any = None

    def stop(self) -> None:
        if self.closer is not None:
            self.closer()
        if self.sessions is not None:
            self.sessions.stop()


def runtime(
    services: Services,
    spec: ReconSpec,
    master: str,
    conf: Mapping[str, str],
    progress: Callable[[str], None] | None = None,
) -> Runtime:
    if services.recon_engine is not None:
        given = services.recon_engine
        return Runtime(use_case(services, given), None, "an engine given by the caller")
    chosen, reason = method(spec)
    if chosen is Method.SQL:
        from adapters.sql.recon.engine import SqlReconEngine

        sql = SqlReconEngine.for_spec(spec, progress=progress)
        return Runtime(use_case(services, sql), None, reason, sql.close)
    from adapters.spark.recon import SparkReconEngine
    from adapters.spark.session import SparkSessionProvider, SparkSettings, driver_of_url

    drivers = sorted(
        {
            driver_of_url(side.url or "")
            for side in (spec.source, spec.target)
            if side.kind == "jdbc"
        }
    )
    sessions = SparkSessionProvider(
        SparkSettings(
            master=master,
            app_name=f"recon-{spec.name}",
            conf=dict(conf),
            log_dir=str(services.store.settings.home / "logs"),
        ),
        tuple(drivers),
    )
    return Runtime(use_case(services, SparkReconEngine(sessions)), sessions, reason)


def use_case(services: Services, engine: ReconEngine) -> ReconRun:
    """The recon use case on ``engine``, reporting where the outputs setting says: the
    gateway's records, the legacy JSON summaries (under <home>/recon), or both."""
    settings = services.store.settings
    outputs = Outputs(settings.ingestion_outputs)
    return ReconRun(
        engine,
        services.gateway(),
        lambda: datetime.now(UTC),
        summaries=FileReconSummaries(settings.home / "recon") if outputs.legacy else None,
        to_gateway=outputs.gateway,
    )
