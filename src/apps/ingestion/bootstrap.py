"""The composition root of the ingestion app: the one place that builds its adapters."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.files.legacy import FileLegacyOutputs
from apps.bootstrap import services
from apps.services import Services
from apps.settings import Settings, load_settings


def bootstrap(
    settings: Settings | None = None, overrides: Mapping[type, Any] | None = None
) -> Services:
    """The metadata store (shared wiring) and the state store; the Spark engine is built per
    pipeline file (its [spark] table) by ``apps.ingestion.spark_runtime``, unless
    ``overrides`` gives an ``IngestionEngine``."""
    return services(settings or load_settings(), overrides)


def legacy_outputs(home: Path) -> FileLegacyOutputs:
    """Where the legacy outputs live: summaries and logs under <home>/ingestion."""
    return FileLegacyOutputs(home / "ingestion")
