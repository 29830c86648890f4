"""The harvest use case: a dataset's snapshot, drift and profile are stored together or
not at all, and one dataset failing does not stop the others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.catalog import InMemoryCatalog
from adapters.memory.metadata import InMemoryMetadataRepository
from domain.catalog.harvest import Harvest
from domain.catalog.harvest_run import PRODUCER, NothingHarvested, harvest_run
from domain.dataset import DatasetRef, RunId
from domain.metadata import ColumnProfile, DatasetProfile
from domain.metadata.baselines import GatewaySchemaBaselines
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import RunEvent
from domain.metadata.query import RecordQuery
from domain.runs.lifecycle import RunLifecycle
from domain.schema import Column, IntegerType, Schema
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import PolicyBook

GOOD = DatasetRef("postgres://db:5432", "sales.public.orders")
BAD = DatasetRef("postgres://db:5432", "sales.public.odd")
SCHEMA = Schema.from_columns([Column("id", IntegerType(64), False)])


def harvest(catalog: InMemoryCatalog, gateway: MetadataGateway, *, profile: bool) -> Harvest:
    drift = SchemaDriftCheck(GatewaySchemaBaselines(gateway), gateway, PolicyBook())
    job = Harvest(catalog, drift, gateway, catalog)
    job.run(run_id=RunId.new(), producer="test", now=lambda: datetime.now(UTC), profile=profile)
    return job


def test_a_failing_profile_stores_nothing_of_its_dataset_and_the_others_harvest() -> None:
    gateway = MetadataGateway(InMemoryMetadataRepository())
    catalog = InMemoryCatalog(
        {GOOD: SCHEMA, BAD: SCHEMA},
        profiles={GOOD: DatasetProfile(3, (ColumnProfile("id", 0),))},
        failures={BAD: "function min(boolean) does not exist"},
    )
    drift = SchemaDriftCheck(GatewaySchemaBaselines(gateway), gateway, PolicyBook())
    outcomes = Harvest(catalog, drift, gateway, catalog).run(
        run_id=RunId.new(), producer="test", now=lambda: datetime.now(UTC), profile=True
    )
    assert [(o.subject, o.ok) for o in outcomes] == [(GOOD, True), (BAD, False)]
    assert "min(boolean)" in (outcomes[1].error or "")
    assert gateway.query(RecordQuery(subject=BAD)).records == ()
    kinds = {r.kind.value for r in gateway.query(RecordQuery(subject=GOOD)).records}
    assert kinds == {"schema_snapshot", "dataset_profile"}


def test_an_unchanged_schema_still_records_its_new_profile() -> None:
    gateway = MetadataGateway(InMemoryMetadataRepository())
    catalog = InMemoryCatalog({GOOD: SCHEMA}, profiles={GOOD: DatasetProfile(3, ())})
    harvest(catalog, gateway, profile=True)
    harvest(catalog, gateway, profile=True)
    kinds = [r.kind.value for r in gateway.query(RecordQuery(subject=GOOD)).records]
    assert sorted(kinds) == ["dataset_profile", "dataset_profile", "schema_snapshot"]


def _recorded_run(catalog: InMemoryCatalog) -> tuple[MetadataGateway, RunLifecycle, Harvest]:
    gateway = MetadataGateway(InMemoryMetadataRepository())
    drift = SchemaDriftCheck(GatewaySchemaBaselines(gateway), gateway, PolicyBook())
    where = DatasetRef("postgres://db:5432", "sales")
    lifecycle = RunLifecycle(gateway, where, RunId.new(), PRODUCER, lambda: datetime.now(UTC))
    return gateway, lifecycle, Harvest(catalog, drift, gateway, catalog)


def _events(gateway: MetadataGateway) -> list[tuple[str, str]]:
    records = gateway.query(RecordQuery(kinds=[RecordKind.RUN_EVENT])).records
    return sorted(
        (r.payload.event.value, r.payload.message)
        for r in records
        if isinstance(r.payload, RunEvent)
    )


def test_a_harvest_run_records_its_life_and_ends_as_its_datasets_did() -> None:
    catalog = InMemoryCatalog(
        {GOOD: SCHEMA, BAD: SCHEMA},
        profiles={GOOD: DatasetProfile(3, (ColumnProfile("id", 0),))},
        failures={BAD: "function min(boolean) does not exist"},
    )
    gateway, lifecycle, job = _recorded_run(catalog)
    outcomes = harvest_run(
        job, lifecycle, what="db", nothing="-", now=lambda: datetime.now(UTC), profile=True
    )
    assert [o.ok for o in outcomes] == [True, False]
    assert _events(gateway) == [
        ("failed", "1 of 2 dataset(s) failed"),
        ("started", "harvest of db"),
    ]


def test_an_empty_catalog_is_a_failed_harvest_run() -> None:
    gateway, lifecycle, job = _recorded_run(InMemoryCatalog({}))
    with pytest.raises(NothingHarvested):
        harvest_run(job, lifecycle, what="db", nothing="no tables", now=lambda: datetime.now(UTC))
    assert ("failed", "no tables") in _events(gateway)
