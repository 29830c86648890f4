"""The port through which schema rules read their baselines (never from cache files)."""

from __future__ import annotations

from typing import Protocol

from domain.dataset import DatasetRef
from domain.metadata.payloads import DatasetProfile
from domain.metadata.record import MetadataRecord


class SchemaBaselines(Protocol):
    """The latest known schema and profile of a dataset."""

    def latest_snapshot(self, subject: DatasetRef) -> MetadataRecord | None:
        """The newest ``schema_snapshot`` record about ``subject``, if any."""
        ...

    def latest_profile(self, subject: DatasetRef) -> DatasetProfile | None:
        """The payload of the newest ``dataset_profile`` record about ``subject``, if any."""
        ...
