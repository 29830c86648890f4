from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dataset import DatasetRef, RunId
from domain.metadata import (
    IngestionRuntime,
    IngestionVolume,
    MetadataRecord,
    RecordKind,
    RunEvent,
    RunEventType,
    RunStatus,
    SchemaSnapshot,
)
from domain.schema import Column, IntegerType, Schema
from strategies import dataset_refs, payloads, records, run_ids, utc_datetimes

ORDERS = DatasetRef("postgres://db:5432", "sales.public.orders")
AT = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def volume(rows: int = 10, subject: DatasetRef = ORDERS, run: str = "r1") -> MetadataRecord:
    return MetadataRecord.create(
        subject=subject,
        run_id=RunId(run),
        observed_at=AT,
        producer="test",
        payload=IngestionVolume(rows, rows),
    )


@given(records)
def test_record_id_is_stable_for_equal_facts(record: MetadataRecord) -> None:
    # Observation time, producer and the observed values do not identify the fact.
    again = MetadataRecord.create(
        subject=record.subject,
        run_id=record.run_id,
        observed_at=record.observed_at + timedelta(hours=1),
        producer=record.producer + "-other",
        payload=record.payload,
    )
    assert again.record_id == record.record_id


@given(records, dataset_refs, run_ids)
def test_record_id_changes_when_subject_or_run_changes(
    record: MetadataRecord, subject: DatasetRef, run_id: RunId
) -> None:
    if subject != record.subject:
        assert _derive(record, subject=subject) != record.record_id
    if run_id != record.run_id:
        assert _derive(record, run_id=run_id) != record.record_id


def _derive(record: MetadataRecord, **changes: object) -> str:
    fields = {
        "subject": record.subject,
        "run_id": record.run_id,
        "payload": record.payload,
        **changes,
    }
    return MetadataRecord.create(observed_at=record.observed_at, producer=record.producer, **fields).record_id  # type: ignore[arg-type]


@given(payloads, payloads)
def test_record_id_changes_with_kind_or_natural_key(first: object, second: object) -> None:
    a = MetadataRecord.create(subject=ORDERS, run_id=RunId("r"), observed_at=AT, producer="p", payload=first)  # type: ignore[arg-type]
    b = MetadataRecord.create(subject=ORDERS, run_id=RunId("r"), observed_at=AT, producer="p", payload=second)  # type: ignore[arg-type]
    same_fact = a.kind == b.kind and first.natural_key() == second.natural_key()  # type: ignore[attr-defined]
    assert (a.record_id == b.record_id) == same_fact


def test_identifying_fields_each_change_the_id() -> None:
    base = volume()
    assert volume(rows=99).record_id == base.record_id  # same fact, other observed values
    assert (
        volume(subject=DatasetRef("postgres://db:5432", "sales.public.other")).record_id
        != base.record_id
    )
    assert volume(run="r2").record_id != base.record_id
    event = MetadataRecord.create(
        subject=ORDERS,
        run_id=RunId("r1"),
        observed_at=AT,
        producer="t",
        payload=RunEvent(RunEventType.STARTED),
    )
    other = MetadataRecord.create(
        subject=ORDERS,
        run_id=RunId("r1"),
        observed_at=AT,
        producer="t",
        payload=RunEvent(RunEventType.FAILED),
    )
    assert event.record_id != other.record_id != base.record_id
    schema_a = Schema.from_columns([Column("id", IntegerType(32))])
    schema_b = Schema.from_columns([Column("id", IntegerType(64))])

    def snapshot(schema: Schema) -> MetadataRecord:
        return MetadataRecord.create(
            subject=ORDERS,
            run_id=RunId("r1"),
            observed_at=AT,
            producer="t",
            payload=SchemaSnapshot(schema),
        )

    assert snapshot(schema_a).record_id != snapshot(schema_b).record_id


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValueError, match="observed_at: naive datetime"):
        MetadataRecord.create(
            subject=ORDERS,
            run_id=RunId("r1"),
            observed_at=datetime(2024, 5, 1),
            producer="t",
            payload=IngestionVolume(1, 1),
        )
    with pytest.raises(ValueError, match="started_at: naive"):
        IngestionRuntime(
            "full", datetime(2024, 5, 1), datetime(2024, 5, 2, tzinfo=UTC), RunStatus.SUCCEEDED
        )


@given(utc_datetimes, st.integers(-12, 14))
def test_aware_timestamps_are_normalised_to_utc(moment: datetime, hours: int) -> None:
    local = moment.astimezone(timezone(timedelta(hours=hours)))
    record = MetadataRecord.create(
        subject=ORDERS,
        run_id=RunId("r1"),
        observed_at=local,
        producer="t",
        payload=IngestionVolume(1, 1),
    )
    assert record.observed_at == moment
    assert record.observed_at.tzinfo is UTC


def test_a_wrong_record_id_is_refused() -> None:
    with pytest.raises(ValueError, match="record_id: 'abc' does not match"):
        attrs.evolve(volume(), record_id="abc")


def test_kind_and_payload_must_agree() -> None:
    with pytest.raises(ValueError, match="payload: kind 'run_event' carries RunEvent"):
        MetadataRecord(
            kind=RecordKind.RUN_EVENT,
            subject=ORDERS,
            run_id=RunId("r"),
            observed_at=AT,
            producer="t",
            payload=IngestionVolume(1, 1),
        )


def test_payload_version_must_be_known() -> None:
    with pytest.raises(ValueError, match="payload_version"):
        MetadataRecord.create(
            subject=ORDERS,
            run_id=RunId("r"),
            observed_at=AT,
            producer="t",
            payload=IngestionVolume(1, 1),
            payload_version=7,
        )


def test_finished_before_started_is_rejected() -> None:
    with pytest.raises(ValueError, match="finished_at"):
        IngestionRuntime("full", AT, AT - timedelta(seconds=1), RunStatus.FAILED)


def test_a_typed_read_of_a_payload_names_both_kinds_when_it_is_another() -> None:
    record = MetadataRecord.create(
        subject=DatasetRef("postgres://db:5432", "sales.orders"),
        run_id=RunId("r1"),
        observed_at=datetime(2024, 5, 1, tzinfo=UTC),
        producer="test",
        payload=RunEvent(RunEventType.STARTED),
    )
    assert record.payload_as(RunEvent).event is RunEventType.STARTED
    with pytest.raises(TypeError, match="a RunEvent, not a SchemaSnapshot"):
        record.payload_as(SchemaSnapshot)
