"""OpenLineage run events in and out (spec 2-0-2: https://openlineage.io/spec/2-0-2/OpenLineage.json).

In (``POST /api/v1/lineage``, as the openlineage-python client's HTTP transport and the Spark
and Airflow integrations send them): a run event becomes

- one ``run_event`` record about the job (``job.namespace::job.name``), for the event's
  runId, at its eventTime, by its producer: START is started, RUNNING running, COMPLETE
  succeeded, FAIL failed, ABORT aborted; the errorMessage facet's message is the message;
- one ``schema_snapshot`` per input or output dataset with a ``schema`` facet, its field
  types read as the platform's types (``varchar``, ``bigint``, ``decimal(18,2)`` ...).

Refused with the field named, as the spec's schema would: a runId that is not a UUID, an
eventType outside the spec's enum, a job or dataset without a string namespace and name, a
``facets`` that is not an object. What cannot be stored is said, never dropped in silence: an event with no eventType or with
OTHER stores its schema snapshots only, and a dataset whose schema has a type the platform
does not know is left out; :class:`LineageIntake` lists both as ``skipped``.

Out (``metadata export --openlineage``): each ``run_event`` record is a RunEvent: the job is
its subject, the output is the subject with its schema facet when the run recorded a schema
snapshot of it, and the run id is a UUID (ours are; any other is mapped to a UUID5) with the
record's own run id and heartbeat number in a ``dataplatform`` run facet, which the intake
reads back, so an exported event re-imported is the same record.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote, unquote

import attrs

from domain.dataset import DatasetRef, RunId
from domain.metadata.payloads import RunEvent, RunEventType, SchemaSnapshot
from domain.metadata.record import MetadataRecord
from domain.metadata.timestamps import instant_text, parse_instant
from domain.schema.schema import Column, Schema
from domain.schema.type_syntax import parse_type
from domain.schema.types import (
    BinaryType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    NumberType,
    StringType,
    TimestampType,
)

SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
RUN_EVENT_SCHEMA = f"{SPEC}#/$defs/RunEvent"
SCHEMA_FACET = (
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
)
ERROR_FACET = (
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
)
OUR_FACET = "urn:dataplatform:facet:run:1"
PRODUCER_PREFIX = "urn:dataplatform:producer:"
_RUN_NAMESPACE = uuid.UUID("6f1c1d3e-9a51-4c8e-9f0e-0b7d3f5a2c11")

_IN = {
    "START": RunEventType.STARTED,
    "RUNNING": RunEventType.RUNNING,
    "COMPLETE": RunEventType.SUCCEEDED,
    "FAIL": RunEventType.FAILED,
    "ABORT": RunEventType.ABORTED,
}
_OUT = {ours: theirs for theirs, ours in _IN.items()}
# The spec's eventType enum: OTHER has no run_event counterpart (its schema facets are kept).
EVENT_TYPES = (*_IN, "OTHER")
_UUID_FORM = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


class NotALineageEvent(ValueError):
    """The body is not an OpenLineage run event; the message names the field and the fix."""


@attrs.frozen
class LineageIntake:
    """What one OpenLineage event became: the records to store and what was left out."""

    records: tuple[MetadataRecord, ...]
    skipped: tuple[str, ...] = ()


# -- types ------------------------------------------------------------------------------

_DECLARED = re.compile(r"^([a-z][a-z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")
_NAMED: dict[str, DataType] = {
    "tinyint": IntegerType(8),
    "byte": IntegerType(8),
    "smallint": IntegerType(16),
    "short": IntegerType(16),
    "int2": IntegerType(16),
    "int": IntegerType(32),
    "integer": IntegerType(32),
    "int4": IntegerType(32),
    "bigint": IntegerType(64),
    "long": IntegerType(64),
    "int8": IntegerType(64),
    "real": FloatType(),
    "float4": FloatType(),
    "float8": DoubleType(),
    "double precision": DoubleType(),
    "text": StringType(),
    "bool": BooleanType(),
    "datetime": TimestampType(with_timezone=False),
    "timestamp": TimestampType(with_timezone=False),
    "timestamp without time zone": TimestampType(with_timezone=False),
    "timestamp with time zone": TimestampType(with_timezone=True),
    "timestamptz": TimestampType(with_timezone=True),
    "bytea": BinaryType(),
    "blob": BinaryType(),
    "uuid": StringType(),
    "json": StringType(),
}


def read_type(text: str) -> DataType | None:
    """The platform's type for a schema facet's field type, or None when it has none."""
    lowered = " ".join(text.strip().lower().split())
    try:
        return parse_type(lowered)
    except ValueError:
        pass
    match = _DECLARED.match(lowered)
    if match is None:
        return None
    name, first, second = match.group(1), match.group(2), match.group(3)
    if name in ("decimal", "numeric"):
        return NumberType() if first is None else DecimalType(int(first), int(second or 0))
    if name in ("varchar", "char", "character", "character varying", "nvarchar", "string"):
        return StringType(int(first)) if first else StringType()
    if name == "date":
        return DateType()
    return _NAMED.get(name) if first is None else None


# -- in ---------------------------------------------------------------------------------


def _field(data: Mapping[str, Any], path: str, key: str, fix: str) -> Any:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise NotALineageEvent(f"{path}.{key}: required field missing; {fix}")
    return value


def _text(data: Mapping[str, Any], path: str, key: str, fix: str) -> str:
    value = _field(data, path, key, fix)
    if not isinstance(value, str):
        raise NotALineageEvent(f"{path}.{key}: expected a string, got {value!r}; {fix}")
    return value


def _object(data: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise NotALineageEvent(f"{path}: expected a JSON object")
    return data


def _facets(data: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    return _object(data["facets"], f"{path}.facets") if "facets" in data else {}


def _uuid(text: str, path: str) -> str:
    try:
        uuid.UUID(text)
    except ValueError:
        raise NotALineageEvent(
            f"{path}: {text!r} is not a UUID; OpenLineage run ids are UUIDs"
        ) from None
    if not _UUID_FORM.match(text):
        raise NotALineageEvent(
            f"{path}: {text!r} is not a UUID in its hyphenated form (8-4-4-4-12 hex digits)"
        )
    return text


def _dataset(data: Any, where: str) -> DatasetRef:
    dataset = _object(data, where)
    try:
        return DatasetRef(
            _text(dataset, where, "namespace", "the dataset's namespace"),
            _text(dataset, where, "name", "the dataset's name"),
        )
    except NotALineageEvent:
        raise
    except ValueError as invalid:
        raise NotALineageEvent(f"{where}.{invalid}") from None


def _producer(uri: str) -> str:
    return unquote(uri[len(PRODUCER_PREFIX) :]) if uri.startswith(PRODUCER_PREFIX) else uri


def from_openlineage(event: Any) -> LineageIntake:
    """The records of one OpenLineage run event (see the module's docstring)."""
    event = _object(event, "$")
    if "run" not in event and ("dataset" in event or "job" in event):
        raise NotALineageEvent(
            "$: a dataset or job event (no run); only run events are stored, since every "
            "record belongs to a run"
        )
    run = _object(_field(event, "$", "run", "send a RunEvent"), "$.run")
    job = _object(_field(event, "$", "job", "send a RunEvent"), "$.job")
    facets = _facets(run, "$.run")
    found = facets.get("dataplatform")
    ours: Mapping[str, Any] = found if isinstance(found, dict) else {}
    their_id = _uuid(_text(run, "$.run", "runId", "a UUID"), "$.run.runId")
    run_id = RunId(str(ours.get("runId") or their_id))
    time_text = _text(event, "$", "eventTime", "an ISO-8601 time with its offset")
    try:
        observed_at = parse_instant(time_text)
    except ValueError as invalid:
        raise NotALineageEvent(f"$.eventTime: {invalid}") from None
    producer = _producer(_text(event, "$", "producer", "a URI naming the producer"))
    job_ref = _dataset(job, "$.job")
    _facets(job, "$.job")
    kind = event.get("eventType")
    if "eventType" in event and kind not in EVENT_TYPES:
        raise NotALineageEvent(
            f"$.eventType: expected one of {', '.join(EVENT_TYPES)}, got {kind!r}"
        )
    sides: dict[str, list[tuple[DatasetRef, Any, str]]] = {}
    for side in ("inputs", "outputs"):
        datasets = event.get(side, [])
        if not isinstance(datasets, list):
            raise NotALineageEvent(f"$.{side}: expected a list of datasets")
        sides[side] = []
        for position, dataset in enumerate(datasets):
            where = f"$.{side}[{position}]"
            subject = _dataset(dataset, where)
            sides[side].append((subject, _facets(dataset, where).get("schema"), where))

    record = partial(
        MetadataRecord.create, run_id=run_id, observed_at=observed_at, producer=producer
    )

    records: list[MetadataRecord] = []
    skipped: list[str] = []
    if kind in _IN:
        error = facets.get("errorMessage")
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
        beat = ours.get("beat")
        records.append(
            record(
                subject=job_ref,
                payload=RunEvent(
                    _IN[kind], message[:2000], beat if isinstance(beat, int) else None
                ),
            )
        )
    else:
        skipped.append(
            f"$.eventType: {kind!r} has no run_event counterpart (START, RUNNING, COMPLETE, "
            f"FAIL, ABORT); the event's schema facets are stored"
        )
    for subject, schema_facet, where in sides["inputs"] + sides["outputs"]:
        if not isinstance(schema_facet, dict):
            continue
        schema, problem = _schema(schema_facet.get("fields"), f"{where}.facets.schema")
        if schema is None:
            skipped.append(f"{where} ({subject}): {problem}")
        else:
            records.append(record(subject=subject, payload=SchemaSnapshot(schema)))
    return LineageIntake(tuple(records), tuple(skipped))


def _schema(fields: Any, path: str) -> tuple[Schema | None, str]:
    if not isinstance(fields, list) or not fields:
        return None, f"{path}.fields: no fields, so no schema to keep"
    columns = []
    for position, field in enumerate(fields):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            return None, f"{path}.fields[{position}]: a field needs a name"
        declared = field.get("type")
        data_type = read_type(declared) if isinstance(declared, str) else None
        if data_type is None:
            return None, (
                f"{path}.fields[{position}] ({field['name']}): type {declared!r} is not one "
                f"the platform knows, so the schema is not kept"
            )
        columns.append(Column(field["name"], data_type))
    try:
        return Schema.from_columns(columns), ""
    except ValueError as invalid:
        return None, f"{path}.fields: {invalid}"


# -- out --------------------------------------------------------------------------------


def openlineage_run_id(run_id: RunId) -> str:
    """A run id as OpenLineage wants it: a UUID (ours are; others map to a stable UUID5)."""
    try:
        return str(uuid.UUID(run_id.value))
    except ValueError:
        return str(uuid.uuid5(_RUN_NAMESPACE, run_id.value))


def to_openlineage(
    record: MetadataRecord, schema_of: Callable[[DatasetRef, RunId], Schema | None]
) -> dict[str, Any]:
    """The OpenLineage RunEvent of a ``run_event`` record; ``schema_of`` finds the schema
    its run recorded for a dataset, if any."""
    payload = record.payload
    if not isinstance(payload, RunEvent):
        raise ValueError(f"record {record.record_id} is a {record.kind.value}, not a run_event")
    run_facets: dict[str, Any] = {
        "dataplatform": {
            "_producer": PRODUCER_PREFIX + quote(record.producer, safe=""),
            "_schemaURL": OUR_FACET,
            "runId": record.run_id.value,
            **({} if payload.beat is None else {"beat": payload.beat}),
        }
    }
    if payload.event is RunEventType.FAILED and payload.message:
        run_facets["errorMessage"] = {
            "_producer": PRODUCER_PREFIX + quote(record.producer, safe=""),
            "_schemaURL": ERROR_FACET,
            "message": payload.message,
            "programmingLanguage": "python",
        }
    output: dict[str, Any] = {"namespace": record.subject.namespace, "name": record.subject.name}
    schema = schema_of(record.subject, record.run_id)
    if schema is not None:
        output["facets"] = {
            "schema": {
                "_producer": PRODUCER_PREFIX + quote(record.producer, safe=""),
                "_schemaURL": SCHEMA_FACET,
                "fields": [{"name": c.name, "type": str(c.type)} for c in schema.columns],
            }
        }
    return {
        "eventType": _OUT[payload.event],
        "eventTime": instant_text(record.observed_at),
        "run": {"runId": openlineage_run_id(record.run_id), "facets": run_facets},
        "job": {"namespace": record.subject.namespace, "name": record.subject.name},
        "inputs": [],
        "outputs": [output],
        "producer": PRODUCER_PREFIX + quote(record.producer, safe=""),
        "schemaURL": RUN_EVENT_SCHEMA,
    }


__all__ = [
    "LineageIntake",
    "NotALineageEvent",
    "from_openlineage",
    "openlineage_run_id",
    "read_type",
    "to_openlineage",
]
