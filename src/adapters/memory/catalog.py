"""A catalog held in memory: datasets with their schemas and profiles.

A real adapter of the Catalog and Profiler ports for fast tests; it can be told to fail
one dataset's schema or profile, as a database or a file would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.dataset import DatasetRef
from domain.metadata.payloads import DatasetProfile
from domain.schema import Schema


class InMemoryCatalog:
    """Datasets in insertion order; ``failures`` maps a dataset to the error its profile
    raises (a message, as an unreadable table would give)."""

    def __init__(
        self,
        schemas: Mapping[DatasetRef, Schema],
        profiles: Mapping[DatasetRef, DatasetProfile] | None = None,
        failures: Mapping[DatasetRef, str] | None = None,
    ) -> None:
        self._schemas = dict(schemas)
        self._profiles = dict(profiles or {})
        self._failures = dict(failures or {})

    def datasets(self) -> Sequence[DatasetRef]:
        return list(self._schemas)

    def schema(self, subject: DatasetRef) -> Schema:
        try:
            return self._schemas[subject]
        except KeyError:
            raise LookupError(f"{subject}: not in this catalog") from None

    def profile(self, subject: DatasetRef, schema: Schema) -> DatasetProfile:
        if subject in self._failures:
            raise RuntimeError(f"{subject}: {self._failures[subject]}")
        return self._profiles.get(subject) or DatasetProfile(0, ())
