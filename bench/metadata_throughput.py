"""Metadata gateway throughput and latest() latency, each beside its raw baseline.

    ./pants run bench/metadata_throughput.py -- [--records 1000000] [--batch 10000]
        [--subjects 1000] [--lookups 10000] [--postgres-url URL | --no-postgres]

1. SQLite: `emit_many` through the gateway (validation, duplicate/conflict detection,
   SQLAlchemy Core) against raw `sqlite3.executemany` of the same, pre-serialised rows into
   an identical table (same DDL, indexes, WAL and synchronous=NORMAL). Goal >= 0.7x.
2. PostgreSQL: the same against raw psycopg `COPY` into an identical table. Goal >= 0.5x.
3. `latest` median and p99 over random subjects with every record stored. Goal median <= 1 ms.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg
import sqlalchemy
from sqlalchemy import Engine, text

from adapters.serialization.records import RecordConverter
from adapters.sql import migrate
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.tables import metadata as table_metadata
from domain.dataset import DatasetRef, RunId
from domain.metadata import IngestionVolume, MetadataRecord, RecordKind
from domain.metadata.gateway import MetadataGateway

T = TypeVar("T")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def make_records(count: int, subjects: int) -> list[MetadataRecord]:
    refs = [
        DatasetRef("postgres://warehouse:5432", f"sales.schema_{i % 37}.table_{i:05d}")
        for i in range(subjects)
    ]
    rng = random.Random(7)
    return [
        MetadataRecord.create(
            subject=refs[i % subjects],
            run_id=RunId(f"run-{i // subjects:06d}-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}"),
            observed_at=T0 + timedelta(seconds=i),
            producer="ingestion-runtime",
            payload=IngestionVolume(
                rows_read=rng.randrange(10**9, 10**10),
                rows_written=rng.randrange(10**9, 10**10),
                rows_rejected=rng.randrange(0, 10**6),
                bytes_written=rng.randrange(10**11, 10**12),
            ),
        )
        for i in range(count)
    ]


def raw_rows(
    records: Sequence[MetadataRecord], converter: RecordConverter, micros: bool
) -> list[tuple[object, ...]]:
    return [
        (
            r.record_id,
            r.kind.value,
            r.subject.namespace,
            r.subject.name,
            r.run_id.value,
            (r.observed_at - EPOCH) // timedelta(microseconds=1) if micros else r.observed_at,
            r.producer,
            r.payload_version,
            json.dumps(converter.unstructure_payload(r.payload)),
        )
        for r in records
    ]


def timed(label: str, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds:8.2f} s", flush=True)
    return seconds


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def gateway_load(engine: Engine, records: Sequence[MetadataRecord], batch: int) -> MetadataGateway:
    gateway = MetadataGateway(SqlMetadataRepository(engine, RecordConverter()))
    for chunk in batches(records, batch):
        gateway.emit_many(chunk)
    return gateway


def latest_latency(
    gateway: MetadataGateway, subjects: Sequence[DatasetRef], lookups: int
) -> tuple[float, float]:
    rng = random.Random(11)
    samples = []
    for _ in range(lookups):
        subject = rng.choice(subjects)
        start = time.perf_counter()
        found = gateway.latest(RecordKind.INGESTION_VOLUME, subject)
        samples.append(time.perf_counter() - start)
        assert found is not None
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99)] * 1000


def bench_sqlite(
    records: Sequence[MetadataRecord], batch: int, lookups: int, directory: Path
) -> dict[str, float]:
    converter = RecordConverter()
    print("SQLite")
    gateway_engine = create_store_engine(f"sqlite:///{directory / 'gateway.db'}")
    migrate.upgrade(gateway_engine)
    holder: dict[str, MetadataGateway] = {}
    gateway_s = timed(
        "gateway emit_many",
        lambda: holder.setdefault("g", gateway_load(gateway_engine, records, batch)),
    )

    raw_engine = create_store_engine(f"sqlite:///{directory / 'raw.db'}")
    table_metadata.create_all(raw_engine)  # the same DDL and indexes the migration builds
    raw_engine.dispose()
    rows = raw_rows(records, converter, micros=True)
    import sqlite3

    connection = sqlite3.connect(directory / "raw.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    insert = (
        "INSERT INTO metadata_records (record_id, kind, namespace, name, run_id, observed_at, "
        "producer, payload_version, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def raw_load() -> None:
        for chunk in batches(rows, batch):
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(insert, chunk)
            connection.execute("COMMIT")

    raw_s = timed("raw sqlite3.executemany (pre-serialised)", raw_load)
    connection.close()
    subjects = sorted({r.subject for r in records})
    median, p99 = latest_latency(holder["g"], subjects, lookups)
    print(f"  latest over {lookups} lookups: median {median:.3f} ms, p99 {p99:.3f} ms")
    return {
        "gateway_s": gateway_s,
        "raw_s": raw_s,
        "latest_median_ms": median,
        "latest_p99_ms": p99,
    }


def bench_postgres(
    records: Sequence[MetadataRecord], batch: int, lookups: int, url: str
) -> dict[str, float]:
    converter = RecordConverter()
    print("PostgreSQL")
    schemas = {name: f"bench_{name}_{uuid.uuid4().hex[:8]}" for name in ("gateway", "raw")}
    admin = create_store_engine(url)
    with admin.begin() as connection:
        for schema in schemas.values():
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:

        def engine_for(schema: str) -> Engine:
            scoped = sqlalchemy.engine.make_url(url).update_query_dict(
                {"options": f"-csearch_path={schema}"}
            )
            return create_store_engine(scoped.render_as_string(hide_password=False))

        gateway_engine = engine_for(schemas["gateway"])
        migrate.upgrade(gateway_engine)
        holder: dict[str, MetadataGateway] = {}
        gateway_s = timed(
            "gateway emit_many",
            lambda: holder.setdefault("g", gateway_load(gateway_engine, records, batch)),
        )

        raw_engine = engine_for(schemas["raw"])
        table_metadata.create_all(raw_engine)
        raw_engine.dispose()
        rows = raw_rows(records, converter, micros=False)
        plain = (
            sqlalchemy.engine.make_url(url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )

        def raw_copy() -> None:
            with psycopg.connect(plain, options=f"-csearch_path={schemas['raw']}") as connection:
                for chunk in batches(rows, batch):
                    with (
                        connection.cursor() as cursor,
                        cursor.copy(
                            "COPY metadata_records (record_id, kind, namespace, name, run_id, observed_at, "
                            "producer, payload_version, payload) FROM STDIN"
                        ) as copy,
                    ):
                        for row in chunk:
                            copy.write_row(row)
                    connection.commit()

        raw_s = timed("raw psycopg COPY (pre-serialised)", raw_copy)
        subjects = sorted({r.subject for r in records})
        median, p99 = latest_latency(holder["g"], subjects, lookups)
        print(f"  latest over {lookups} lookups: median {median:.3f} ms, p99 {p99:.3f} ms")
        gateway_engine.dispose()
        return {
            "gateway_s": gateway_s,
            "raw_s": raw_s,
            "latest_median_ms": median,
            "latest_p99_ms": p99,
        }
    finally:
        with admin.begin() as connection:
            for schema in schemas.values():
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--subjects", type=int, default=1_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"
    )
    print(
        f"building {args.records:,} ingestion_volume records over {args.subjects:,} subjects ...",
        flush=True,
    )
    records = make_records(args.records, args.subjects)
    payload_bytes = statistics.mean(
        len(json.dumps(RecordConverter().unstructure_payload(r.payload))) for r in records[:1000]
    )
    print(f"  mean payload {payload_bytes:.0f} bytes of JSON, batches of {args.batch:,}")

    results = {}
    with tempfile.TemporaryDirectory() as directory:
        results["sqlite"] = bench_sqlite(records, args.batch, args.lookups, Path(directory))
    if not args.no_postgres:
        results["postgresql"] = bench_postgres(records, args.batch, args.lookups, args.postgres_url)

    print("\nsummary                      gateway rec/s   baseline rec/s   ratio   goal")
    goals = {"sqlite": 0.7, "postgresql": 0.5}
    for name, figures in results.items():
        gateway_rate = args.records / figures["gateway_s"]
        raw_rate = args.records / figures["raw_s"]
        ratio = gateway_rate / raw_rate
        verdict = "met" if ratio >= goals[name] else "MISSED"
        print(
            f"  {name:<26} {gateway_rate:>13,.0f}   {raw_rate:>14,.0f}   {ratio:5.2f}   >= {goals[name]} {verdict}"
        )
    for name, figures in results.items():
        verdict = "met" if figures["latest_median_ms"] <= 1.0 else "MISSED"
        print(
            f"  {name} latest median {figures['latest_median_ms']:.3f} ms (goal <= 1 ms: {verdict}), p99 {figures['latest_p99_ms']:.3f} ms"
        )


if __name__ == "__main__":
    main()
