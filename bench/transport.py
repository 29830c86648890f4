"""Records through the outbox and the relay, against `emit_many` straight into the store.

    ./pants run bench/transport.py -- [--records 1000000] [--batch 1000] [--relay-batch 5000]
        [--consume-batch 5000] [--postgres-url URL | --no-postgres] [--nats-url URL | --no-nats] [--latency 2000]
        [--only sqlite,postgresql,nats,latency]

1. End to end, SQLite store: the producer emits every record through the gateway into the
   outbox (a SQLite file) while a relay process drains it into the store, from the first
   emit to the last delivery; against the same records emitted straight into an identical
   store. Goal >= 0.7x (throughput).
2. The same into a PostgreSQL store. Goal >= 0.7x.
3. Through NATS JetStream, SQLite store: the producer publishes every record (transport
   "nats") while a consumer process (`metadata consume`'s loop) stores them, from the first
   emit to the last record stored; against `emit_many` straight into the store. Goal >= 0.5x.
4. A producer's emit latency (one record per emit, through the outbox) while the relay
   delivers to a store that is up, and while the store is down: flat (p50 and p99 printed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from metadata_throughput import batches, make_records
from sqlalchemy import Engine, text

from adapters.nats.consumer import JetStreamConsumer
from adapters.nats.jetstream import JetStreamLink, NatsPublisher
from adapters.serialization.records import RecordConverter
from adapters.sql import migrate
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.outbox import SqlOutbox
from domain.metadata.consumer import Consumer
from domain.metadata.gateway import MetadataGateway
from domain.metadata.record import MetadataRecord
from domain.metadata.relay import Relay, RepositorySink
from domain.metadata.transport import BrokerTransport, Budget, OutboxTransport

DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:9/none"


def _now() -> datetime:
    return datetime.now(UTC)


def _relay_process(
    outbox_url: str, store_url: str, relay_batch: int, stop: Any, delivered: Any
) -> None:
    """A relay in a process of its own (as `metadata relay --follow` runs): drains until
    ``stop`` is set and nothing is due."""
    converter = RecordConverter()
    outbox = SqlOutbox(create_store_engine(outbox_url), converter)
    store = SqlMetadataRepository(create_store_engine(store_url), converter)
    relay = Relay(outbox, RepositorySink(store), _now, batch=relay_batch)
    while True:
        step = relay.step()
        delivered.value += step.delivered
        if step.outage is not None:
            time.sleep(0.05)
        elif not step.taken:
            if stop.is_set():
                return
            time.sleep(0.01)


def fresh_store(url: str) -> Engine:
    engine = create_store_engine(url)
    migrate.upgrade(engine)
    return engine


def direct(store_url: str, records: Sequence[MetadataRecord], batch: int) -> float:
    engine = fresh_store(store_url)
    gateway = MetadataGateway(SqlMetadataRepository(engine, RecordConverter()))
    start = time.perf_counter()
    for chunk in batches(records, batch):
        gateway.emit_many(chunk)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def through_outbox(
    store_url: str, outbox_url: str, records: Sequence[MetadataRecord], batch: int, relay_batch: int
) -> tuple[float, float]:
    """(end to end seconds, seconds the producer took to emit)."""
    engine = fresh_store(store_url)
    outbox = SqlOutbox(create_store_engine(outbox_url), RecordConverter())
    outbox.put([], _now())
    gateway = MetadataGateway(
        SqlMetadataRepository(engine, RecordConverter()), OutboxTransport(outbox, _now)
    )
    context = multiprocessing.get_context("spawn")
    stop, delivered = context.Event(), context.Value("q", 0)
    relay = context.Process(
        target=_relay_process, args=(outbox_url, store_url, relay_batch, stop, delivered)
    )
    relay.start()
    time.sleep(2)  # the relay process's start-up is not the transport's cost
    start = time.perf_counter()
    for chunk in batches(records, batch):
        gateway.emit_many(chunk)
    emitted = time.perf_counter() - start
    stop.set()
    relay.join()
    elapsed = time.perf_counter() - start
    with engine.connect() as connection:
        stored = connection.execute(text("select count(*) from metadata_records")).scalar_one()
    assert stored == len(records) == delivered.value, (stored, delivered.value)
    engine.dispose()
    outbox.close()
    return elapsed, emitted


def _consumer_process(
    nats_url: str, stream: str, store_url: str, batch: int, expected: int, delivered: Any
) -> None:
    """`metadata consume --follow`'s loop in a process of its own, until ``expected``
    records are stored."""
    converter = RecordConverter()
    link = JetStreamLink(nats_url, stream=stream, prefix=stream.lower())
    feed = JetStreamConsumer(link, converter, durable="bench")
    consumer = Consumer(feed, SqlMetadataRepository(create_store_engine(store_url), converter))
    while delivered.value < expected:
        delivered.value += consumer.step(batch, wait_s=0.2).delivered
    link.close()


def through_nats(
    store_url: str,
    outbox_url: str,
    nats_url: str,
    records: Sequence[MetadataRecord],
    batch: int,
    consume_batch: int,
) -> tuple[float, float]:
    """(end to end seconds, seconds the producer took to publish)."""
    engine = fresh_store(store_url)
    stream = f"BENCH_{uuid.uuid4().hex[:8]}"
    link = JetStreamLink(nats_url, stream=stream, prefix=stream.lower())
    link.client()  # the stream exists before the consumer binds to it
    converter = RecordConverter()
    outbox = SqlOutbox(create_store_engine(outbox_url), converter)
    broker = BrokerTransport(NatsPublisher(link, converter), outbox, _now, Budget(10_000))
    gateway = MetadataGateway(SqlMetadataRepository(engine, converter), broker)
    context = multiprocessing.get_context("spawn")
    delivered = context.Value("q", 0)
    consumer = context.Process(
        target=_consumer_process,
        args=(nats_url, stream, store_url, consume_batch, len(records), delivered),
    )
    consumer.start()
    time.sleep(3)  # the consumer process's start-up is not the transport's cost
    try:
        start = time.perf_counter()
        for chunk in batches(records, batch):
            gateway.emit_many(chunk)
        emitted = time.perf_counter() - start
        consumer.join()
        elapsed = time.perf_counter() - start
        with engine.connect() as connection:
            stored = connection.execute(text("select count(*) from metadata_records")).scalar_one()
        assert stored == len(records) == delivered.value, (stored, delivered.value)
        assert broker.fell_back == 0, f"{broker.fell_back} records fell back to the outbox"
    finally:
        if consumer.is_alive():
            consumer.terminate()
        link.delete_stream()
        link.close()
        engine.dispose()
        outbox.close()
    return elapsed, emitted


def latency(outbox_url: str, store_url: str, records: Sequence[MetadataRecord]) -> dict[str, float]:
    """p50/p99 milliseconds of single-record emits while a relay delivers to ``store_url``."""
    outbox = SqlOutbox(create_store_engine(outbox_url), RecordConverter())
    outbox.put([], _now())
    gateway = MetadataGateway(
        SqlMetadataRepository(create_store_engine(DOWN_URL), RecordConverter()),
        OutboxTransport(outbox, _now),
    )
    context = multiprocessing.get_context("spawn")
    stop, delivered = context.Event(), context.Value("q", 0)
    relay = context.Process(
        target=_relay_process, args=(outbox_url, store_url, 500, stop, delivered)
    )
    relay.start()
    time.sleep(2)
    times = []
    for record in records:
        start = time.perf_counter()
        gateway.emit(record)
        times.append((time.perf_counter() - start) * 1000)
    stop.set()
    relay.terminate() if store_url == DOWN_URL else relay.join()
    outbox.close()
    times.sort()
    return {"p50": statistics.median(times), "p99": times[int(len(times) * 0.99) - 1]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--relay-batch", type=int, default=5000)
    parser.add_argument("--consume-batch", type=int, default=5000)
    parser.add_argument("--latency", type=int, default=2000)
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--no-nats", action="store_true")
    parser.add_argument(
        "--only",
        default="sqlite,postgresql,nats,latency",
        help="Comma-separated parts to run (default: all).",
    )
    args = parser.parse_args()
    only = {part.strip() for part in args.only.split(",")}
    if args.no_postgres:
        only.discard("postgresql")
    if args.no_nats:
        only.discard("nats")
    records = make_records(args.records, 1000)
    print(
        f"{len(records):,} records, emitted {args.batch} per emit_many, relayed {args.relay_batch} per batch"
    )
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)

        def sqlite_store(name: str) -> str:
            return f"sqlite:///{work / (name + '.db')}"

        if "sqlite" in only or "nats" in only:
            base = direct(sqlite_store("direct"), records, args.batch)
        if "sqlite" in only:
            end, emitted = through_outbox(
                sqlite_store("relayed"),
                sqlite_store("outbox"),
                records,
                args.batch,
                args.relay_batch,
            )
            results["sqlite"] = (base, end, emitted, "outbox + relay", 0.7)
        if "nats" in only:
            end, emitted = through_nats(
                sqlite_store("consumed"),
                sqlite_store("outbox-nats"),
                args.nats_url,
                records,
                args.batch,
                args.consume_batch,
            )
            results["sqlite"] = results.get("sqlite", (base, 0.0, 0.0, "", 0.0))
            results["nats"] = (base, end, emitted, "NATS + consume", 0.5)
        if "postgresql" in only:
            admin = create_store_engine(args.postgres_url)
            schemas = [f"bench_transport_{uuid.uuid4().hex[:8]}" for _ in range(2)]
            with admin.begin() as connection:
                for schema in schemas:
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                scoped = [
                    sqlalchemy.engine.make_url(args.postgres_url)
                    .update_query_dict({"options": f"-csearch_path={s}"})
                    .render_as_string(hide_password=False)
                    for s in schemas
                ]
                base = direct(scoped[0], records, args.batch)
                end, emitted = through_outbox(
                    scoped[1], sqlite_store("outbox-pg"), records, args.batch, args.relay_batch
                )
                results["postgresql"] = (base, end, emitted, "outbox + relay", 0.7)
            finally:
                with admin.begin() as connection:
                    for schema in schemas:
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        if "latency" in only:
            few = make_records(args.latency, 50)
            fresh_store(sqlite_store("latency-store")).dispose()
            up = latency(sqlite_store("latency-up"), sqlite_store("latency-store"), few)
            down = latency(sqlite_store("latency-down"), DOWN_URL, few)
    n = len(records)
    for name, (base, end, emitted, path, goal) in results.items():
        if not path:
            continue
        store = "sqlite" if name == "nats" else name
        print(
            f"{store:<11} direct emit_many {base:7.1f}s ({n / base:9,.0f}/s) | {path} end to end "
            f"{end:7.1f}s ({n / end:9,.0f}/s; producer done after {emitted:.1f}s) | ratio "
            f"{base / end:.2f}x (goal >= {goal}x)"
        )
    if "latency" in only:
        print(
            f"emit latency through the outbox: store up p50 {up['p50']:.2f} ms p99 "
            f"{up['p99']:.2f} ms | store down p50 {down['p50']:.2f} ms p99 {down['p99']:.2f} ms "
            f"| p99 ratio {down['p99'] / up['p99']:.2f}x (flat: ~1x)"
        )


if __name__ == "__main__":
    main()
