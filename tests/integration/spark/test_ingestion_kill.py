"""A run killed with SIGKILL at any point, then run again, ends with exactly the target and
state of one uninterrupted run.

Each point kills a real process: the app's DATAPLATFORM_KILL_AT makes it SIGKILL itself at
a named step; "writing" is killed from outside while Spark writes part files. The table of
points, what the killed run left and whether the rerun matched is printed (pytest -s).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from integration.spark.apps_cli import ingestion, ingestion_process, killed_ingestion, land
from integration.spark.iceberg_tables import legacy_parquet_targets, parquet_variant
from integration.spark.postgres_targets import staging_tables
from pyspark.sql import SparkSession

EXAMPLES = Path(__file__).parents[3] / "examples"
PIPELINE = EXAMPLES / "pipelines" / "orders-append.toml"
# The versioned Parquet layout is deprecated (Iceberg's matrix: test_iceberg_kill.py): its
# points that leave distinct states: mid-write, marked but not switched, switched but not
# recorded, and all done but the state.
POINTS = ["writing", "marked", "switched", "recorded"]


def parquet_pipeline(home: Path) -> Path:
    """orders-append into a versioned Parquet directory (the deprecated layout, still
    written by pipelines that have not migrated; Iceberg's matrix: test_iceberg_kill.py)."""
    return parquet_variant(PIPELINE, home)


def run_in_process(home: Path) -> dict[str, object]:
    result = ingestion(home, "run", str(parquet_pipeline(home)), "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def outcome(spark: SparkSession, home: Path) -> tuple[list[tuple[object, ...]], object]:
    """The target's rows and the state's watermark."""
    target = home / "warehouse" / "orders-append"
    rows = sorted(tuple(r) for r in spark.read.parquet(str(target)).collect())
    state = ingestion(home, "state", "show", "orders-append", "--json")
    return rows, json.loads(state.stdout)[0]["watermark"]


def killed_run(home: Path, point: str) -> str:
    """Run in a process of its own and SIGKILL it at ``point``; what it left behind."""
    process = ingestion_process(home, parquet_pipeline(home), None if point == "writing" else point)
    if point == "writing":  # from outside, as soon as Spark has begun writing the version
        versions = home / "warehouse" / ".orders-append.versions"
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if any(
                v.is_dir() and not (v / "_COMMITTED.json").exists() and any(v.iterdir())
                for v in versions.iterdir()
            ):
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    code = process.wait(timeout=180)
    target = home / "warehouse" / "orders-append"
    return (
        f"exit {code}, target at {os.readlink(target)[-8:]}"
        if target.is_symlink()
        else f"exit {code}"
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a clean home after batch 1 and 2, a home after batch 1 with batch 2 landed)."""
    clean = tmp_path_factory.mktemp("clean")
    land(clean, "orders", 1)
    with legacy_parquet_targets():  # the target made before (its later runs still write it)
        run_in_process(clean)
    base = tmp_path_factory.mktemp("base")
    shutil.copytree(clean, base, symlinks=True, dirs_exist_ok=True)
    land(clean, "orders", 2)
    run_in_process(clean)
    land(base, "orders", 2)
    return clean, base


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_any_point_reruns_to_the_uninterrupted_result(
    spark: SparkSession, tmp_path: Path, prepared: tuple[Path, Path], point: str
) -> None:
    clean, base = prepared
    home = tmp_path / "home"
    shutil.copytree(base, home, symlinks=True)
    left = killed_run(home, point)
    assert left.startswith("exit -9"), f"{point}: the run was not killed ({left})"
    rerun = run_in_process(home)
    expected = outcome(spark, clean)
    found = outcome(spark, home)
    print(
        f"| {point} | {left} | rerun wrote {rerun['rows_written']} | {'equal' if found == expected else 'DIFFERENT'} |"
    )
    assert found == expected


# -- a PostgreSQL target: staging tables, then one apply transaction ---------------------

DATABASE_POINTS = ["read", "gated", "staged", "applied", "committed", "recorded", "stated"]


def _database_pipeline(directory: Path, url: str, schema: str) -> Path:
    """orders-append with its target in ``schema`` of PostgreSQL."""
    text_ = PIPELINE.read_text()
    head, _, rest = text_.partition("[target]")
    _, _, tail = rest.partition("[watermark]")
    spec = directory / f"orders-append-{schema}.toml"
    spec.write_text(
        f'{head}[target]\nkind = "postgresql"\nurl = "{url}"\ntable = "{schema}.orders"\n\n'
        f"[watermark]{tail}"
    )
    return spec


def _database_outcome(home: Path, url: str, schema: str) -> tuple[list[tuple[object, ...]], object]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = sorted(
            tuple(r) for r in connection.execute(text(f'SELECT * FROM "{schema}".orders'))
        )
    engine.dispose()
    assert (
        staging_tables(url.replace("postgresql://", "postgresql+psycopg://"), schema) == 0
    ), "staging tables were left behind"
    state = ingestion(home, "state", "show", "orders-append", "--json")
    return rows, json.loads(state.stdout)[0]["watermark"]


@pytest.fixture(scope="module")
def postgres_schemas() -> Iterator[tuple[str, Callable[[], str]]]:
    """(libpq URL, a factory of fresh schemas dropped after the module)."""
    from services import fresh_schema

    with contextlib.ExitStack() as made:

        def fresh() -> str:
            return made.enter_context(fresh_schema()).name

        yield made.enter_context(fresh_schema()).libpq(), fresh


def _run_file(home: Path, spec: Path) -> dict[str, object]:
    result = ingestion(home, "run", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("point", DATABASE_POINTS)
def test_a_run_into_postgresql_killed_at_any_point_reruns_to_the_uninterrupted_result(
    postgresql_jdbc: None,
    postgres_schemas: tuple[str, Callable[[], str]],
    tmp_path: Path,
    point: str,
) -> None:
    url, fresh = postgres_schemas
    outcomes = []
    for killed in (False, True):
        schema = fresh()
        home = tmp_path / f"home-{killed}"
        spec = _database_pipeline(tmp_path, url, schema)
        land(home, "orders", 1)
        _run_file(home, spec)
        land(home, "orders", 2)
        left = "not killed"
        if killed:
            left = _killed_file_run(home, spec, point)
            assert left.startswith("exit -9"), f"{point}: the run was not killed ({left})"
        rerun = _run_file(home, spec)
        outcomes.append(_database_outcome(home, url, schema))
    print(
        f"| postgresql {point} | {left} | rerun wrote {rerun['rows_written']} | "
        f"{'equal' if outcomes[0] == outcomes[1] else 'DIFFERENT'} |"
    )
    assert outcomes[1] == outcomes[0]


def _killed_file_run(home: Path, spec: Path, point: str) -> str:
    return f"exit {killed_ingestion(home, spec, point)}"
