"""A stateful Hypothesis machine drives each metadata repository against a plain model.

Records come from small pools (3 subjects, 2 runs, 3 instants, tiny payloads) so that
duplicates, conflicts, same-instant ties and paging boundaries happen all the time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contract.model import StoreModel
from contract.stores import Harness, open_harness
from domain.dataset import DatasetRef, RunId
from domain.metadata import (
    IngestionVolume,
    MetadataRecord,
    RecordKind,
    RunEvent,
    RunEventType,
)
from domain.metadata.errors import InvalidBatch, RecordConflict
from domain.metadata.gateway import MetadataGateway, validate_batch
from domain.metadata.query import Order, RecordQuery

T0 = datetime(2024, 5, 1, tzinfo=UTC)
SUBJECTS = [DatasetRef("file", "a"), DatasetRef("file", "ab"), DatasetRef("pg://db", "a")]
INSTANTS = [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]

payloads = st.one_of(
    st.builds(IngestionVolume, st.integers(0, 2), st.integers(0, 2)),
    st.builds(
        RunEvent,
        st.sampled_from([RunEventType.STARTED, RunEventType.SUCCEEDED]),
        st.sampled_from(["", "x"]),
    ),
)
records = st.builds(
    lambda subject, run, at, producer, payload: MetadataRecord.create(
        subject=subject, run_id=RunId(run), observed_at=at, producer=producer, payload=payload
    ),
    st.sampled_from(SUBJECTS),
    st.sampled_from(["r1", "r2"]),
    st.sampled_from(INSTANTS),
    st.sampled_from(["ingestion", "recon"]),
    payloads,
)
kinds = st.sampled_from([RecordKind.INGESTION_VOLUME, RecordKind.RUN_EVENT])
queries = st.builds(
    RecordQuery,
    kinds=st.sets(kinds, max_size=2),
    subject=st.none() | st.sampled_from(SUBJECTS),
    namespace_prefix=st.none() | st.sampled_from(["f", "file", "pg", "x"]),
    name_prefix=st.none() | st.sampled_from(["a", "ab"]),
    run_id=st.none() | st.sampled_from([RunId("r1"), RunId("r2")]),
    since=st.none() | st.sampled_from(INSTANTS),
    until=st.none() | st.sampled_from(INSTANTS),
    producer=st.none() | st.sampled_from(["ingestion", "recon"]),
    order=st.sampled_from(Order),
    limit=st.integers(1, 4),
)

# Harnesses are opened once per test (a store per adapter) and emptied for each example.
OPEN: dict[str, Harness] = {}


def corrupt(record: MetadataRecord) -> MetadataRecord:
    """A record whose producer was blanked after its validators ran."""
    broken = copy.copy(record)
    object.__setattr__(broken, "producer", "")
    return broken


class MetadataStoreMachine(RuleBasedStateMachine):
    adapter = "memory"

    def __init__(self) -> None:
        super().__init__()
        harness = OPEN[self.adapter]
        harness.reset()
        self.gateway = MetadataGateway(harness.repository())
        self.model = StoreModel()

    @initialize()
    def start_empty(self) -> None:
        assert self.gateway.query(RecordQuery()).records == ()

    def _emit(self, batch: list[MetadataRecord]) -> None:
        if validate_batch(batch):
            with pytest.raises(InvalidBatch):
                self.gateway.emit_many(batch)
            return
        unique: dict[str, MetadataRecord] = {}
        for record in batch:  # the first of equal ids is the one stored, in batch order
            unique.setdefault(record.record_id, record)
        if self.model.conflicts(list(unique.values())):
            with pytest.raises(RecordConflict):
                self.gateway.emit_many(batch)
            return
        result = self.gateway.emit_many(batch)
        expected = self.model.append(list(unique.values()))
        assert result.accepted == expected.accepted
        assert result.accepted + result.duplicates == len(batch)

    @rule(record=records)
    def emit(self, record: MetadataRecord) -> None:
        self._emit([record])

    @rule(batch=st.lists(records, min_size=1, max_size=6), broken=st.none() | st.integers(0, 5))
    def emit_many(self, batch: list[MetadataRecord], broken: int | None) -> None:
        if broken is not None and broken < len(batch):
            batch[broken] = corrupt(batch[broken])
        self._emit(batch)

    @rule(kind=kinds, subject=st.sampled_from(SUBJECTS))
    def latest(self, kind: RecordKind, subject: DatasetRef) -> None:
        assert self.gateway.latest(kind, subject) == self.model.latest(kind, subject)

    @rule(kind=kinds, subject=st.sampled_from(SUBJECTS), limit=st.integers(1, 3))
    def history(self, kind: RecordKind, subject: DatasetRef, limit: int) -> None:
        page = self.gateway.history(kind, subject, limit=limit)
        expected = self.model.query(RecordQuery(kinds=[kind], subject=subject))
        assert list(page.records) == expected[:limit]
        assert (page.next_cursor is not None) == (len(expected) > limit)

    @rule(query=queries)
    def query_all_pages(self, query: RecordQuery) -> None:
        found: list[MetadataRecord] = []
        page = self.gateway.query(query)
        for _ in range(100):
            assert len(page.records) <= query.limit
            found += page.records
            if page.next_cursor is None:
                break
            page = self.gateway.query(attrs.evolve(query, cursor=page.next_cursor))
        assert [r.record_id for r in found] == [r.record_id for r in self.model.query(query)]
        assert found == self.model.query(query)

    @invariant()
    def holds_every_record_once(self) -> None:
        stored = self.model.query(RecordQuery())
        assert len(stored) == len(self.model.by_id)


def machine_for(adapter: str, examples: int) -> Any:
    machine: Any = type(f"{adapter.title()}Machine", (MetadataStoreMachine,), {"adapter": adapter})
    machine.TestCase.settings = settings(
        machine.TestCase.settings, max_examples=examples, stateful_step_count=25, deadline=None
    )
    return machine


@pytest.fixture(scope="module", autouse=True)
def harnesses() -> Iterator[None]:
    yield
    OPEN.clear()


def _run(adapter: str, examples: int) -> None:
    with open_harness(adapter) as harness:
        OPEN[adapter] = harness
        try:
            machine_for(adapter, examples).TestCase().runTest()
        finally:
            OPEN.pop(adapter, None)


def test_memory_repository_matches_the_model() -> None:
    _run("memory", settings().max_examples)


def test_sqlite_repository_matches_the_model() -> None:
    _run("sqlite", settings().max_examples)


def test_postgresql_repository_matches_the_model() -> None:
    _run("postgresql", max(20, settings().max_examples // 3))


def test_http_repository_matches_the_model() -> None:
    """The remote adapter against `metadata serve` on loopback (over a SQLite store)."""
    _run("http", max(20, settings().max_examples // 3))
