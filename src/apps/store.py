"""The metadata store every app writes to and reads from, built from one URL.

This is the one wiring of the store the apps share (metadata, ingestion, recon): it checks
the URL, builds the engine lazily, creates a new embedded store on first use (safely when
several processes start at once), and refuses a store whose schema is missing or old.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import click
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from adapters.serialization.records import RecordConverter
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.outbox import SqlOutbox
from adapters.sql.state import SqlStateStore
from apps.cli.app import AppGroup, Translator, one_line
from apps.cli.errors import ExitCode
from apps.cli.spark import spark_failure
from apps.settings import METADATA_URL_VARIABLE, OUTBOX_URL_VARIABLE, Settings, SettingsError
from domain.dataset import DatasetRef
from domain.metadata.errors import StoreNotReady
from domain.metadata.kinds import RecordKind
from domain.metadata.query import AppendResult, RecordPage, RecordQuery, SubjectPage, SubjectQuery
from domain.metadata.record import MetadataRecord
from domain.metadata.transport import (
    BrokerTransport,
    Budget,
    DirectTransport,
    FallbackTransport,
    OutboxTransport,
)
from ports.ingestion import StateStore
from ports.metadata import MetadataRepository
from ports.transport import RecordTransport

_FORMS = (
    "sqlite:///PATH, postgresql+psycopg://USER@HOST:PORT/DB or http(s)://HOST:PORT (the "
    "metadata service)"
)
_DATABASE_FORMS = (
    "sqlite:///PATH, postgresql+psycopg://USER@HOST:PORT/DB or mysql://USER@HOST:3306/DB "
    "(MariaDB too)"
)

if TYPE_CHECKING:  # imported where used: `--help` and most commands need none of them
    from adapters.nats.jetstream import JetStreamLink


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a database URL (a typo): nothing to hide
        return url


def check_database_url(url: str, source: str, *, what: str = "metadata url") -> str:
    """``url`` as the store (or a catalog) will use it, or :class:`SettingsError` saying what
    to write; ``source`` says where the URL came from.

    ``postgresql://`` and ``postgres://`` mean the psycopg driver, the one this tool ships.
    """
    where = f"{what} {url!r} ({source})"
    if not url.strip():
        raise SettingsError(
            f"{what} ({source}) is empty; give {_FORMS}"
            + (", or leave it unset for the embedded store" if what == "metadata url" else "")
        )
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        raise SettingsError(f"{where}: not a database URL; expected {_FORMS}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("http", "https"):
        if what != "metadata url":
            raise SettingsError(f"{where}: must be a database; use {_FORMS}")
        if not parsed.host:
            raise SettingsError(f"{where}: no host; give http(s)://HOST:PORT of `metadata serve`")
        return url.strip().rstrip("/")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise SettingsError(f"{where}: driver {driver!r} is not supported; use sqlite:///PATH")
        if not parsed.database or parsed.database == ":memory:":
            raise SettingsError(
                f"{where}: an in-memory SQLite database forgets every record when the command "
                f"ends; give a file, sqlite:///PATH (four slashes for an absolute path)"
            )
        return parsed.render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise SettingsError(
                f"{where}: driver {driver!r} is not supported; use postgresql+psycopg://..."
            )
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend in ("mysql", "mariadb") and what == "database url":
        if driver not in ("", "pymysql"):
            raise SettingsError(
                f"{where}: driver {driver!r} is not supported; use {backend}+pymysql://... "
                f"(or {backend}://..., which means it)"
            )
        if not parsed.database:
            raise SettingsError(f"{where}: no database; write {backend}://USER@HOST:3306/DATABASE")
        return parsed.set(drivername=f"{backend}+pymysql").render_as_string(hide_password=False)
    if backend in ("mysql", "mariadb"):
        raise SettingsError(
            f"{where}: MariaDB/MySQL can be harvested, but does not hold the {what}s; use "
            f"{_FORMS}"
        )
    forms = _FORMS if what == "metadata url" else _DATABASE_FORMS
    raise SettingsError(f"{where}: unsupported database {backend!r}; use {forms}")


class StoreUnavailable(Exception):
    """The store cannot be opened (a directory that cannot be created, say)."""


@attrs.define
class MetadataStore:
    """The configured store: builds its engine lazily and knows how to migrate it."""

    settings: Settings
    converter: RecordConverter
    _engine: Engine | None = None
    _outboxes: dict[str, SqlOutbox] = attrs.field(factory=dict)
    _link: JetStreamLink | None = None
    _lazy: MetadataRepository | None = None

    @property
    def url(self) -> str:
        return self.settings.metadata_url

    @property
    def where(self) -> str:
        """The store for messages: its URL without password, and where the URL came from."""
        return f"the metadata store at {display_url(self.url)} ({self.settings.source})"

    def engine(self) -> Engine:
        if self._engine is None:
            url = check_database_url(self.url, self.settings.source)
            try:
                self._engine = create_store_engine(url)
            except OSError as failed:
                raise StoreUnavailable(
                    f"{self.where}: cannot create {failed.filename or 'its directory'} "
                    f"({failed.strerror or failed}); set {METADATA_URL_VARIABLE} or "
                    f"DATAPLATFORM_HOME to a writable place"
                ) from None
        return self._engine

    @property
    def remote(self) -> bool:
        """Whether the store is the metadata service (an ``http(s)://`` URL)."""
        return self.url.strip().lower().startswith(("http://", "https://"))

    def repository(self) -> MetadataRepository:
        """The repository, refusing a store whose schema is missing or old."""
        if self.remote:
            from adapters.http.client import HttpMetadataRepository

            return HttpMetadataRepository(
                check_database_url(self.url, self.settings.source),
                self.settings.token,
                self.converter,
            )
        from adapters.sql import migrate  # Alembic: only when a store is opened

        engine = self.engine()
        # A brand-new embedded store is created on first use; anything else is migrated
        # only on request, because upgrading a shared store is somebody's decision.
        if engine.dialect.name == "sqlite":
            migrate.create_if_empty(engine)
        migrate.ensure_current(engine, display_url(self.url))
        return SqlMetadataRepository(engine, self.converter)

    def state_store(self) -> StateStore:
        """Pipeline state, kept in the metadata database beside the records (with the
        metadata service as the store: in ``<home>/state.db``, the runtime's own)."""
        if self.remote:
            path = self.settings.home / "state.db"
            engine = create_store_engine(
                URL.create("sqlite", database=str(path)).render_as_string()
            )
            from adapters.sql import migrate

            migrate.create_if_empty(engine)
            return SqlStateStore(engine)
        self.repository()  # the same checks: created when new, refused when out of date
        return SqlStateStore(self.engine())

    def migrate(self, report: dict[str, int] | None = None) -> tuple[str | None, str]:
        """Upgrade the store; ``report`` gets what a migration moved (see upgrade)."""
        from adapters.sql import migrate

        return migrate.upgrade(
            self.engine(), display_url(self.url), str(self.settings.home), report=report
        )

    def outbox(self, url: str | None = None) -> SqlOutbox:
        """The configured outbox (producers fill it with ``transport = outbox``), or the one
        at ``url`` (a database target's, which its runs fill); the relay drains either."""
        if url is None:
            url = self.settings.outbox_url
            source = f"{OUTBOX_URL_VARIABLE} or [metadata] outbox"
        else:
            source = "--outbox"
        url = check_database_url(url, source, what="outbox url")
        if url not in self._outboxes:
            try:
                self._outboxes[url] = SqlOutbox(create_store_engine(url), self.converter)
            except OSError as failed:
                raise StoreUnavailable(
                    f"the outbox at {display_url(url)}: cannot create "
                    f"{failed.filename or 'its directory'} ({failed.strerror or failed}); set "
                    f"{source} to a writable place"
                ) from None
        return self._outboxes[url]

    def lazy_repository(self) -> MetadataRepository:
        """The repository, opened (and checked) on first use and again after a failure;
        one per store, shared by the gateway's reads and the direct transport's writes."""
        if self._lazy is None:
            self._lazy = _LazyRepository(self)
        return self._lazy

    def nats_link(self) -> JetStreamLink:
        if self._link is None:
            stream = self.settings.nats_stream
            from adapters.nats.jetstream import JetStreamLink

            self._link = JetStreamLink(self.settings.nats_url, stream=stream, prefix=stream.lower())
        return self._link

    def transport(self) -> RecordTransport:
        """How the gateway's writes travel (``[metadata] transport``)."""
        if self.settings.transport == "outbox":
            return OutboxTransport(self.outbox(), _now)
        if self.settings.transport == "nats":
            return BrokerTransport(
                _nats_publisher(self.nats_link(), self.converter),
                self.outbox(),
                _now,
                process_budget(self.settings.budget),
                wait_s=self.settings.budget_wait_s,
                spill=self.settings.spill,
            )
        if self.remote:
            # The service unreachable: the records wait in the outbox, not in the producer.
            return FallbackTransport(self.lazy_repository(), self.outbox(), _now)
        return DirectTransport(self.lazy_repository())


_BUDGET: list[Budget] = []


def process_budget(capacity: int) -> Budget:
    """The one budget of records in flight that every producer of this process shares."""
    if not _BUDGET:
        _BUDGET.append(Budget(capacity))
    return _BUDGET[0]


def _now() -> datetime:
    return datetime.now(UTC)


class _LazyRepository:
    """Implements MetadataRepository: opens the store on first use, so a producer whose
    writes go to an outbox starts while the store is down."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        self._opened: MetadataRepository | None = None

    def _repository(self) -> MetadataRepository:
        if self._opened is None:
            self._opened = self._store.repository()
        return self._opened

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        return self._repository().append(records)

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        return self._repository().latest(kind, subject)

    def query(self, query: RecordQuery) -> RecordPage:
        return self._repository().query(query)

    def subjects(self, query: SubjectQuery) -> SubjectPage:
        return self._repository().subjects(query)


def _nats_publisher(link: JetStreamLink, converter: RecordConverter) -> Any:
    from adapters.nats.jetstream import NatsPublisher

    return NatsPublisher(link, converter)


def describe_store_failure(
    failure: BaseException, store: MetadataStore | None
) -> tuple[str, ExitCode] | None:
    """One line for a failure of the store (unreachable, not ready, misconfigured)."""
    if isinstance(failure, SettingsError):
        return str(failure), ExitCode.BAD_INPUT
    from adapters.http.client import ServiceRefused, ServiceUnreachable

    if isinstance(failure, StoreNotReady | StoreUnavailable | ServiceRefused):
        return str(failure), ExitCode.CHECK_FAILED
    if isinstance(failure, ServiceUnreachable):
        return (
            f"{failure}. Check the URL (--url, {METADATA_URL_VARIABLE}) and that `metadata "
            f"serve` runs there",
            ExitCode.CHECK_FAILED,
        )
    if isinstance(failure, DBAPIError):
        where = store.where if store is not None else "the database"
        reason = one_line(str(failure.orig or failure)).split(" [SQL:")[0]
        local = _local_file_failure(failure, store, reason)
        if local is not None:
            return local, ExitCode.CHECK_FAILED
        return (
            f"{where} failed: {reason}. Check the URL (--url, {METADATA_URL_VARIABLE}) and "
            f"that the server runs",
            ExitCode.CHECK_FAILED,
        )
    return None


def _local_file_failure(
    failure: DBAPIError, store: MetadataStore | None, reason: str
) -> str | None:
    """An embedded (SQLite) store that cannot be opened or written is the file's or its
    folder's fault (read-only, no space), not a server's: say which and what to do."""
    if store is None or failure.connection_invalidated or not store.url.startswith("sqlite"):
        return None
    path = Path(make_url(store.url).database or "")
    folder = path.parent
    why = reason
    if "unable to open" in reason or "readonly" in reason or "read-only" in reason:
        if not os.access(folder, os.W_OK) or not os.access(
            path if path.exists() else folder, os.W_OK
        ):
            why = f"{folder} is not writable"
        else:
            why = f"{reason} (is {folder} on a read-only file system?)"
    return (
        f"{store.where}: cannot write {path}: {why}; point {METADATA_URL_VARIABLE} or "
        f"DATAPLATFORM_HOME at a writable place"
    )


def _store_failure(
    failure: BaseException, ctx: click.Context | None
) -> tuple[str, ExitCode] | None:
    # The app's services (apps.services.Services) hold the store the command used.
    store = getattr(ctx.obj, "store", None) if ctx is not None else None
    return describe_store_failure(failure, store if isinstance(store, MetadataStore) else None)


class StoreAppGroup(AppGroup):
    """The command group of an app that uses the metadata store: its failures (unreachable,
    out of date, misconfigured) are one line naming the store and where its URL came from."""

    translators: ClassVar[tuple[Translator, ...]] = (_store_failure, spark_failure)
