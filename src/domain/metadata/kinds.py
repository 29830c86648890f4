"""Record kinds and the registry from kind to payload type and version."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeAlias

import attrs

from domain.metadata.payloads import (
    DatasetProfile,
    IngestionRuntime,
    IngestionVolume,
    PrecisionCheck,
    ReconResult,
    RunEvent,
    SchemaDrift,
    SchemaSnapshot,
)


class RecordKind(enum.Enum):
    SCHEMA_SNAPSHOT = "schema_snapshot"
    DATASET_PROFILE = "dataset_profile"
    SCHEMA_DRIFT = "schema_drift"
    PRECISION_CHECK = "precision_check"
    INGESTION_VOLUME = "ingestion_volume"
    INGESTION_RUNTIME = "ingestion_runtime"
    RECON_RESULT = "recon_result"
    RUN_EVENT = "run_event"

    @classmethod
    def parse(cls, text: str) -> RecordKind:
        try:
            return cls(text)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValueError(f"kind: expected one of {known}; got {text!r}") from None


Payload: TypeAlias = (
    SchemaSnapshot
    | DatasetProfile
    | SchemaDrift
    | PrecisionCheck
    | IngestionVolume
    | IngestionRuntime
    | ReconResult
    | RunEvent
)


@attrs.frozen
class PayloadSpec:
    """What a kind carries: its payload type and the newest payload version."""

    kind: RecordKind
    payload_type: type[Payload]
    current_version: int = 1


PAYLOADS: Mapping[RecordKind, PayloadSpec] = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            PayloadSpec(RecordKind.SCHEMA_SNAPSHOT, SchemaSnapshot),
            PayloadSpec(RecordKind.DATASET_PROFILE, DatasetProfile, current_version=2),
            PayloadSpec(RecordKind.SCHEMA_DRIFT, SchemaDrift),
            PayloadSpec(RecordKind.PRECISION_CHECK, PrecisionCheck),
            PayloadSpec(RecordKind.INGESTION_VOLUME, IngestionVolume, current_version=3),
            PayloadSpec(RecordKind.INGESTION_RUNTIME, IngestionRuntime, current_version=3),
            PayloadSpec(RecordKind.RECON_RESULT, ReconResult, current_version=2),
            PayloadSpec(RecordKind.RUN_EVENT, RunEvent, current_version=2),
        )
    }
)

_KIND_OF: Mapping[type, RecordKind] = MappingProxyType(
    {spec.payload_type: kind for kind, spec in PAYLOADS.items()}
)


def kind_of(payload: Payload) -> RecordKind:
    """The kind whose payload type ``payload`` is."""
    try:
        return _KIND_OF[type(payload)]
    except KeyError:
        raise TypeError(
            f"payload: {type(payload).__name__} is not a registered payload type"
        ) from None
