"""The composition root of the recon app: the one place that builds its adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import punq

from apps.settings import Settings, load_settings
from apps.store import MetadataStore, app_container


def bootstrap(
    settings: Settings | None = None, overrides: Mapping[type, Any] | None = None
) -> punq.Container:
    """The metadata store (shared wiring) and the pipelines' state store; the Spark engine
    is built per recon by ``apps.recon.spark_runtime``."""
    return app_container(settings or load_settings(), overrides)


def store(container: punq.Container) -> MetadataStore:
    result: MetadataStore = container.resolve(MetadataStore)
    return result
