"""The composition root of the recon app: the one place that builds its adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.bootstrap import services
from apps.services import Services
from apps.settings import Settings, load_settings


def bootstrap(
    settings: Settings | None = None, overrides: Mapping[type, Any] | None = None
) -> Services:
    """The metadata store (shared wiring) and the pipelines' state store; the engine is
    chosen per recon by ``apps.recon.runtime`` (PostgreSQL or Spark), unless ``overrides``
    gives a ``ReconEngine``."""
    return services(settings or load_settings(), overrides)
