"""Ports for reading catalogs: which datasets exist, their schemas, their profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.dataset import DatasetRef
from domain.metadata.payloads import DatasetProfile
from domain.schema import Schema


class CatalogError(Exception):
    """The catalog cannot be listed at all (unreachable, no such schema); the message says
    which and what to do."""


class CatalogUnreachable(CatalogError):
    """The catalog's server or files cannot be reached; retrying later may work."""


class Catalog(Protocol):
    """A set of datasets whose schemas can be read (a SQL schema, a list of endpoints)."""

    def datasets(self) -> Sequence[DatasetRef]:
        """Every dataset of the catalog, in a stable order; :class:`CatalogError` when the
        catalog itself cannot be read."""
        ...

    def schema(self, subject: DatasetRef) -> Schema:
        """The current schema of ``subject``; raises with a message naming it on failure."""
        ...


class Profiler(Protocol):
    """Computes a dataset_profile (row count and per-column statistics) in one scan."""

    def profile(self, subject: DatasetRef, schema: Schema) -> DatasetProfile: ...
