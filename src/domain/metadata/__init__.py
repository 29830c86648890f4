"""Metadata records, their kinds and payloads."""

from domain.metadata.kinds import PAYLOADS, Payload, PayloadSpec, RecordKind, kind_of
from domain.metadata.payloads import (
    ColumnChange,
    ColumnProfile,
    DatasetProfile,
    IngestionRuntime,
    IngestionVolume,
    PhaseTiming,
    PrecisionCheck,
    PrecisionVerdict,
    ReconResult,
    ReconStatus,
    RunEvent,
    RunEventType,
    RunStatus,
    SchemaDrift,
    SchemaSnapshot,
)
from domain.metadata.record import MetadataRecord, derive_record_id

__all__ = [
    "PAYLOADS",
    "ColumnChange",
    "ColumnProfile",
    "DatasetProfile",
    "IngestionRuntime",
    "IngestionVolume",
    "MetadataRecord",
    "Payload",
    "PayloadSpec",
    "PrecisionCheck",
    "PrecisionVerdict",
    "ReconResult",
    "ReconStatus",
    "RecordKind",
    "RunEvent",
    "RunEventType",
    "PhaseTiming",
    "RunStatus",
    "SchemaDrift",
    "SchemaSnapshot",
    "derive_record_id",
    "kind_of",
]
