"""The service's OpenAPI document says exactly what the service accepts: its patterns agree
with the domain's validators on every string, the lineage intake refuses what the RunEvent
schema refuses, and a query's time bounds outside years 1..9999 are held, not refused."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.http import wire
from adapters.http.openapi_schemas import (
    NAME_PATTERN,
    NAMESPACE_PATTERN,
    PRODUCER_PATTERN,
    RUN_ID_PATTERN,
    SUBJECT_PATTERN,
)
from adapters.serialization.openlineage import NotALineageEvent, from_openlineage
from domain.dataset import DatasetRef, RunId
from domain.metadata.timestamps import parse_bound, parse_instant

# The characters where the rules differ: separators, whitespace of several kinds, controls.
_TRICKY = st.sampled_from(list("a:Z9 \t\n\x01\x1c\x7f\x85\xa0\u2003\u3000é/."))
tricky_text = st.text(_TRICKY, max_size=12)


def _accepts(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _matches(pattern: str, text: str) -> bool:
    # JSON Schema (ECMA) "$" is the end of the text; Python's also matches before a final "\n".
    return re.search(pattern, text) is not None and not text.endswith("\n")


@given(tricky_text)
@example("postgres://[::1]:5432::sales.public.orders")
@example("a:::b")
@example("a::b:")
@example("a::::")
@example("a:: b")
@example("a::b ")
@example("a::b\u00a0")
def test_the_subject_pattern_is_the_dataset_reference_rule(text: str) -> None:
    assert _matches(SUBJECT_PATTERN, text) == _accepts(DatasetRef.parse, text)


@given(tricky_text, tricky_text)
def test_the_namespace_and_name_patterns_are_the_dataset_rules(namespace: str, name: str) -> None:
    both = _matches(NAMESPACE_PATTERN, namespace) and _matches(NAME_PATTERN, name)
    assert both == _accepts(lambda _: DatasetRef(namespace, name), "")


@given(st.text(st.sampled_from(list("aZ09._:- /\n")), max_size=8))
def test_the_run_id_pattern_is_the_run_id_rule(text: str) -> None:
    assert _matches(RUN_ID_PATTERN, text) == _accepts(RunId, text)


@given(tricky_text)
def test_the_producer_pattern_is_the_record_rule(text: str) -> None:
    from domain.metadata.payloads import RunEvent, RunEventType
    from domain.metadata.record import MetadataRecord

    def record(producer: str) -> None:
        MetadataRecord.create(
            subject=DatasetRef("file", "x"),
            run_id=RunId("r1"),
            observed_at=datetime(2024, 5, 1, tzinfo=UTC),
            producer=producer,
            payload=RunEvent(RunEventType.STARTED),
        )

    assert _matches(PRODUCER_PATTERN, text) == _accepts(record, text)


def test_a_time_bound_outside_the_years_is_held_not_refused() -> None:
    assert parse_bound("0001-01-01T00:00:00+05:00") == datetime.min.replace(tzinfo=UTC)
    assert parse_bound("9999-12-31T23:00:00-05:00") == datetime.max.replace(tzinfo=UTC)
    assert parse_bound("2024-05-01T12:00:00+02:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    query = wire.parse_query({"since": ["0001-01-01T00:00:00+01:00"]})
    assert query.since == datetime.min.replace(tzinfo=UTC)
    # A record's own time is still refused, never moved.
    with pytest.raises(ValueError, match="outside years 1..9999"):
        parse_instant("0001-01-01T00:00:00+05:00")
    with pytest.raises(wire.BadParameter, match="since: .*fractional-second digits"):
        wire.parse_query({"since": ["2024-05-01T12:00:00.1234567Z"]})


def _event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventType": "START",
        "eventTime": "2024-05-01T06:00:00Z",
        "producer": "https://example.org/producer",
        "run": {"runId": str(uuid.UUID(int=7))},
        "job": {"namespace": "airflow", "name": "orders.load"},
    }
    event.update(changes)
    return event


def test_a_well_formed_event_is_read() -> None:
    intake = from_openlineage(
        _event(
            eventType="OTHER",
            outputs=[
                {
                    "namespace": "file",
                    "name": "/data/orders",
                    "facets": {"schema": {"fields": [{"name": "id", "type": "bigint"}]}},
                }
            ],
        )
    )
    assert [r.kind.value for r in intake.records] == ["schema_snapshot"]
    assert intake.skipped and "OTHER" in intake.skipped[0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"eventType": None}, r"\$.eventType: expected one of START, RUNNING"),
        ({"eventType": "DONE"}, r"\$.eventType: expected one of"),
        ({"run": {"runId": "run-1"}}, r"\$.run.runId: 'run-1' is not a UUID"),
        ({"run": {"runId": uuid.UUID(int=7).hex}}, r"hyphenated form"),
        ({"run": {"runId": 7}}, r"\$.run.runId: expected a string"),
        ({"run": {"runId": str(uuid.UUID(int=7)), "facets": []}}, r"\$.run.facets: expected"),
        ({"job": {"namespace": "a", "name": "b", "facets": None}}, r"\$.job.facets: expected"),
        ({"job": {"namespace": "a b", "name": "b"}}, r"\$.job.namespace: must not contain"),
        ({"job": {"namespace": 3, "name": "b"}}, r"\$.job.namespace: expected a string"),
        ({"producer": 5}, r"\$.producer: expected a string"),
        ({"inputs": None}, r"\$.inputs: expected a list"),
        ({"inputs": [{"namespace": "file"}]}, r"\$.inputs\[0\].name: required field missing"),
        ({"outputs": [{"namespace": "f", "name": "x", "facets": []}]}, r"\[0\].facets: expected"),
    ],
)
def test_what_the_run_event_schema_refuses_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(NotALineageEvent, match=message):
        from_openlineage(_event(**changes))
