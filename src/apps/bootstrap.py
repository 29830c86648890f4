"""The composition root the apps share: the container that builds the metadata store's
wiring (converter, repository, transport, gateway, schema baselines, state store), and the
``Services`` value each app's commands receive. The one place that resolves from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import punq

from adapters.serialization.records import RecordConverter
from apps.services import Services
from apps.settings import Settings
from apps.store import MetadataStore
from domain.metadata.baselines import GatewaySchemaBaselines
from domain.metadata.gateway import MetadataGateway
from domain.schema.checks import PrecisionGuard
from ports.baselines import SchemaBaselines
from ports.ingestion import IngestionEngine, StateStore
from ports.metadata import MetadataRepository
from ports.recon import ReconEngine
from ports.transport import RecordTransport


def register_metadata_store(container: punq.Container, settings: Settings) -> MetadataStore:
    """Register the metadata store of ``settings`` and what every app reads and writes
    through it: the converter, the repository (opened lazily, once), the gateway, the
    schema baselines and the pipelines' state store. Each app's bootstrap calls this; none
    builds its own."""
    converter = RecordConverter()
    store = MetadataStore(settings, converter)
    container.register(RecordConverter, instance=converter)
    container.register(MetadataStore, instance=store)
    container.register(MetadataRepository, factory=store.repository, scope=punq.Scope.singleton)
    container.register(RecordTransport, factory=store.transport, scope=punq.Scope.singleton)
    container.register(
        MetadataGateway,
        factory=lambda: MetadataGateway(
            store.lazy_repository(),
            container.resolve(RecordTransport),
            home=str(settings.home),
        ),
        scope=punq.Scope.singleton,
    )
    container.register(SchemaBaselines, GatewaySchemaBaselines, scope=punq.Scope.singleton)
    container.register(StateStore, factory=store.state_store, scope=punq.Scope.singleton)
    container.register(PrecisionGuard, scope=punq.Scope.singleton)
    return store


def services(settings: Settings, overrides: Mapping[type, Any] | None = None) -> Services:
    """The apps' services on the store of ``settings``; ``overrides`` maps a port (or the
    gateway, the state store ...) to the instance to use instead: how the use-case tests put
    in-memory adapters in."""
    container = punq.Container()
    store = register_metadata_store(container, settings)
    given = dict(overrides or {})
    for service, instance in given.items():
        container.register(service, instance=instance)

    def resolved(service: type) -> Any:
        return lambda: container.resolve(service)

    return Services(
        store=store,
        gateway=resolved(MetadataGateway),
        states=resolved(StateStore),
        baselines=resolved(SchemaBaselines),
        precision=resolved(PrecisionGuard),
        ingestion_engine=given.get(IngestionEngine),
        recon_engine=given.get(ReconEngine),
    )
