"""The composition root of the metadata app: the one place that builds adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import punq
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.serialization.records import RecordConverter
from adapters.sql import migrate
from adapters.sql.catalog import SqlCatalog, SqlProfiler
from adapters.sql.engine import create_catalog_engine, create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from apps.settings import Settings, load_settings
from domain.catalog.harvest import Harvest
from domain.metadata.baselines import GatewaySchemaBaselines
from domain.metadata.gateway import MetadataGateway
from domain.schema.checks import PrecisionGuard, SchemaDriftCheck
from domain.schema.policy import PolicyBook
from ports.baselines import SchemaBaselines
from ports.metadata import MetadataRepository


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a database URL (memory://, a typo): nothing to hide
        return url


@attrs.define
class MetadataStore:
    """The configured store: builds its engine lazily and knows how to migrate it."""

    settings: Settings
    converter: RecordConverter
    _engine: Engine | None = None

    @property
    def url(self) -> str:
        return self.settings.metadata_url

    def scheme(self) -> str:
        return self.url.split(":", 1)[0].split("+", 1)[0]

    def engine(self) -> Engine:
        if self._engine is None:
            scheme = self.scheme()
            if scheme in ("http", "https"):
                raise ValueError(
                    f"metadata url {self.url!r} ({self.settings.source}): the remote metadata "
                    f"service is not available yet; use sqlite:/// or postgresql+psycopg://"
                )
            self._engine = create_store_engine(self.url)
        return self._engine

    def repository(self) -> MetadataRepository:
        """The repository, refusing a store whose schema is missing or old."""
        if self.scheme() == "memory":
            return InMemoryMetadataRepository()
        engine = self.engine()
        # A brand-new embedded store is created on first use; anything else is migrated
        # only on request, because upgrading a shared store is somebody's decision.
        if engine.dialect.name == "sqlite" and migrate.is_empty(engine):
            migrate.upgrade(engine)
        migrate.ensure_current(engine, display_url(self.url))
        return SqlMetadataRepository(engine, self.converter)

    def migrate(self) -> tuple[str | None, str]:
        return migrate.upgrade(self.engine())


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
    converter = RecordConverter()
    store = MetadataStore(settings or load_settings(), converter)
    container.register(RecordConverter, instance=converter)
    container.register(MetadataStore, instance=store)
    container.register(MetadataRepository, factory=store.repository, scope=punq.Scope.singleton)
    container.register(MetadataGateway, scope=punq.Scope.singleton)
    container.register(SchemaBaselines, GatewaySchemaBaselines, scope=punq.Scope.singleton)
    container.register(PrecisionGuard)
    for service, instance in (overrides or {}).items():
        container.register(service, instance=instance)
    return container
