"""The composition root of the metadata app: the one place that builds adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import punq

from adapters.serialization.records import RecordConverter


def bootstrap(overrides: Mapping[type, Any] | None = None) -> punq.Container:
    """A container with every port of the metadata app registered.

    ``overrides`` maps a registered type to the instance to use instead (tests put fakes in
    and real adapters out this way).
    """
    container = punq.Container()
    container.register(RecordConverter, instance=RecordConverter())
    for service, instance in (overrides or {}).items():
        container.register(service, instance=instance)
    return container
