"""The contract of the RecordTransport port: every record a producer emitted reaches the
repository exactly once, whatever fault is injected on the way. Each test names its fault.

Transports: ``direct`` (the synchronous path), ``outbox-sqlite`` and ``outbox-postgresql``
(drained by the relay), ``nats`` (NATS JetStream at 127.0.0.1:4222, a stream of its own per
test, drained by the durable consumer; its fallback outbox relayed to the broker). The repository is a real SQLite store behind a fault injector that
can take it down or slow it.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from adapters.nats.consumer import JetStreamConsumer
from adapters.nats.jetstream import JetStreamLink, JetStreamSink, NatsPublisher
from adapters.serialization.records import RecordConverter
from adapters.sql import migrate
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.outbox import SqlOutbox, outbox
from domain.dataset import DatasetRef, RunId
from domain.metadata import IngestionVolume, MetadataRecord
from domain.metadata.consumer import Consumer
from domain.metadata.errors import RecordConflict
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.query import AppendResult, RecordPage, RecordQuery, SubjectPage, SubjectQuery
from domain.metadata.relay import Backoff, Relay, RelayStep, RepositorySink
from domain.metadata.transport import BrokerTransport, Budget, DirectTransport, OutboxTransport
from ports.transport import RecordTransport
from services import nats_url, postgres_schema, postgres_url

TRANSPORTS = ("direct", "outbox-sqlite", "outbox-postgresql", "nats")
ORDERS = DatasetRef("postgres://db:5432", "sales.public.orders")
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def volume(n: int, rows: int = 1) -> MetadataRecord:
    return MetadataRecord.create(
        subject=ORDERS,
        run_id=RunId(f"run-{n}"),
        observed_at=T0 + timedelta(seconds=n),
        producer="ingestion",
        payload=IngestionVolume(rows, rows),
    )


class RepositoryDown(ConnectionError):
    """The injected outage."""


class Faulty:
    """Implements MetadataRepository over a real one, with injectable faults."""

    def __init__(self, inner: SqlMetadataRepository) -> None:
        self.inner = inner
        self.down = False
        self.delay = 0.0

    def _check(self) -> None:
        if self.down:
            raise RepositoryDown("connection refused (injected: the repository is down)")

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        self._check()
        time.sleep(self.delay)
        return self.inner.append(records)

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        self._check()
        return self.inner.latest(kind, subject)

    def query(self, query: RecordQuery) -> RecordPage:
        self._check()
        return self.inner.query(query)

    def subjects(self, query: SubjectQuery) -> SubjectPage:
        self._check()
        return self.inner.subjects(query)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Harness:
    """One transport in front of one repository; ``deliver`` drains what is queued."""

    def __init__(self, name: str, repository: Faulty, outbox_url: str | None) -> None:
        self.name = name
        self.repository = repository
        self.clock = Clock()
        self.outbox: SqlOutbox | None = None
        self.relay: Relay | None = None
        transport: RecordTransport
        self.link: JetStreamLink | None = None
        self.consumer: Consumer | None = None
        self.feed: JetStreamConsumer | None = None
        self.fallback: Relay | None = None
        if name == "nats":
            assert outbox_url is not None
            tag = uuid.uuid4().hex[:10]
            self.link = JetStreamLink(
                nats_url(), stream=f"TEST_{tag}", prefix=f"test.{tag}", duplicate_window_s=1.0
            )
            converter = RecordConverter()
            self.spill = SqlOutbox(create_store_engine(outbox_url), converter)
            self.publisher = NatsPublisher(self.link, converter)
            self.broker = BrokerTransport(
                self.publisher, self.spill, self.clock, Budget(100), wait_s=5
            )
            transport = self.broker
            self.feed = JetStreamConsumer(
                self.link, converter, durable=f"d{tag}", ack_wait_s=1.0, max_deliver=3
            )
            self.consumer = Consumer(
                self.feed, repository, backoff=Backoff(first=0.05, ceiling=0.05, max_attempts=3)
            )
            self.fallback = Relay(self.spill, JetStreamSink(self.link, converter), self.clock)
        elif outbox_url is None:
            transport = DirectTransport(repository)
        else:
            self.outbox = SqlOutbox(create_store_engine(outbox_url), RecordConverter())
            transport = OutboxTransport(self.outbox, self.clock)
            self.relay = Relay(
                self.outbox,
                RepositorySink(repository),
                self.clock,
                backoff=Backoff(first=1, ceiling=60, max_attempts=3),
                batch=50,
            )
        self.transport = transport
        self.gateway = MetadataGateway(repository, transport)

    @property
    def asynchronous(self) -> bool:
        return self.relay is not None or self.consumer is not None

    def waiting(self) -> int:
        """Records not in the repository yet: the outbox's backlog, or the consumer's."""
        if self.feed is not None:
            pending, unacked = self.feed.pending()
            return pending + unacked + self.spill.status(self.clock()).backlog
        assert self.outbox is not None
        return self.outbox.status(self.clock()).backlog

    def deliver(self) -> RelayStep:
        """Run the relay (or the consumer) until nothing waits, past each backoff."""
        total = RelayStep()
        if self.consumer is not None:
            assert self.fallback is not None
            while self.fallback.step().taken:
                pass
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                step = self.consumer.step(100, wait_s=0.3)
                total += step
                if step.outage is not None:
                    return total
                if not step.taken and not self.waiting():
                    return total
            raise AssertionError("the consumer did not drain the stream")
        if self.relay is None or self.outbox is None:
            return total
        for _ in range(1000):
            step = self.relay.step()
            total += step
            if step.outage is not None:
                return total
            if not step.taken:
                if not self.outbox.status(self.clock()).backlog:
                    return total
                self.clock.now += timedelta(minutes=5)
        raise AssertionError("the relay did not drain the outbox")

    def stored(self) -> tuple[int, int]:
        """(rows, distinct record ids) in the repository."""
        with self.repository.inner._engine.connect() as connection:
            rows, ids = connection.execute(
                text("select count(*), count(distinct record_id) from metadata_records")
            ).one()
        return int(rows), int(ids)


@contextlib.contextmanager
def _outbox_url(name: str, directory: Path) -> Iterator[str | None]:
    if name == "direct":
        yield None
    elif name in ("outbox-sqlite", "nats"):
        yield f"sqlite:///{directory / 'outbox.db'}"
    else:
        with postgres_schema(postgres_url()) as url:
            yield url


@contextlib.contextmanager
def _open(name: str) -> Iterator[Harness]:
    with tempfile.TemporaryDirectory() as directory:
        engine = create_store_engine(f"sqlite:///{Path(directory) / 'metadata.db'}")
        migrate.upgrade(engine)
        repository = Faulty(SqlMetadataRepository(engine, RecordConverter()))
        with _outbox_url(name, Path(directory)) as url:
            opened = Harness(name, repository, url)
            try:
                yield opened
            finally:
                opened.transport.close()
                if opened.link is not None:
                    opened.link.delete_stream()
                    opened.link.close()
                engine.dispose()


@pytest.fixture(params=TRANSPORTS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with _open(request.param) as opened:
        yield opened


@pytest.fixture(params=[t for t in TRANSPORTS if t.startswith("outbox")])
def outbox_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with _open(request.param) as opened:
        yield opened


def test_every_record_arrives_once(harness: Harness) -> None:
    """No fault: the baseline every other test departs from."""
    for start in range(0, 300, 100):
        result = harness.gateway.emit_many(volume(n) for n in range(start, start + 100))
        assert (result.queued if harness.asynchronous else result.accepted) == 100
    delivered = harness.deliver()
    assert harness.stored() == (300, 300)
    if harness.asynchronous:
        assert (delivered.delivered, delivered.duplicates) == (300, 0)
        assert (harness.waiting(), delivered.dead) == (0, 0)


def test_the_repository_down_then_up(harness: Harness) -> None:
    """Fault: the repository refuses connections while records are emitted and relayed."""
    harness.repository.down = True
    if not harness.asynchronous:
        with pytest.raises(RepositoryDown):
            harness.gateway.emit_many(volume(n) for n in range(10))
        harness.repository.down = False
        harness.gateway.emit_many(volume(n) for n in range(10))  # the producer's retry
        assert harness.stored() == (10, 10)
        return
    assert harness.gateway.emit_many(volume(n) for n in range(10)).queued == 10
    step = harness.deliver()
    assert step.outage is not None and "injected" in step.outage
    # An outage is not the records' fault: nothing counted against them, nothing dead.
    assert (harness.waiting(), step.failed, step.dead) == (10, 0, 0)
    harness.repository.down = False
    assert harness.deliver().delivered == 10
    assert harness.stored() == (10, 10)


def test_the_same_record_sent_twice(harness: Harness) -> None:
    """Fault: a producer re-sends a batch, before and after the first was delivered."""
    batch = [volume(n) for n in range(20)]
    harness.gateway.emit_many(batch)
    harness.gateway.emit_many(batch)  # before delivery: twice in the outbox
    harness.deliver()
    harness.gateway.emit_many(batch)  # after delivery
    harness.deliver()
    assert harness.stored() == (20, 20)


def test_a_poison_record_dies_while_the_others_flow(harness: Harness) -> None:
    """Fault: a record whose id the repository holds with another payload (a conflict),
    and, for the outbox, a row whose stored form cannot be read back."""
    harness.repository.inner.append([volume(7, rows=1)])
    batch = [volume(n, rows=1) for n in range(20) if n != 7] + [volume(7, rows=99)]
    if not harness.asynchronous:
        with pytest.raises(RecordConflict):
            harness.gateway.emit_many(batch)
        assert harness.stored() == (1, 1)  # the refused batch wrote nothing
        return
    harness.gateway.emit_many(batch)
    if harness.link is not None:
        harness.link.publish([("unreadable", b"{not json")])
        total = harness.deliver()
        assert harness.stored() == (20, 20)
        assert total.dead == 2 and total.failed == 2  # the conflict: 2 redeliveries, then dead
        assert harness.feed is not None and harness.feed.dead_letters() == 2
        return
    assert harness.outbox is not None
    with harness.outbox.engine.begin() as connection:
        connection.execute(
            outbox.insert().values(
                record_id="x" * 32,
                body="{not json",
                enqueued_at=harness.clock(),
                attempts=0,
                next_attempt_at=harness.clock(),
            )
        )
    total = harness.deliver()
    assert harness.stored() == (20, 20)  # the 19 new ones and the one stored before
    assert total.dead == 2 and total.failed == 4  # 3 attempts each: 2 retried, then dead
    status = harness.outbox.status(harness.clock())
    assert (status.backlog, status.dead) == (0, 2)
    assert status.last_error is not None
    assert harness.outbox.retry_dead(harness.clock()) == 2  # back in line; still poison
    assert harness.outbox.status(harness.clock()).backlog == 2


def test_eight_concurrent_producers(harness: Harness) -> None:
    """Fault: eight threads emit at once, overlapping a tenth of their records."""
    failures: list[BaseException] = []

    def produce(worker: int) -> None:
        try:
            for start in range(worker * 90, worker * 90 + 100, 10):
                harness.gateway.emit_many(volume(n) for n in range(start, start + 10))
        except BaseException as failed:  # - reported below
            failures.append(failed)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    harness.deliver()
    assert harness.stored() == (7 * 90 + 100, 7 * 90 + 100)


def test_a_slow_repository(harness: Harness) -> None:
    """Fault: each append takes 50 ms; a relay's batch takes as long as it takes."""
    harness.repository.delay = 0.05
    harness.gateway.emit_many(volume(n) for n in range(120))
    harness.deliver()
    assert harness.stored() == (120, 120)


def test_out_of_order_commits_are_delivered(outbox_harness: Harness) -> None:
    """Fault: a long transaction holds a lower sequence and commits after a higher one
    was delivered (an outbox's own fault: direct has no sequences)."""
    harness = outbox_harness
    assert harness.outbox is not None
    engine = harness.outbox.engine
    harness.outbox.put([volume(0)], harness.clock())  # creates the tables
    slow = engine.connect()
    slow_tx = slow.begin()
    harness.outbox.put_in(slow, [volume(1)], harness.clock())  # holds the next sequence
    if engine.dialect.name == "sqlite":
        # SQLite has one writer: the long transaction must end before another can write.
        slow_tx.commit()
        harness.outbox.put([volume(2)], harness.clock())
        harness.deliver()
    else:
        harness.outbox.put([volume(2)], harness.clock())
        harness.deliver()  # delivers 0 and 2; 1 is not committed yet
        assert harness.stored() == (2, 2)
        slow_tx.commit()
        harness.deliver()
    slow.close()
    assert harness.stored() == (3, 3)


@pytest.fixture
def nats_harness() -> Iterator[Harness]:
    with _open("nats") as opened:
        yield opened


def test_the_broker_down_then_up(nats_harness: Harness) -> None:
    """Fault: the broker cannot be reached while records are emitted: they fall back to the
    outbox, and the relay publishes them once it is back."""
    harness = nats_harness
    down = JetStreamLink("nats://127.0.0.1:9", stream="NONE", connect_timeout_s=0.5)
    harness.broker._publisher = NatsPublisher(down, RecordConverter())  # the broker is gone
    assert harness.gateway.emit_many(volume(n) for n in range(30)).queued == 30
    started = time.monotonic()  # the broker was just found down: the next emit does not wait
    assert harness.gateway.emit_many(volume(n) for n in range(30, 40)).queued == 10
    assert time.monotonic() - started < 0.5
    assert harness.broker.fell_back == 40 and harness.spill.status(harness.clock()).backlog == 40
    down.close()
    harness.deliver()  # the relay publishes the fallback outbox, the consumer stores it
    assert harness.stored() == (40, 40)
    assert harness.waiting() == 0


def test_published_twice_inside_and_after_the_duplicate_window(nats_harness: Harness) -> None:
    """Fault: a producer publishes a batch twice inside the stream's duplicate window (1 s
    here), then once more after it."""
    harness = nats_harness
    batch = [volume(n) for n in range(25)]
    harness.gateway.emit_many(batch)
    assert harness.gateway.emit_many(batch).duplicates == 25  # dropped by the broker
    time.sleep(1.5)
    assert harness.gateway.emit_many(batch).duplicates == 0  # the broker keeps it again
    total = harness.deliver()
    assert total.duplicates == 25  # ... and the store's idempotent append drops it
    assert harness.stored() == (25, 25)


def test_a_repository_slower_than_ack_wait(nats_harness: Harness) -> None:
    """Fault: each append takes 1.5 s, longer than the consumer's ack_wait (1 s): the
    broker redelivers what is being stored; the store still holds each record once."""
    harness = nats_harness
    harness.repository.delay = 1.5
    harness.gateway.emit_many(volume(n) for n in range(40))
    harness.deliver()
    assert harness.stored() == (40, 40)


def test_the_budget_bounds_what_is_in_flight() -> None:
    """Fault: the broker never acknowledges; the process's budget (shared by its
    producers) fills, then an emit fails after its wait, or spills to the outbox."""
    budget = Budget(10)
    assert budget.acquire(10, 0)
    assert not budget.acquire(1, 0.1)  # full: waited 0.1 s
    budget.release(10)
    assert budget.acquire(25, 0)  # a batch larger than the budget takes all of it
    budget.release(25)
    assert budget.used == 0


def answers(repository: Any) -> tuple[Any, ...]:
    """What readers see: every record, the latest volume, its history."""
    gateway = MetadataGateway(repository)
    everything = gateway.query(RecordQuery(limit=1000)).records
    latest = gateway.latest(RecordKind.INGESTION_VOLUME, ORDERS)
    history = gateway.history(RecordKind.INGESTION_VOLUME, ORDERS, limit=1000).records
    return everything, latest, history


def test_a_replay_into_an_empty_or_a_filled_store_gives_the_same_answers(
    outbox_harness: Harness, tmp_path: Path
) -> None:
    """Fault: the whole outbox replayed, into the filled store, then into an empty one."""
    harness = outbox_harness
    assert harness.outbox is not None
    for run in range(5):
        harness.gateway.emit_many(volume(run * 10 + n, rows=n) for n in range(10))
    harness.deliver()

    before = answers(harness.repository)
    assert harness.outbox.replay(None, None, harness.clock()) == 50
    assert harness.deliver().duplicates == 50  # into the filled store: nothing changes
    assert answers(harness.repository) == before
    empty = create_store_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate.upgrade(empty)
    fresh = SqlMetadataRepository(empty, RecordConverter())
    harness.outbox.replay(None, None, harness.clock())
    replayed = Relay(harness.outbox, RepositorySink(fresh), harness.clock)
    while replayed.step().taken:
        pass
    assert answers(fresh) == before  # into an empty one: the same answers
    harness.outbox.replay(None, None, harness.clock())
    while replayed.step().taken:
        pass
    assert answers(fresh) == before  # a second replay changes nothing
    empty.dispose()


def test_a_stream_replayed_from_a_point_into_an_empty_or_a_filled_store(
    nats_harness: Harness, tmp_path: Path
) -> None:
    """Fault: the stream read again (by sequence and by time), into the filled store and
    into empty ones; the durable consumer stays where it was."""
    harness = nats_harness
    harness.gateway.emit_many(volume(n, rows=n) for n in range(10))
    time.sleep(0.05)
    second_batch_at = datetime.now(UTC)
    time.sleep(0.05)
    for start in (10, 20):
        harness.gateway.emit_many(volume(n, rows=n) for n in range(start, start + 10))
    harness.deliver()
    assert harness.link is not None
    figures = harness.link.figures(durable=f"d{harness.link.stream.removeprefix('TEST_')}")
    assert (figures.messages, figures.first_seq, figures.last_seq) == (30, 1, 30)
    assert (figures.pending, figures.unacknowledged) == (0, 0)

    def replay(into: Any, start: int | datetime) -> RelayStep:
        feed = JetStreamConsumer(harness.link, RecordConverter(), replay_from=start)  # type: ignore[arg-type]
        consumer = Consumer(feed, into)
        total = RelayStep()
        while (step := consumer.step(100, wait_s=0.3)).taken:
            total += step
        return total

    def empty(name: str) -> SqlMetadataRepository:
        engine = create_store_engine(f"sqlite:///{tmp_path / name}")
        migrate.upgrade(engine)
        return SqlMetadataRepository(engine, RecordConverter())

    before = answers(harness.repository)
    filled = replay(harness.repository, 11)
    assert (filled.delivered, filled.duplicates) == (20, 20)  # into the filled store
    assert answers(harness.repository) == before
    whole = empty("whole.db")
    assert replay(whole, 1).delivered == 30
    assert answers(whole) == before  # the whole stream into an empty store: the same answers
    assert replay(whole, 1).duplicates == 30 and answers(whole) == before  # a second: nothing
    by_sequence, by_time = empty("by-sequence.db"), empty("by-time.db")
    replay(by_sequence, 11)
    replay(by_time, second_batch_at)
    kept = {r.record_id for r in answers(harness.repository)[0] if r.payload.rows_read >= 10}
    assert {r.record_id for r in answers(by_sequence)[0]} == kept  # from the point on
    assert answers(by_time) == answers(by_sequence)
    after = harness.link.figures(durable=f"d{harness.link.stream.removeprefix('TEST_')}")
    assert (after.pending, after.unacknowledged) == (0, 0)  # the durable consumer untouched
