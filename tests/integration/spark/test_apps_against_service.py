"""A harvest, an ingestion run and a recon run against `metadata serve` by URL alone: each
app is given the service's URL and a token, nothing else, and its records are read back
from the store behind the service."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pyspark.sql import SparkSession

from apps.ingestion.main import cli as ingestion_cli
from apps.metadata.main import cli as metadata_cli
from apps.recon.main import cli as recon_cli
from contract.stores import HttpHarness, live_service
from domain.dataset import RunId
from domain.metadata.kinds import RecordKind
from domain.metadata.query import RecordQuery

EXAMPLES = Path(__file__).parents[3] / "examples"
APPEND = EXAMPLES / "pipelines" / "orders-append.toml"


@pytest.fixture
def service() -> Iterator[HttpHarness]:
    with live_service() as harness:
        yield harness


def _by_url(cli: object, service: HttpHarness, home: Path, *args: str) -> Result:
    result = CliRunner().invoke(
        cli,  # type: ignore[arg-type]
        ["--url", service.base_url, *args],
        env={"DATAPLATFORM_HOME": str(home), "DATAPLATFORM_METADATA_TOKEN": service.token},
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def _kinds(service: HttpHarness, run_id: str | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    query = RecordQuery(run_id=None if run_id is None else RunId(run_id), limit=1000)
    for record in service.repository().query(query).records:
        counts[record.kind.value] = counts.get(record.kind.value, 0) + 1
    return counts


def test_harvest_ingestion_and_recon_by_url_alone(
    spark: SparkSession, service: HttpHarness, tmp_path: Path
) -> None:
    # The batch's one session (JDBC drivers loaded) is the one the apps get, whatever runs first.
    assert spark.range(1).count() == 1
    harvested = _by_url(
        metadata_cli,
        service,
        tmp_path,
        "harvest",
        str(EXAMPLES / "datasets" / "endpoints.toml"),
        "--json",
    )
    datasets = json.loads(harvested.stdout)["datasets"]
    assert {d["dataset"]: d["drift"] for d in datasets} == {
        "examples::orders": "new",
        "examples::customers": "new",
        "examples::events": "new",
    }
    assert _kinds(service)[RecordKind.SCHEMA_SNAPSHOT.value] == 3

    landing = tmp_path / "landing" / "orders"
    landing.mkdir(parents=True)
    shutil.copy(EXAMPLES / "ingestion" / "orders-batch1.jsonl", landing)
    ran = _by_url(ingestion_cli, service, tmp_path, "run", str(APPEND), "--json")
    run_id = json.loads(ran.stdout)["run_id"]
    written = _kinds(service, run_id)
    assert written[RecordKind.INGESTION_VOLUME.value] == 1
    assert written[RecordKind.RUN_EVENT.value] >= 2  # started ... succeeded

    checked = _by_url(recon_cli, service, tmp_path, "run", "--pipeline", str(APPEND), "--json")
    report = json.loads(checked.stdout)
    assert report["results"] and {r["status"] for r in report["results"]} == {"passed"}
    assert _kinds(service, report["run_id"])[RecordKind.RECON_RESULT.value] == len(
        report["results"]
    )
    # What the apps wrote, each one read back through the service by URL.
    latest = _by_url(metadata_cli, service, tmp_path, "query", "--kind", "recon_result", "--json")
    assert len(json.loads(latest.stdout)["records"]) == len(report["results"])
