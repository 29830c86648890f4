"""The IngestionEngine port's contract, over every implementation: in memory and Spark
(an Iceberg target in a catalog of its own). It lives beside the Spark tests for their JVM.

Each engine reads the same three rows and commits them as the target's whole version: before
a run it knows no commit; after one, the commit marker names the run and its rows, the target
has the batch's columns; a batch conformed to a wider type commits that type; profiles and
the key of an offending value come from the batch's values.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adapters.files.pipelines import load_pipeline
from adapters.memory.ingestion import InMemoryIngestionEngine
from adapters.spark.ingestion import SparkIngestionEngine
from adapters.spark.session import SparkSessionProvider
from domain.dataset import RunId
from domain.ingestion.plan import plan
from domain.ingestion.spec import PipelineSpec
from domain.schema import Column, Schema
from domain.schema.types import DecimalType, IntegerType, StringType
from ports.ingestion import IngestionEngine

ROWS = [
    {"id": 1, "amount": Decimal("1.25"), "note": "a"},
    {"id": 2, "amount": Decimal("20.50"), "note": None},
    {"id": 3, "amount": Decimal("-3.00"), "note": "c"},
]
SCHEMA = Schema.from_columns(
    [
        Column("id", IntegerType(64)),
        Column("amount", DecimalType(10, 2)),
        Column("note", StringType()),
    ]
)


def _spec(tmp_path: Path) -> PipelineSpec:
    source = tmp_path / "orders.parquet"
    pq.write_table(
        pa.Table.from_pylist(
            ROWS,
            schema=pa.schema(
                [("id", pa.int64()), ("amount", pa.decimal128(10, 2)), ("note", pa.string())]
            ),
        ),
        source,
    )
    pipeline = tmp_path / "orders.toml"
    pipeline.write_text(
        f'name = "orders-contract"\nmode = "full"\n[source]\nkind = "parquet"\npath = "{source}"\n'
        f'[target]\nkind = "iceberg"\ntable = "sales.orders"\n'
        f'catalog = "sqlite:///{tmp_path / "catalog.db"}"\nlocation = "{tmp_path / "warehouse"}"\n',
        encoding="utf-8",
    )
    return load_pipeline(pipeline, home=tmp_path).spec


@pytest.fixture(params=["memory", "spark"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[IngestionEngine, PipelineSpec]]:
    spec = _spec(tmp_path)
    if request.param == "spark":
        sessions: SparkSessionProvider = request.getfixturevalue("sessions")
        yield SparkIngestionEngine(sessions), spec
    else:
        yield InMemoryIngestionEngine({spec.source.path or "": (ROWS, SCHEMA)}), spec


def _run(engine: IngestionEngine, spec: PipelineSpec, run: str) -> int:
    planned = plan(spec, None, probe=engine.probe(spec))
    batch = engine.read(spec, planned)
    return engine.write(spec, batch, planned, RunId(run)).rows_written


def test_before_a_run_the_target_holds_no_commit(
    engine: tuple[IngestionEngine, PipelineSpec],
) -> None:
    found, spec = engine
    assert found.access_problem(spec) is None
    assert (found.committed(spec), found.committed_version(spec), found.target_schema(spec)) == (
        None,
        None,
        None,
    )


def test_a_committed_run_is_the_targets_version_with_its_rows_and_columns(
    engine: tuple[IngestionEngine, PipelineSpec],
) -> None:
    found, spec = engine
    assert _run(found, spec, "run-1") == 3
    committed = found.committed(spec)
    assert committed is not None and (committed.run_id, committed.rows_written) == ("run-1", 3)
    assert found.committed_version(spec) == "run-1"
    schema = found.target_schema(spec)
    assert schema is not None and schema.names == ("id", "amount", "note")
    assert _run(found, spec, "run-2") == 3  # a full run replaces the version
    assert found.committed_version(spec) == "run-2"


def test_a_conformed_batch_commits_the_wider_type(
    engine: tuple[IngestionEngine, PipelineSpec],
) -> None:
    found, spec = engine
    planned = plan(spec, None, probe=found.probe(spec))
    batch = found.conform(found.read(spec, planned), {"amount": DecimalType(12, 4)})
    found.write(spec, batch, planned, RunId("run-wide"))
    schema = found.target_schema(spec)
    assert schema is not None and schema.column("amount") is not None
    assert schema.column("amount").type == DecimalType(12, 4)  # type: ignore[union-attr]


def test_profiles_and_the_key_of_a_value_come_from_the_batch(
    engine: tuple[IngestionEngine, PipelineSpec],
) -> None:
    found, spec = engine
    planned = plan(spec, None, probe=found.probe(spec))
    batch = found.read(spec, planned)
    profiles = found.profile(batch, ["amount", "note"])
    assert profiles["note"].nulls == 1 and profiles["amount"].nulls == 0
    assert Decimal(profiles["amount"].min_value or "nan") == Decimal("-3.00")
    assert Decimal(profiles["amount"].max_value or "nan") == Decimal("20.50")
    assert found.key_of(batch, "amount", "20.50", ["id"]) == "id=2"
    assert found.key_of(batch, "amount", "99.99", ["id"]) is None
