"""The composition root of the ingestion app: the one place that builds its adapters."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import punq

from adapters.files.legacy import FileLegacyOutputs
from apps.settings import Settings, load_settings
from apps.store import MetadataStore, app_container


def bootstrap(
    settings: Settings | None = None, overrides: Mapping[type, Any] | None = None
) -> punq.Container:
    """The metadata store (shared wiring) and the state store; the Spark engine is built per
    pipeline file (its [spark] table) by ``apps.ingestion.spark_runtime``."""
    return app_container(settings or load_settings(), overrides)


def legacy_outputs(home: Path) -> FileLegacyOutputs:
    """Where the legacy outputs live: summaries and logs under <home>/ingestion."""
    return FileLegacyOutputs(home / "ingestion")


def store(container: punq.Container) -> MetadataStore:
    result: MetadataStore = container.resolve(MetadataStore)
    return result
