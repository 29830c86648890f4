"""The metadata app's commands, one module per concern."""

from __future__ import annotations

import punq

from adapters.serialization.records import RecordConverter
from domain.metadata.gateway import MetadataGateway


def gateway(container: punq.Container) -> MetadataGateway:
    """The gateway (the store is opened, and checked, on first use)."""
    result: MetadataGateway = container.resolve(MetadataGateway)
    return result


def converter(container: punq.Container) -> RecordConverter:
    result: RecordConverter = container.resolve(RecordConverter)
    return result
