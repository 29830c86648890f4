"""The contract of the MetadataRepository port (through the gateway), for every adapter."""

from __future__ import annotations

import copy
import multiprocessing
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from adapters.serialization.records import RecordConverter
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from contract.stores import ADAPTERS, Harness, open_harness
from domain.dataset import DatasetRef, RunId
from domain.metadata import (
    IngestionVolume,
    MetadataRecord,
    RecordKind,
    RunEvent,
    RunEventType,
)
from domain.metadata.errors import InvalidBatch, RecordConflict
from domain.metadata.gateway import MetadataGateway
from domain.metadata.query import MAX_LIMIT, AppendResult, Order, RecordQuery, SubjectQuery

T0 = datetime(2024, 5, 1, tzinfo=UTC)
ORDERS = DatasetRef("postgres://db:5432", "sales.public.orders")
USERS = DatasetRef("postgres://db:5432", "sales.public.users")


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with open_harness(request.param) as opened:
        yield opened


@pytest.fixture
def gateway(harness: Harness) -> MetadataGateway:
    return MetadataGateway(harness.repository())


def volume(
    run: str, rows: int = 1, subject: DatasetRef = ORDERS, at: datetime = T0
) -> MetadataRecord:
    return MetadataRecord.create(
        subject=subject,
        run_id=RunId(run),
        observed_at=at,
        producer="ingestion",
        payload=IngestionVolume(rows, rows),
    )


def everything(gateway: MetadataGateway, query: RecordQuery) -> list[MetadataRecord]:
    found: list[MetadataRecord] = []
    cursor: str | None = None
    while True:
        page = gateway.query(attrs.evolve(query, cursor=cursor))
        found += page.records
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_emit_then_read_back(gateway: MetadataGateway) -> None:
    record = volume("r1", 10)
    assert gateway.emit(record) == AppendResult(1, 0)
    assert gateway.latest(RecordKind.INGESTION_VOLUME, ORDERS) == record
    assert gateway.latest(RecordKind.INGESTION_VOLUME, USERS) is None
    assert gateway.latest(RecordKind.RUN_EVENT, ORDERS) is None


def test_re_emitting_is_a_duplicate_never_a_second_row(gateway: MetadataGateway) -> None:
    record = volume("r1")
    gateway.emit(record)
    assert gateway.emit(record) == AppendResult(0, 1)
    assert gateway.emit_many([record, record, volume("r2")]) == AppendResult(1, 2)
    assert len(everything(gateway, RecordQuery())) == 2


def test_same_id_with_another_payload_is_a_conflict_and_writes_nothing(
    gateway: MetadataGateway,
) -> None:
    gateway.emit(volume("r1", rows=1))
    with pytest.raises(RecordConflict) as raised:
        gateway.emit_many([volume("r2"), volume("r1", rows=2)])
    assert raised.value.record_ids == [volume("r1", rows=2).record_id]
    assert [r.run_id.value for r in everything(gateway, RecordQuery())] == ["r1"]


def test_an_invalid_record_rejects_the_whole_batch(gateway: MetadataGateway) -> None:
    broken = copy.copy(volume("r3"))
    object.__setattr__(broken, "producer", " ")  # as if built around its validators
    with pytest.raises(InvalidBatch) as raised:
        gateway.emit_many([volume("r1"), broken, volume("r2", rows=1), volume("r2", rows=5)])
    assert [(p.index, p.path) for p in raised.value.problems] == [(1, "$"), (3, "$.payload")]
    assert "producer" in raised.value.problems[0].message
    assert everything(gateway, RecordQuery()) == []


def test_latest_breaks_ties_by_append_order(gateway: MetadataGateway) -> None:
    first, second = volume("r1"), volume("r2")
    gateway.emit_many([first, second])
    assert gateway.latest(RecordKind.INGESTION_VOLUME, ORDERS) == second
    gateway.emit(volume("r0", at=T0 - timedelta(days=1)))  # older, appended later
    assert gateway.latest(RecordKind.INGESTION_VOLUME, ORDERS) == second


def test_history_is_newest_first_within_range(gateway: MetadataGateway) -> None:
    gateway.emit_many(volume(f"r{i}", at=T0 + timedelta(hours=i)) for i in range(5))
    gateway.emit(volume("other", subject=USERS))
    page = gateway.history(
        RecordKind.INGESTION_VOLUME,
        ORDERS,
        since=T0 + timedelta(hours=1),
        until=T0 + timedelta(hours=4),
    )
    assert [r.run_id.value for r in page.records] == ["r3", "r2", "r1"]


def test_query_filters_combine(gateway: MetadataGateway) -> None:
    event = MetadataRecord.create(
        subject=USERS,
        run_id=RunId("r1"),
        observed_at=T0,
        producer="recon",
        payload=RunEvent(RunEventType.STARTED),
    )
    gateway.emit_many([volume("r1"), volume("r2", subject=USERS), event])
    assert everything(gateway, RecordQuery(kinds=[RecordKind.RUN_EVENT])) == [event]
    assert len(everything(gateway, RecordQuery(name_prefix="sales.public.u"))) == 2
    assert len(everything(gateway, RecordQuery(namespace_prefix="postgres://"))) == 3
    assert (
        everything(gateway, RecordQuery(namespace_prefix="POSTGRES")) == []
    )  # exact, not case-folded
    assert everything(gateway, RecordQuery(run_id=RunId("r1"), producer="recon")) == [event]
    assert everything(gateway, RecordQuery(subject=ORDERS)) == [volume("r1")]


def test_paging_is_stable_while_others_append(gateway: MetadataGateway) -> None:
    gateway.emit_many(volume(f"r{i}", at=T0 + timedelta(minutes=i)) for i in range(10))
    first = gateway.query(RecordQuery(limit=4))
    # others append: newer, older and same-instant records
    gateway.emit_many(
        [
            volume("new", at=T0 + timedelta(days=1)),
            volume("old", at=T0 - timedelta(days=1)),
            volume("tie", at=T0 + timedelta(minutes=5)),
        ]
    )
    seen = list(first.records)
    cursor = first.next_cursor
    while cursor:
        page = gateway.query(RecordQuery(limit=4, cursor=cursor))
        seen += page.records
        cursor = page.next_cursor
    ids = [r.run_id.value for r in seen]
    assert len(ids) == len(set(ids)), "a record came twice"
    assert {f"r{i}" for i in range(10)} <= set(ids), "a record stored before paging was skipped"
    assert "new" not in ids  # newer than the first page: behind the cursor


def test_limit_is_capped() -> None:
    with pytest.raises(ValueError, match=f"limit: expected 1..{MAX_LIMIT}"):
        RecordQuery(limit=MAX_LIMIT + 1)


def test_oldest_first_pages_the_other_way(gateway: MetadataGateway) -> None:
    gateway.emit_many(volume(f"r{i}", at=T0 + timedelta(minutes=i % 3)) for i in range(7))
    found = everything(gateway, RecordQuery(order=Order.OLDEST_FIRST, limit=2))
    assert [r.run_id.value for r in found] == ["r0", "r3", "r6", "r1", "r4", "r2", "r5"]


def all_subjects(gateway: MetadataGateway, query: SubjectQuery) -> list[DatasetRef]:
    found: list[DatasetRef] = []
    while True:
        page = gateway.subjects(query)
        found += page.subjects
        if page.next_after is None:
            return found
        query = attrs.evolve(query, after=page.next_after)


SUBJECTS = [
    DatasetRef("file", "/data/Orders.parquet"),
    DatasetRef("postgres://db:5432", "sales.public.orders"),
    DatasetRef("postgres://db:5432", "sales.public.ORDER_lines"),
    DatasetRef("postgres://db:5432", "sales.public.users"),
    DatasetRef("postgres://db:5432", "sales.public.Ärger_50%_off"),
    DatasetRef("s3a://lake", "raw/orders/"),
    DatasetRef("Zeta", "b"),
]


def test_subjects_are_listed_once_each_in_code_point_order_and_paged(
    gateway: MetadataGateway,
) -> None:
    assert gateway.subjects(SubjectQuery()).subjects == ()
    # Several records per subject, across batches: each subject is listed once.
    for round_ in range(2):
        gateway.emit_many(
            volume(f"r{round_}-{i}", subject=s, at=T0 + timedelta(minutes=i))
            for i, s in enumerate(SUBJECTS)
        )
    expected = sorted(SUBJECTS, key=lambda s: (s.namespace, s.name))  # "Zeta" before "file"
    assert list(gateway.subjects(SubjectQuery(limit=MAX_LIMIT)).subjects) == expected
    paged = [gateway.subjects(SubjectQuery(limit=3))]
    assert paged[0].next_after == expected[2]
    assert all_subjects(gateway, SubjectQuery(limit=2)) == expected
    last = gateway.subjects(SubjectQuery(after=expected[-2]))
    assert last.subjects == (expected[-1],) and last.next_after is None


def test_subjects_are_searched_ignoring_the_case_of_a_to_z(gateway: MetadataGateway) -> None:
    gateway.emit_many(
        volume(f"r{i}", subject=s, at=T0 + timedelta(minutes=i)) for i, s in enumerate(SUBJECTS)
    )

    def search(text: str) -> set[str]:
        return {str(s) for s in all_subjects(gateway, SubjectQuery(contains=text, limit=2))}

    assert search("ORDER") == {
        "file::/data/Orders.parquet",
        "postgres://db:5432::sales.public.orders",
        "postgres://db:5432::sales.public.ORDER_lines",
        "s3a://lake::raw/orders/",
    }
    assert search("5432::sales.public.u") == {"postgres://db:5432::sales.public.users"}
    # LIKE's wildcards are plain characters in a search; letters beyond A-Z match as typed.
    assert search("50%") == {"postgres://db:5432::sales.public.Ärger_50%_off"}
    assert search("r_5") == {"postgres://db:5432::sales.public.Ärger_50%_off"}
    assert search("_") == {
        "postgres://db:5432::sales.public.ORDER_lines",
        "postgres://db:5432::sales.public.Ärger_50%_off",
    }
    assert search("Ärger") == {"postgres://db:5432::sales.public.Ärger_50%_off"}
    assert search("ärger") == set()
    assert search("zeta::") == {"Zeta::b"}
    assert search("nothing like it") == set()


def test_a_search_is_refused_when_it_is_not_plain_text() -> None:
    for bad in ("", "a\x00b", "new\nline", "x" * 201):
        with pytest.raises(ValueError, match="contains:"):
            SubjectQuery(contains=bad)


def _write(url: str, first: int, count: int, results: multiprocessing.Queue, go: Any) -> None:  # type: ignore[type-arg]
    """One writer process: its own engine, batches of 250, starting when told to."""
    engine = create_store_engine(url)
    go.wait(60)
    gateway = MetadataGateway(SqlMetadataRepository(engine, RecordConverter()))
    total = AppendResult()
    for start in range(first, first + count, 250):
        total += gateway.emit_many(
            volume(f"r{i}", at=T0 + timedelta(seconds=i)) for i in range(start, start + 250)
        )
    results.put((total.accepted, total.duplicates))
    engine.dispose()


@pytest.mark.parametrize("adapter", ["sqlite", "postgresql"])
@pytest.mark.parametrize("starts", [(0, 1500), (0, 0)], ids=["overlapping", "identical"])
def test_two_writer_processes_lose_nothing_and_duplicate_nothing(
    adapter: str, starts: tuple[int, int]
) -> None:
    count = 3000
    expected = len(
        set(range(starts[0], starts[0] + count)) | set(range(starts[1], starts[1] + count))
    )
    with open_harness(adapter) as harness:
        assert harness.url is not None
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        go = context.Event()
        writers = [
            context.Process(target=_write, args=(harness.url, first, count, results, go))
            for first in starts
        ]
        for writer in writers:
            writer.start()
        time.sleep(2)  # both have imported and connected: now they write at the same time
        go.set()
        for writer in writers:
            writer.join(timeout=300)
            assert writer.exitcode == 0
        outcomes = [results.get(timeout=10) for _ in writers]
        assert sum(accepted for accepted, _ in outcomes) == expected
        assert sum(duplicates for _, duplicates in outcomes) == 2 * count - expected
        stored = everything(MetadataGateway(harness.repository()), RecordQuery(limit=MAX_LIMIT))
        assert len(stored) == expected
        assert len({r.record_id for r in stored}) == expected


def _built_without_validators(**changes: Any) -> MetadataRecord:
    """A record changed after it was built (as a buggy producer might), bypassing its
    validators: the gateway must still refuse it before any store sees it."""
    record = volume("limits")
    for name, value in changes.items():
        object.__setattr__(record, name, value)
    return record


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"producer": "p" * 1000}, "at most 256"),
        ({"producer": "nul\x00byte"}, "NUL"),
    ],
)
def test_every_store_refuses_what_postgresql_cannot_keep(
    gateway: MetadataGateway, change: dict[str, Any], reason: str
) -> None:
    """SQLite would keep a NUL or a 1,000-character producer; PostgreSQL would not. The
    limits are the platform's, so every adapter refuses the same records, and writes nothing."""
    record = _built_without_validators(**change)
    with pytest.raises(InvalidBatch, match=reason):
        gateway.emit_many([volume("before"), record])
    assert everything(gateway, RecordQuery()) == []


def test_every_store_refuses_a_nul_inside_a_payload(gateway: MetadataGateway) -> None:
    started = MetadataRecord.create(
        subject=ORDERS,
        run_id=RunId("limits"),
        observed_at=T0,
        producer="ingestion",
        payload=RunEvent(RunEventType.STARTED, "a\x00b"),
    )
    with pytest.raises(InvalidBatch, match=r"\$\.payload\.message: contains a NUL"):
        gateway.emit_many([volume("before"), started])
    assert everything(gateway, RecordQuery()) == []


def test_names_beyond_the_stores_columns_are_refused_when_built() -> None:
    with pytest.raises(ValueError, match="at most 1024"):
        DatasetRef("file", "x" * 2000)
    with pytest.raises(ValueError, match="NUL"):
        DatasetRef("file", "a\x00b")
