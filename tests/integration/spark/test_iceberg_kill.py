"""The kill matrix of an Iceberg target: a run SIGKILLed while Spark writes its files, after
it wrote them, just before the catalog commit, after the commit and after its records, then
run again, ends with exactly the table and state of one uninterrupted run; `ingestion
maintain` then finds the killed run's files, and nothing else, and removes them.

The table of points (pytest -s): what the killed run left, what the rerun wrote, whether the
table matched, and what maintenance found.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from integration.spark.apps_cli import ingestion, ingestion_process, land
from integration.spark.iceberg_tables import iceberg_pipeline, spark_read
from pyspark.sql import SparkSession

POINTS = ["writing", "staged", "committing", "switched", "recorded"]


def pipeline(home: Path) -> Path:
    """orders-append into the Iceberg table sales.orders of the home's catalog."""
    return iceberg_pipeline(home, "orders-append", "sales.orders")


def run(home: Path) -> dict[str, object]:
    result = ingestion(home, "run", str(pipeline(home)), "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def data_dirs(home: Path) -> set[str]:
    data = home / "iceberg" / "warehouse" / "sales" / "orders" / "data"
    return {p.name for p in data.iterdir()} if data.is_dir() else set()


def outcome(spark: SparkSession, home: Path) -> tuple[list[tuple[object, ...]], object]:
    """The table's rows and the state's watermark."""
    catalog = f"sqlite:///{home / 'iceberg' / 'catalog.db'}"
    rows = sorted(tuple(r) for r in spark_read(spark, catalog, "sales.orders").collect())
    state = ingestion(home, "state", "show", "orders-append", "--json")
    return rows, json.loads(state.stdout)[0]["watermark"]


def killed_run(home: Path, point: str) -> str:
    before = data_dirs(home)
    process = ingestion_process(home, pipeline(home), None if point == "writing" else point)
    if point == "writing":  # from outside, as soon as Spark has begun writing the run's files
        data = home / "iceberg" / "warehouse" / "sales" / "orders" / "data"
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if any(any((data / d).iterdir()) for d in data_dirs(home) - before):
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    code = process.wait(timeout=180)
    return f"exit {code}, {len(data_dirs(home) - before)} new run dir(s)"


@pytest.fixture(scope="module")
def uninterrupted(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[tuple[object, ...]], object]:
    """The table and state after batches 1 and 2, neither interrupted."""
    clean = tmp_path_factory.mktemp("clean")
    for batch in (1, 2):
        land(clean, "orders", batch)
        run(clean)
    return outcome(spark, clean)


@pytest.mark.parametrize("point", POINTS)
def test_an_iceberg_run_killed_at_any_point_reruns_to_the_uninterrupted_table(
    spark: SparkSession,
    tmp_path: Path,
    uninterrupted: tuple[list[tuple[object, ...]], object],
    point: str,
) -> None:
    # A table's files are named by absolute paths: each home is made by runs, not copied.
    home = tmp_path / "home"
    land(home, "orders", 1)
    run(home)
    land(home, "orders", 2)
    before = data_dirs(home)
    left = killed_run(home, point)
    assert left.startswith("exit -9"), f"{point}: the run was not killed ({left})"
    killed = data_dirs(home) - before
    rerun = run(home)
    assert outcome(spark, home) == uninterrupted
    # Maintenance finds the killed run's files when it never committed, and nothing else.
    spec = str(pipeline(home))
    found = ingestion(home, "maintain", spec, "--grace", "0s", "--dry-run", "--json")
    assert found.exit_code == 0, found.stderr
    plan = json.loads(found.stdout)
    committed = point in ("switched", "recorded")
    expected = set() if committed else killed
    assert set(plan["runs"]) == expected and plan["expired"] == []
    # Its files, and the manifests its commit wrote: nothing a snapshot reads.
    assert all(
        any(f"/data/{run_dir}/" in o for run_dir in killed) or o.endswith(".avro")
        for o in plan["orphans"]
    )
    assert committed or plan["orphans"] or point == "writing"
    removed = ingestion(home, "maintain", spec, "--grace", "0s")
    assert removed.exit_code == 0, removed.stderr
    assert data_dirs(home) == before | ({str(rerun["run_id"])} | (killed if committed else set()))
    assert outcome(spark, home) == uninterrupted
    print(
        f"| {point} | {left} | rerun wrote {rerun['rows_written']} | equal | maintenance "
        f"removed {len(plan['orphans'])} file(s) of {len(plan['runs'])} run(s) |"
    )
