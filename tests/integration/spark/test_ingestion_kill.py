"""A run killed with SIGKILL at any point, then run again, ends with exactly the target and
state of one uninterrupted run.

Each point kills a real process: the app's DATAPLATFORM_KILL_AT makes it SIGKILL itself at
a named step; "writing" is killed from outside while Spark writes part files. The table of
points, what the killed run left and whether the rerun matched is printed (pytest -s).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from integration.spark.apps_cli import ingestion
from pyspark.sql import SparkSession

EXAMPLES = Path(__file__).parents[3] / "examples"
PIPELINE = EXAMPLES / "pipelines" / "orders-append.toml"
POINTS = [
    "read",
    "gated",
    "writing",
    "staged",
    "marked",
    "switched",
    "committed",
    "recorded",
    "stated",
]


def land(home: Path, batch: int) -> None:
    landing = home / "landing" / "orders"
    landing.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing)


def run_in_process(home: Path) -> dict[str, object]:
    result = ingestion(home, "run", str(PIPELINE), "--json")
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
    env = {**os.environ, "DATAPLATFORM_HOME": str(home), "PYTHONPATH": os.pathsep.join(sys.path)}
    env = {k: v for k, v in env.items() if not k.startswith("PEX")}
    if point != "writing":
        env["DATAPLATFORM_KILL_AT"] = point
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.ingestion.main", "run", str(PIPELINE)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
    land(clean, 1)
    run_in_process(clean)
    base = tmp_path_factory.mktemp("base")
    shutil.copytree(clean, base, symlinks=True, dirs_exist_ok=True)
    land(clean, 2)
    run_in_process(clean)
    land(base, 2)
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
