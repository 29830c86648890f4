"""The stores under contract, each behind a harness that opens, empties and closes one
store. Every adapter of the MetadataRepository and StateStore ports is listed here."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, text

from adapters.http.access import Limits
from adapters.http.client import HttpMetadataRepository
from adapters.http.running import in_thread
from adapters.http.server import MetadataService
from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.memory.state import InMemoryStateStore
from adapters.serialization.records import RecordConverter
from adapters.sql import migrate
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.state import SqlStateStore
from adapters.sql.tokens import SqlTokenStore
from domain.metadata.gateway import MetadataGateway
from domain.metadata.tokens import Scope
from ports.ingestion import StateStore
from ports.metadata import MetadataRepository
from services import postgres_schema, postgres_url

ADAPTERS = ("memory", "sqlite", "postgresql", "http")


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


class HttpHarness:
    """The remote adapter: HttpMetadataRepository against `metadata serve` on loopback, the
    service over a SQLite store (reset through it)."""

    url = None  # not a database URL: the two-writer-processes test is for databases

    def __init__(
        self, store: SqlHarness, base_url: str, token: str, tokens: SqlTokenStore | None = None
    ) -> None:
        self._store = store
        self.base_url, self.token = base_url, token
        self.tokens = tokens  # the service's token store, for tests that make more tokens
        self._repository = HttpMetadataRepository(base_url, token, RecordConverter())

    def repository(self) -> MetadataRepository:
        return self._repository

    def state_store(self) -> StateStore:
        return self._store.state_store()

    def reset(self) -> None:
        self._store.reset()

    def close(self) -> None:
        self._repository.close()


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
    elif adapter == "http":
        with tempfile.TemporaryDirectory() as directory:
            store = SqlHarness(f"sqlite:///{Path(directory) / 'metadata.db'}")
            tokens = SqlTokenStore(store.engine)
            secret = tokens.create("contract", {Scope.READ, Scope.WRITE}, datetime.now(UTC))
            service = MetadataService(
                MetadataGateway(store.repository()),
                RecordConverter(),
                tokens,
                limits=Limits(rate_per_s=10_000, burst=10_000),
            )
            try:
                with in_thread(service.app()) as base_url:
                    remote = HttpHarness(store, base_url, secret, tokens)
                    try:
                        yield remote
                    finally:
                        remote.close()
            finally:
                store.engine.dispose()
    else:
        raise ValueError(f"no harness for adapter {adapter!r}; known: {', '.join(ADAPTERS)}")


@contextlib.contextmanager
def live_service() -> Iterator[HttpHarness]:
    """`metadata serve`'s app on loopback over a SQLite store, with a read-write token."""
    with open_harness("http") as harness:
        assert isinstance(harness, HttpHarness)
        yield harness
