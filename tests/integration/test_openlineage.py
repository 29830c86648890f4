"""OpenLineage in and out, with the real openlineage-python client: its HTTP transport posts
run events to `POST /api/v1/lineage` of a live service, which stores them as records; our
run events, exported with `metadata export --openlineage`, are read by the client's event
models (generated from the OpenLineage JSON schemas, with their validators) and, posted
back, are the same records."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run, schema_dataset
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpConfig,
    HttpTransport,
)

from apps.metadata.main import cli as metadata_cli
from contract.stores import HttpHarness, live_service
from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import RunEvent as OurRunEvent
from domain.metadata.payloads import RunEventType, SchemaSnapshot
from domain.metadata.query import RecordQuery
from domain.metadata.record import MetadataRecord
from domain.schema.schema import Column, Schema
from domain.schema.types import DecimalType, IntegerType

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"


@pytest.fixture
def service() -> Iterator[HttpHarness]:
    with live_service() as harness:
        yield harness


def _client(service: HttpHarness) -> OpenLineageClient:
    config = HttpConfig(url=service.base_url, auth=ApiKeyTokenProvider({"apiKey": service.token}))
    return OpenLineageClient(transport=HttpTransport(config))


def _fields(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in pairs]
        )
    }


def _event(state: RunState, run_id: str, when: str, **parts: Any) -> RunEvent:
    return RunEvent(
        eventType=state,
        eventTime=when,
        run=Run(runId=run_id, facets=parts.pop("run_facets", {})),
        job=Job(namespace="airflow", name="orders_daily.load"),
        producer=PRODUCER,
        **parts,
    )


def _records(service: HttpHarness, kind: RecordKind) -> list[Any]:
    return list(service.repository().query(RecordQuery(kinds=[kind], limit=100)).records)


def test_the_clients_events_are_records_and_our_export_reads_back(
    service: HttpHarness, tmp_path: Path
) -> None:
    client = _client(service)
    run_id = str(uuid.uuid4())
    client.emit(
        _event(
            RunState.START,
            run_id,
            "2024-05-01T08:00:00.000Z",
            inputs=[
                InputDataset(
                    namespace="postgres://warehouse:5432",
                    name="sales.public.orders",
                    facets=_fields(("order_id", "bigint"), ("amount", "decimal(12,2)")),
                )
            ],
        )
    )
    client.emit(
        _event(
            RunState.COMPLETE,
            run_id,
            "2024-05-01T08:05:00.000Z",
            outputs=[
                OutputDataset(
                    namespace="s3://lake",
                    name="curated/orders",
                    facets=_fields(("order_id", "BIGINT"), ("note", "varchar(40)")),
                )
            ],
        )
    )
    failed_run = str(uuid.uuid4())
    client.emit(
        _event(
            RunState.FAIL,
            failed_run,
            "2024-05-01T09:00:00+00:00",
            run_facets={
                "errorMessage": error_message_run.ErrorMessageRunFacet(
                    message="disk full", programmingLanguage="python"
                )
            },
        )
    )

    events = {(r.run_id.value, r.payload.event): r for r in _records(service, RecordKind.RUN_EVENT)}
    assert set(events) == {
        (run_id, RunEventType.STARTED),
        (run_id, RunEventType.SUCCEEDED),
        (failed_run, RunEventType.FAILED),
    }
    assert events[(failed_run, RunEventType.FAILED)].payload.message == "disk full"
    assert events[(run_id, RunEventType.STARTED)].subject == DatasetRef(
        "airflow", "orders_daily.load"
    )
    assert events[(run_id, RunEventType.STARTED)].producer == PRODUCER
    schemas = {
        str(r.subject): [str(c) for c in r.payload.schema.columns]
        for r in _records(service, RecordKind.SCHEMA_SNAPSHOT)
    }
    assert schemas == {
        "postgres://warehouse:5432::sales.public.orders": [
            "order_id int64",
            "amount decimal(12,2)",
        ],
        "s3://lake::curated/orders": ["order_id int64", "note string(40)"],
    }

    # Our own run events (the lifecycle's, heartbeat included) beside the client's.
    ours = RunId(uuid.uuid4().hex)
    target = DatasetRef("postgres://warehouse:5432", "sales.public.orders_copy")

    def ours_record(payload: Any, minute: int) -> MetadataRecord:
        return MetadataRecord.create(
            subject=target,
            run_id=ours,
            observed_at=datetime(2024, 5, 2, 8, minute, tzinfo=UTC),
            producer="ingestion-runtime",
            payload=payload,
        )

    MetadataGateway(service.repository()).emit_many(
        [
            ours_record(OurRunEvent(RunEventType.STARTED), 0),
            ours_record(OurRunEvent(RunEventType.RUNNING, beat=1), 1),
            ours_record(
                SchemaSnapshot(
                    Schema.from_columns(
                        [Column("order_id", IntegerType(64)), Column("amount", DecimalType(18, 2))]
                    )
                ),
                2,
            ),
            ours_record(OurRunEvent(RunEventType.SUCCEEDED), 3),
        ]
    )
    exported = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        metadata_cli,
        [
            "--url",
            service.base_url,
            "export",
            "--openlineage",
            "--run-id",
            ours.value,
            "-o",
            str(exported),
        ],
        env={"DATAPLATFORM_HOME": str(tmp_path), "DATAPLATFORM_METADATA_TOKEN": service.token},
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "3 OpenLineage event(s) written" in result.stderr
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [e["eventType"] for e in lines] == ["START", "RUNNING", "COMPLETE"]
    for data in lines:
        # The client's models, generated from the spec's schemas, check every field.
        model = RunEvent(
            eventType=RunState(data["eventType"]),
            eventTime=data["eventTime"],
            run=Run(runId=data["run"]["runId"]),
            job=Job(namespace=data["job"]["namespace"], name=data["job"]["name"]),
            producer=data["producer"],
            outputs=[
                OutputDataset(
                    namespace=o["namespace"],
                    name=o["name"],
                    facets=(
                        _fields(
                            *(
                                (f["name"], f["type"])
                                for f in o.get("facets", {}).get("schema", {}).get("fields", [])
                            )
                        )
                        if "facets" in o
                        else {}
                    ),
                )
                for o in data["outputs"]
            ],
        )
        assert model.schemaURL == data["schemaURL"]  # the spec version the client speaks
        assert str(uuid.UUID(model.run.runId)) == data["run"]["runId"]
        for facet in [
            *data["run"]["facets"].values(),
            *(f for o in data["outputs"] for f in o.get("facets", {}).values()),
        ]:
            assert facet["_producer"] and facet["_schemaURL"]
    assert lines[2]["outputs"][0]["facets"]["schema"]["fields"] == [
        {"name": "order_id", "type": "int64"},
        {"name": "amount", "type": "decimal(18,2)"},
    ]

    # Posted back (gzip, as the client sends with compression on): the same records.
    for data in lines:
        answer = httpx.post(
            f"{service.base_url}/api/v1/lineage",
            content=gzip.compress(json.dumps(data).encode()),
            headers={
                "Authorization": f"Bearer {service.token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == 0, answer.json()


def test_what_cannot_be_stored_is_said(service: HttpHarness) -> None:
    headers = {"Authorization": f"Bearer {service.token}"}
    url = f"{service.base_url}/api/v1/lineage"
    event = {
        "eventType": "OTHER",
        "eventTime": "2024-05-01T08:00:00Z",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": "geo"},
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "outputs": [
            {
                "namespace": "bigquery",
                "name": "geo.places",
                "facets": {"schema": {"fields": [{"name": "where", "type": "GEOGRAPHY"}]}},
            }
        ],
    }
    answer = httpx.post(url, json=event, headers=headers)
    assert answer.status_code == 200
    skipped = answer.json()["skipped"]
    assert answer.json()["accepted"] == 0 and len(skipped) == 2
    assert "'OTHER' has no run_event counterpart" in skipped[0]
    assert "type 'GEOGRAPHY' is not one the platform knows" in skipped[1]

    no_time = {k: v for k, v in event.items() if k != "eventTime"}
    refused = httpx.post(url, json=no_time, headers=headers)
    assert refused.status_code == 400
    assert "$.eventTime: required field missing" in refused.json()["error"]
    dataset_event = {
        "eventTime": "2024-05-01T08:00:00Z",
        "dataset": {"namespace": "a", "name": "b"},
        "producer": PRODUCER,
    }
    refused = httpx.post(url, json=dataset_event, headers=headers)
    assert refused.status_code == 400 and "only run events are stored" in refused.json()["error"]
    bomb = gzip.compress(b" " * (20 * 1024 * 1024))
    refused = httpx.post(url, content=bomb, headers={**headers, "Content-Encoding": "gzip"})
    assert refused.status_code == 413, refused.text
    refused = httpx.post(url, content=b"{not json", headers=headers)
    assert refused.status_code == 400 and "not JSON" in refused.json()["error"]
