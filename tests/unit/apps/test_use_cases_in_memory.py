"""The apps' use cases through their commands, with in-memory engines put in by
``bootstrap(overrides=...)`` (no JVM, no database but the embedded store): what the command
prints and exits with, and what the store then holds."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from adapters.memory.ingestion import InMemoryIngestionEngine
from adapters.memory.recon import InMemoryReconEngine
from apps.ingestion.bootstrap import bootstrap as ingestion_services
from apps.ingestion.main import cli as ingestion
from apps.metadata.bootstrap import bootstrap as metadata_services
from apps.metadata.main import cli as metadata
from apps.recon.bootstrap import bootstrap as recon_services
from apps.recon.main import cli as recon
from apps.settings import load_settings
from domain.schema import Column, Schema
from domain.schema.types import DecimalType, IntegerType
from ports.ingestion import IngestionEngine
from ports.recon import ReconEngine

SCHEMA = Schema.from_columns(
    [Column("id", IntegerType(64), nullable=False), Column("amount", DecimalType(10, 2))]
)
ROWS = [{"id": i, "amount": Decimal(i) / 4} for i in range(1, 6)]


def _settings(home: Path):  # type: ignore[no-untyped-def]
    return load_settings({"DATAPLATFORM_HOME": str(home)})


def test_an_ingestion_run_on_the_in_memory_engine_commits_and_records(tmp_path: Path) -> None:
    source = tmp_path / "orders.parquet"
    pipeline = tmp_path / "orders.toml"
    pipeline.write_text(
        f'name = "orders-memory"\nmode = "full"\n[source]\nkind = "parquet"\npath = "{source}"\n'
        f'[target]\nkind = "parquet"\npath = "{tmp_path / "out"}"\n',
        encoding="utf-8",
    )
    engine = InMemoryIngestionEngine({str(source): (ROWS, SCHEMA)})
    services = ingestion_services(_settings(tmp_path), overrides={IngestionEngine: engine})
    result = CliRunner().invoke(ingestion, ["run", str(pipeline), "--json"], obj=services)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows_read"], report["rows_written"]) == (5, 5)
    spec_target = str(tmp_path / "out")
    assert engine.targets[spec_target].rows == tuple(ROWS)
    # The same run told to a person, then the next run's plan.
    said = CliRunner().invoke(ingestion, ["run", str(pipeline)], obj=services)
    assert said.exit_code == 0, said.output
    assert said.stdout.startswith("orders-memory: full run ")
    assert "committed: 5 row(s) read, 5 written in " in said.stdout
    planned = CliRunner().invoke(ingestion, ["plan", str(pipeline)], obj=services)
    assert planned.exit_code == 0, planned.output
    lines = planned.stdout.splitlines()
    assert lines[0] == "orders-memory: full"
    assert "  - full: the pipeline's mode replaces the whole target each run" in lines
    assert "  gate: passes" in lines
    # The run's records are in the embedded store, read back by the metadata app.
    store = metadata_services(_settings(tmp_path))
    runs = CliRunner().invoke(metadata, ["query", "--kind", "run_event", "--json"], obj=store)
    events = [r["payload"]["event"] for r in json.loads(runs.stdout)["records"]]
    assert "succeeded" in events, runs.stdout


def test_a_recon_on_the_in_memory_engine_fails_on_the_planted_difference(tmp_path: Path) -> None:
    spec = tmp_path / "orders.toml"
    spec.write_text(
        'name = "orders-memory"\nkeys = ["id"]\n'
        '[source]\nkind = "jdbc"\nurl = "jdbc:postgresql://127.0.0.1:9/none"\ntable = "a.source"\n'
        '[target]\nkind = "jdbc"\nurl = "jdbc:postgresql://127.0.0.1:9/none"\ntable = "a.target"\n',
        encoding="utf-8",
    )
    target = [dict(r) for r in ROWS]
    target[2]["amount"] = Decimal("9.99")  # id 3 changed
    engine = InMemoryReconEngine({"a.source": (ROWS, SCHEMA), "a.target": (target, SCHEMA)})
    services = recon_services(_settings(tmp_path), overrides={ReconEngine: engine})
    result = CliRunner().invoke(recon, ["run", str(spec), "--json"], obj=services)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    failed = {c["check"] for c in report["results"] if c["status"] != "passed"}
    assert failed >= {"key_diff", "row_hash", "aggregates"}, report
    assert engine.closed
