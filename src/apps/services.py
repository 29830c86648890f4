"""What an app's commands use, as one typed value: the metadata store, and the ports the use
cases take, each built on first use (``--help`` and most commands open nothing). Each app's
``bootstrap()`` builds it from the container; nothing else resolves from the container."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ports.baselines import SchemaBaselines
from ports.ingestion import IngestionEngine, StateStore
from ports.recon import ReconEngine

if TYPE_CHECKING:
    from adapters.serialization.records import RecordConverter
    from apps.store import MetadataStore
    from domain.metadata.gateway import MetadataGateway
    from domain.schema.checks import PrecisionGuard


@attrs.frozen
class Services:
    """The metadata store's wiring and the ports of the apps' use cases. ``gateway``,
    ``states``, ``baselines`` and ``precision`` build theirs on first call (once);
    ``ingestion_engine`` / ``recon_engine``, when given, replace Spark (the use-case tests
    put in-memory engines in this way)."""

    store: MetadataStore
    gateway: Callable[[], MetadataGateway]
    states: Callable[[], StateStore]
    baselines: Callable[[], SchemaBaselines]
    precision: Callable[[], PrecisionGuard]
    ingestion_engine: IngestionEngine | None = None
    recon_engine: ReconEngine | None = None

    @property
    def converter(self) -> RecordConverter:
        return self.store.converter
