"""The metadata app's commands, one module per concern."""

from __future__ import annotations

from adapters.serialization.records import RecordConverter
from apps.services import Services
from domain.metadata.gateway import MetadataGateway


def gateway(services: Services) -> MetadataGateway:
    """The gateway (the store is opened, and checked, on first use)."""
    result: MetadataGateway = services.gateway()
    return result


def converter(services: Services) -> RecordConverter:
    result: RecordConverter = services.converter
    return result
