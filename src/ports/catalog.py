"""Ports for reading catalogs: which datasets exist, their schemas, their profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.dataset import DatasetRef
from domain.metadata.payloads import DatasetProfile
from domain.schema import Schema


class Catalog(Protocol):
    """A set of datasets whose schemas can be read (a SQL schema, a list of endpoints)."""

    def datasets(self) -> Sequence[DatasetRef]:
        """Every dataset of the catalog, in a stable order."""
        ...

    def schema(self, subject: DatasetRef) -> Schema:
        """The current schema of ``subject``; raises with a message naming it on failure."""
        ...


class Profiler(Protocol):
    """Computes a dataset_profile (row count and per-column statistics) in one scan."""

    def profile(self, subject: DatasetRef, schema: Schema) -> DatasetProfile: ...
