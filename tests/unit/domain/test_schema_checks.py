"""The drift and precision use cases, run on the in-memory repository through the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.memory.metadata import InMemoryMetadataRepository
from domain.dataset import DatasetRef, RunId
from domain.metadata import RecordKind, SchemaDrift
from domain.metadata.baselines import GatewaySchemaBaselines
from domain.metadata.gateway import MetadataGateway
from domain.schema import Column, DecimalType, IntegerType, Schema
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import DriftPolicy, PolicyBook, TypeChanges

ORDERS = DatasetRef("postgres://db:5432", "sales.public.orders")
T0 = datetime(2024, 5, 1, tzinfo=UTC)
V1 = Schema.from_columns([Column("id", IntegerType(32)), Column("amount", DecimalType(10, 2))])
V2 = Schema.from_columns([Column("id", IntegerType(64)), Column("amount", DecimalType(8, 2))])


DEFAULT = DriftPolicy()


def checker(policy: DriftPolicy = DEFAULT) -> tuple[SchemaDriftCheck, MetadataGateway]:
    gateway = MetadataGateway(InMemoryMetadataRepository())
    return SchemaDriftCheck(GatewaySchemaBaselines(gateway), gateway, PolicyBook(policy)), gateway


def test_first_sight_records_a_snapshot_and_no_drift() -> None:
    check, gateway = checker()
    report = check.observe(
        check.judge(ORDERS, V1, run_id=RunId("r1"), producer="test", observed_at=T0)
    )
    assert report.changed and report.decision is None
    assert [r.kind for r in report.emitted] == [RecordKind.SCHEMA_SNAPSHOT]


def test_an_unchanged_schema_records_nothing() -> None:
    check, gateway = checker()
    check.observe(check.judge(ORDERS, V1, run_id=RunId("r1"), producer="test", observed_at=T0))
    report = check.observe(
        check.judge(
            ORDERS, V1, run_id=RunId("r2"), producer="test", observed_at=T0 + timedelta(days=1)
        )
    )
    assert not report.changed and report.emitted == ()


def test_a_change_records_snapshot_and_drift_judged_by_the_subjects_policy() -> None:
    check, gateway = checker(DriftPolicy(type_changes=TypeChanges.WIDEN_ONLY))
    check.observe(check.judge(ORDERS, V1, run_id=RunId("r1"), producer="test", observed_at=T0))
    report = check.observe(
        check.judge(
            ORDERS, V2, run_id=RunId("r2"), producer="test", observed_at=T0 + timedelta(days=1)
        )
    )
    assert report.decision is not None and not report.decision.allowed
    drift = gateway.latest(RecordKind.SCHEMA_DRIFT, ORDERS)
    assert drift is not None and isinstance(drift.payload, SchemaDrift)
    assert (
        drift.payload.from_fingerprint == V1.fingerprint
        and drift.payload.to_fingerprint == V2.fingerprint
    )
    assert [(c.column, c.classification) for c in drift.payload.changes] == [
        ("id", "widening"),
        ("amount", "narrowing"),
    ]
    assert drift.payload.violations == (
        "amount: decimal(10,2) -> decimal(8,2) is narrowing: values can lose 2 integer digit(s) (rounding or overflow) (type_changes=widen_only)",
    )
