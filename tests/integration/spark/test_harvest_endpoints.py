"""`metadata harvest ENDPOINTS.toml` through Spark, on the example datasets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from pyspark.sql import SparkSession

from apps.metadata.main import cli

DATASETS = Path(__file__).parents[3] / "examples" / "datasets"


def harvest(store: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--url", store, "harvest", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_harvest_the_example_datasets_then_again(spark: SparkSession, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'metadata.db'}"
    code, out, err = harvest(store, str(DATASETS / "endpoints.toml"), "--profile", "--json")
    assert code == 0, err
    found = {
        d["dataset"]: (d["columns"], d["rows"], d["drift"]) for d in json.loads(out)["datasets"]
    }
    assert found == {
        "examples::orders": (5, 1000, "new"),
        "examples::customers": (4, 50, "new"),
        "examples::events": (3, 200, "new"),
    }
    code, out, _ = harvest(store, str(DATASETS / "endpoints.toml"), "--json")
    assert {d["drift"] for d in json.loads(out)["datasets"]} == {"unchanged"}
    assert spark.range(1).count() == 1  # the test session is still alive


def test_a_broken_dataset_is_reported_and_the_rest_harvest(
    spark: SparkSession, tmp_path: Path
) -> None:
    copy = tmp_path / "datasets"
    shutil.copytree(DATASETS, copy)
    (copy / "events.json").unlink()
    code, out, _ = harvest(f"sqlite:///{tmp_path / 'm.db'}", str(copy / "endpoints.toml"), "--json")
    assert code == 1
    outcomes = {d["dataset"]: d for d in json.loads(out)["datasets"]}
    assert "events.json" in outcomes["examples::events"]["error"]
    assert (
        outcomes["examples::orders"]["error"] is None
        and outcomes["examples::customers"]["error"] is None
    )


def test_endpoint_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "endpoints.toml"
    bad.write_text('[[datasets]]\nname = "x"\nkind = "parket"\npath = "x"\n')
    code, _, err = harvest(f"sqlite:///{tmp_path / 'm.db'}", str(bad))
    assert code == 2
    assert str(bad) in err and "kind" in err and "parquet, csv, json, jdbc" in err


def _profile(store: str, subject: str) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["--url", store, "latest", "dataset_profile", subject, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    return {c["name"]: c for c in json.loads(result.stdout)["payload"]["columns"]}


def test_no_distinct_profiles_leave_the_distinct_counts_out(
    spark: SparkSession, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'metadata.db'}"
    endpoints = str(DATASETS / "endpoints.toml")
    assert harvest(store, endpoints, "--profile", "--json")[0] == 0
    full = _profile(store, "examples::orders")  # Parquet: counts and extremes from footers
    assert all(c["approx_distinct"] is not None for c in full.values())
    code, _, err = harvest(store, endpoints, "--profile", "--no-distinct", "--json")
    assert code == 0, err
    fast = _profile(store, "examples::orders")
    assert all(c["approx_distinct"] is None for c in fast.values())
    for name, column in full.items():  # the rest is the same
        assert {**column, "approx_distinct": None} == fast[name]
