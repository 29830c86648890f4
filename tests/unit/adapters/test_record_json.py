"""The JSON edge: every record kind and schema round-trips, and bad input names its path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from adapters.serialization.json_text import RecordDecodeError
from adapters.serialization.reading import read_records
from adapters.serialization.records import RecordConverter
from domain.metadata import MetadataRecord, RecordKind
from domain.metadata.payloads import DatasetProfile
from domain.schema import Schema
from strategies import payloads_by_kind, records_with, schemas

CONVERTER = RecordConverter()

GOOD: dict[str, Any] = {
    "kind": "ingestion_volume",
    "subject": {"namespace": "postgres://db:5432", "name": "sales.public.orders"},
    "run_id": "r1",
    "observed_at": "2024-05-01T06:00:00Z",
    "producer": "ingestion",
    "payload": {"rows_read": 10, "rows_written": 9, "rows_rejected": 1, "bytes_written": None},
}


@pytest.mark.parametrize("kind", list(RecordKind), ids=lambda kind: kind.value)
def test_every_record_kind_round_trips_through_json(kind: RecordKind) -> None:
    @given(records_with(payloads_by_kind[kind]))
    def round_trip(record: MetadataRecord) -> None:
        assert record.kind is kind
        text = CONVERTER.dumps(record)
        assert CONVERTER.loads(text) == record
        assert json.loads(text)["record_id"] == record.record_id

    round_trip()


def test_the_strategies_cover_every_kind() -> None:
    assert set(payloads_by_kind) == set(RecordKind)


@given(schemas)
def test_schemas_round_trip_through_json(schema: Schema) -> None:
    converter = CONVERTER._converter
    assert (
        converter.structure(json.loads(json.dumps(converter.unstructure(schema))), Schema) == schema
    )


def test_record_id_may_be_omitted_and_is_derived() -> None:
    record = CONVERTER.structure(GOOD)
    assert (
        record.record_id == CONVERTER.structure({**GOOD, "record_id": record.record_id}).record_id
    )


def problems_of(data: Any) -> list[str]:
    with pytest.raises(RecordDecodeError) as raised:
        CONVERTER.structure(data)
    return [str(p) for p in raised.value.problems]


def with_payload(**changes: Any) -> dict[str, Any]:
    return {**GOOD, "payload": {**GOOD["payload"], **changes}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (with_payload(rows_written="9"), "$.payload.rows_written: expected int, got str '9'"),
        (with_payload(rows_written=9.0), "$.payload.rows_written: expected int, got float 9.0"),
        (with_payload(rows_written=True), "$.payload.rows_written: expected int, got bool True"),
        (
            with_payload(rows_written=-1),
            "$.payload: rows_written: expected a non-negative integer, got -1",
        ),
        (with_payload(extra=1), "$.payload: unknown field(s) 'extra'; remove them"),
        ({**GOOD, "observed_at": "2024-05-01T06:00:00"}, "$.observed_at: naive timestamp"),
        ({**GOOD, "kind": "volume"}, "$.kind: expected one of schema_snapshot"),
        ({**GOOD, "colour": "red"}, "$: unknown field(s) 'colour'; remove them"),
        ({k: v for k, v in GOOD.items() if k != "run_id"}, "$.run_id: required field missing"),
        ({**GOOD, "record_id": "nope"}, "$.record_id: 'nope' does not match the id derived"),
        ({**GOOD, "subject": "no-separator"}, "$.subject: dataset reference 'no-separator'"),
    ],
)
def test_bad_records_name_the_path_and_the_reason(data: dict[str, Any], expected: str) -> None:
    assert any(problem.startswith(expected) for problem in problems_of(data)), problems_of(data)


def test_decimals_travel_as_strings_and_floats_are_refused() -> None:
    recon = {
        **GOOD,
        "kind": "recon_result",
        "payload": {
            "check": "sum",
            "status": "passed",
            "expected": "10.50",
            "actual": "10.5",
            "tolerance": "0",
        },
    }
    record = CONVERTER.structure(recon)
    assert json.loads(CONVERTER.dumps(record))["payload"]["expected"] == "10.50"
    recon["payload"] = {**recon["payload"], "actual": 10.5}
    assert problems_of(recon)[0].startswith("$.payload.actual: expected a decimal as a string")


def test_schema_errors_name_the_column() -> None:
    snapshot = {
        **GOOD,
        "kind": "schema_snapshot",
        "payload": {
            "schema": {"columns": [{"name": "amount", "type": "decimal(39,2)", "nullable": True}]}
        },
    }
    assert problems_of(snapshot)[0].startswith(
        "$.payload.schema.columns[0].type: type 'decimal(39,2)'"
    )
    snapshot["payload"]["schema"]["columns"] = [
        {"name": "id", "type": "int64", "nullable": False},
        {"name": "ID", "type": "string", "nullable": True},
    ]
    assert "duplicate column name 'ID'" in problems_of(snapshot)[0]


def test_every_problem_of_a_record_is_reported_at_once() -> None:
    data = {**with_payload(rows_read="x", rows_written="y"), "observed_at": "yesterday"}
    found = problems_of(data)
    assert len(found) == 3


def test_read_records_accepts_jsonl_a_list_and_one_document() -> None:
    line = json.dumps(GOOD)
    assert [d.line for d in read_records(f"{line}\n\n{line}\n", CONVERTER)] == [1, 3]
    assert len(list(read_records(json.dumps([GOOD, GOOD]), CONVERTER))) == 2
    assert len(list(read_records(json.dumps(GOOD, indent=2), CONVERTER))) == 1


def test_malformed_jsonl_names_line_and_column() -> None:
    results = list(read_records(json.dumps(GOOD) + '\n{"kind": \n', CONVERTER))
    assert results[0].record is not None
    assert str(results[1].problems[0]).startswith("$: malformed JSON at line 2, column 10")


def test_problems_in_a_json_list_carry_the_index() -> None:
    results = list(read_records(json.dumps([GOOD, with_payload(rows_read="x")]), CONVERTER))
    assert str(results[1].problems[0]).startswith("$[1].payload.rows_read")


def test_version_1_profiles_still_read_and_new_ones_are_version_2() -> None:
    """dataset_profile grew max_scale_value and non_finite through its version field."""
    old = {
        "kind": "dataset_profile",
        "subject": "file::/data/orders",
        "run_id": "r1",
        "observed_at": "2024-05-01T06:00:00Z",
        "producer": "harvest",
        "payload_version": 1,
        "payload": {
            "row_count": 2,
            "columns": [{"name": "amount", "nulls": 0, "max_integer_digits": 3, "max_scale": 2}],
        },
    }
    record = CONVERTER.structure(old)
    (column,) = record.payload_as(DatasetProfile).columns
    assert record.payload_version == 1
    assert (column.max_scale, column.max_scale_value, column.non_finite) == (2, None, None)
    assert (
        CONVERTER.structure(
            {k: v for k, v in old.items() if k != "payload_version"}
        ).payload_version
        == 1
    )
    fresh = MetadataRecord.create(
        subject=record.subject,
        run_id=record.run_id,
        observed_at=record.observed_at,
        producer="harvest",
        payload=record.payload,
    )
    assert fresh.payload_version == 2
