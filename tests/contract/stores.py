"""The stores under contract, each behind a harness that opens, empties and closes one
store. Every adapter of the MetadataRepository and StateStore ports is listed here."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, text

from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.memory.state import InMemoryStateStore
from adapters.serialization.records import RecordConverter
from adapters.sql import migrate
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.state import SqlStateStore
from ports.ingestion import StateStore
from ports.metadata import MetadataRepository
from services import postgres_schema, postgres_url

ADAPTERS = ("memory", "sqlite", "postgresql")


class Harness(Protocol):
    @property
    def url(self) -> str | None: ...

    def repository(self) -> MetadataRepository: ...

    def state_store(self) -> StateStore: ...

    def reset(self) -> None: ...


class MemoryHarness:
    url = None

    def __init__(self) -> None:
        self._repository = InMemoryMetadataRepository()
        self._states = InMemoryStateStore()

    def repository(self) -> MetadataRepository:
        return self._repository

    def state_store(self) -> StateStore:
        return self._states

    def reset(self) -> None:
        self._repository = InMemoryMetadataRepository()


class SqlHarness:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_store_engine(url)
        migrate.upgrade(self.engine)
        self._repository = SqlMetadataRepository(self.engine, RecordConverter())

    def repository(self) -> MetadataRepository:
        return self._repository

    def state_store(self) -> StateStore:
        return SqlStateStore(self.engine)

    def reset(self) -> None:
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                connection.execute(text("TRUNCATE metadata_records RESTART IDENTITY"))
            else:
                connection.execute(text("DELETE FROM metadata_records"))


@contextlib.contextmanager
def open_harness(adapter: str) -> Iterator[Harness]:
    """A harness for ``adapter``; PostgreSQL skips (or fails under CI=true) when unreachable."""
    if adapter == "memory":
        yield MemoryHarness()
    elif adapter == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            harness = SqlHarness(f"sqlite:///{Path(directory) / 'metadata.db'}")
            try:
                yield harness
            finally:
                harness.engine.dispose()
    elif adapter == "postgresql":
        with postgres_schema(postgres_url()) as url:
            harness = SqlHarness(url)
            try:
                yield harness
            finally:
                harness.engine.dispose()
    else:
        raise ValueError(f"no harness for adapter {adapter!r}; known: {', '.join(ADAPTERS)}")
