"""The SQL tables of the metadata store (the current shape; migrations build it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.types import TypeDecorator, TypeEngine

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class UtcTimestamp(TypeDecorator[datetime]):
    """A UTC instant: `timestamptz` on PostgreSQL; integer microseconds since the epoch on
    SQLite, which has no timestamp type (text would sort and compare wrongly across offsets)."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(BigInteger())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return (value - _EPOCH) // _MICROSECOND

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return _EPOCH + timedelta(microseconds=int(value))


def sequence_column() -> Column[int]:
    """An append order: a 64-bit identity (SQLite's rowid alias must be declared INTEGER)."""
    return Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )


metadata = MetaData()

# `seq` is the append order: it breaks ties between records observed at the same instant
# and, with observed_at, gives the total order that cursors page through.
records = Table(
    "metadata_records",
    metadata,
    sequence_column(),
    Column("record_id", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("namespace", String(1024), nullable=False),
    Column("name", String(1024), nullable=False),
    Column("run_id", String(128), nullable=False),
    Column("observed_at", UtcTimestamp(), nullable=False),
    Column("producer", String(256), nullable=False),
    Column("payload_version", Integer, nullable=False),
    Column("payload", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    # latest / history: one subject's records of one kind, newest first
    Index("ix_metadata_records_subject", "kind", "namespace", "name", "observed_at", "seq"),
    # query across subjects in time order, and by run
    Index("ix_metadata_records_time", "observed_at", "seq"),
    # one kind across subjects in time order (the dashboard's runs page: the run events)
    Index("ix_metadata_records_kind_time", "kind", "observed_at", "seq"),
    Index("ix_metadata_records_run", "run_id"),
)


def subject_text() -> String:
    """A subject's namespace or name, ordered by code point on every engine (PostgreSQL's
    "C" collation; SQLite compares UTF-8 bytes, which is the same order)."""
    return String(1024).with_variant(String(1024, collation="C"), "postgresql")


# Every subject with a record stored (written with its records): the datasets list reads
# this, not the records.
subjects = Table(
    "metadata_subjects",
    metadata,
    Column("namespace", subject_text(), primary_key=True),
    Column("name", subject_text(), primary_key=True),
)

# Spellings of a subject rewritten by migration 0005 onto the canonical one (domain.identity):
# what a store held before, kept so an operator can see where each dataset's records went.
aliases = Table(
    "metadata_aliases",
    metadata,
    Column("namespace", subject_text(), primary_key=True),
    Column("name", subject_text(), primary_key=True),
    Column("canonical_namespace", subject_text(), nullable=False),
    Column("canonical_name", subject_text(), nullable=False),
)

# What each ingestion pipeline committed last (the StateStore's SQL adapter).
pipeline_state = Table(
    "pipeline_state",
    metadata,
    Column("pipeline", String(128), primary_key=True),
    Column("last_run_id", String(128), nullable=False),
    Column("committed_at", UtcTimestamp(), nullable=False),
    Column("rows_written", BigInteger, nullable=False),
    Column("watermark", Text, nullable=True),
)

__all__ = ["UtcTimestamp", "metadata", "pipeline_state", "records", "subjects"]
