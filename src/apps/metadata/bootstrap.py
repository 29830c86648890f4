"""The composition root of the metadata app: the one place that builds adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import punq

from adapters.sql.catalog import SqlCatalog, SqlProfiler
from adapters.sql.engine import create_catalog_engine
from apps.settings import Settings, load_settings
from apps.store import register_metadata_store
from domain.catalog.harvest import Harvest
from domain.metadata.gateway import MetadataGateway
from domain.schema.checks import PrecisionGuard, SchemaDriftCheck
from domain.schema.policy import PolicyBook
from ports.baselines import SchemaBaselines


def sql_harvest(
    container: punq.Container,
    url: str,
    schema: str | None,
    policies: PolicyBook,
    *,
    distinct: bool = True,
) -> Harvest:
    """A harvest of every table of one schema of the database at ``url``."""
    engine = create_catalog_engine(url)
    catalog = SqlCatalog(engine, schema)
    gateway: MetadataGateway = container.resolve(MetadataGateway)
    baselines: SchemaBaselines = container.resolve(SchemaBaselines)
    return Harvest(
        catalog,
        SchemaDriftCheck(baselines, gateway, policies),
        gateway,
        SqlProfiler(engine, catalog, distinct=distinct),
    )


def bootstrap(
    settings: Settings | None = None, overrides: Mapping[type, Any] | None = None
) -> punq.Container:
    """A container with every port of the metadata app registered, built lazily.

    ``overrides`` maps a registered type to the instance to use instead (tests put fakes in
    and real adapters out this way).
    """
    container = punq.Container()
    register_metadata_store(container, settings or load_settings())
    container.register(PrecisionGuard)
    for service, instance in (overrides or {}).items():
        container.register(service, instance=instance)
    return container
