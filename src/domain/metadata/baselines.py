"""Schema baselines read through the metadata gateway."""

from __future__ import annotations

from domain.dataset import DatasetRef
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import DatasetProfile
from domain.metadata.record import MetadataRecord


class GatewaySchemaBaselines:
    """The SchemaBaselines port on top of the gateway's ``latest``."""

    def __init__(self, gateway: MetadataGateway) -> None:
        self._gateway = gateway

    def latest_snapshot(self, subject: DatasetRef) -> MetadataRecord | None:
        return self._gateway.latest(RecordKind.SCHEMA_SNAPSHOT, subject)

    def latest_profile(self, subject: DatasetRef) -> DatasetProfile | None:
        record = self._gateway.latest(RecordKind.DATASET_PROFILE, subject)
        return (
            None
            if record is None or not isinstance(record.payload, DatasetProfile)
            else record.payload
        )
