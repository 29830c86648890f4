"""The README main job on a Spark standalone cluster (a master and two workers on loopback),
each app submitted with spark-submit and its PEX file as the Python environment, the metadata
store in PostgreSQL: executors on the workers run the tasks, and the target and the records
equal those of the same job run in local mode from the same PEX files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from integration.spark.cluster import (
    ROOT,
    StandaloneCluster,
    pex_file,
    spark_environment,
    standalone_cluster,
)
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from services import postgres_schema, postgres_url

EXAMPLES = ROOT / "examples"
PIPELINE = EXAMPLES / "pipelines" / "orders-append.toml"
# Fields that say when, how long or how the engine split the work, never what was read or
# written: they differ between any two runs (a plan's reasons name the earlier run's id
# and time and the engine's parallelism).
_CLOCK_FIELDS = {"phases", "started_at", "finished_at", "plan"}
_RUN_ID = re.compile(r"\b[0-9a-f]{32}\b")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    for app in ("ingestion", "recon", "metadata"):
        assert pex_file(app).is_file(), f"{pex_file(app)} missing: a runtime package of the test"
    started = time.monotonic()
    with standalone_cluster(tmp_path_factory.mktemp("cluster")) as running:
        print(f"cluster up in {time.monotonic() - started:.1f} s: {running.master_url}")
        yield running


def _main_job(run: Any, home: Path, url: str) -> dict[str, Any]:
    """The README main job's orders part: both batches, the recon, a metadata query. The
    metadata app needs no Spark: it runs from its PEX as is, on the same store."""
    env = spark_environment({"DATAPLATFORM_HOME": str(home), "DATAPLATFORM_METADATA_URL": url})

    def metadata(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(pex_file("metadata")), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
        )

    migrated = metadata("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    landing = home / "landing" / "orders"
    landing.mkdir(parents=True)
    reports = []
    for batch in (1, 2):
        shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing)
        result = run("ingestion", ["run", str(PIPELINE), "--json"])
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        reports.append(json.loads(result.stdout))
    recon = run("recon", ["run", "--pipeline", str(PIPELINE)])
    assert recon.returncode == 0, recon.stdout + recon.stderr[-3000:]
    query = metadata("query", "--limit", "1000", "--json")
    assert query.returncode == 0, query.stdout + query.stderr[-3000:]
    return {"reports": reports, "recon": recon.stdout, "records": json.loads(query.stdout)}


def _what(records: list[dict[str, Any]], home: Path) -> Counter[str]:
    """The records as facts: kind, subject and payload, without run ids, times and the home."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in sorted(value.items()) if k not in _CLOCK_FIELDS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    facts = []
    for record in records:
        if record["kind"] == "run_event" and record["payload"]["event"] == "running":
            continue  # a heartbeat says the run was alive a while, not what it did
        fact = {"kind": record["kind"], "subject": record["subject"], "payload": record["payload"]}
        text = json.dumps(strip(fact), sort_keys=True).replace(str(home), "<home>")
        text = _RUN_ID.sub("<run id>", text)
        facts.append(text)
    return Counter(facts)


def test_the_main_job_on_a_standalone_cluster_equals_local_mode(
    cluster: StandaloneCluster, spark: SparkSession, tmp_path: Path
) -> None:
    url = postgres_url()
    with postgres_schema(url) as on_cluster, postgres_schema(url) as on_local:
        cluster_home, local_home = tmp_path / "cluster", tmp_path / "local"
        started = time.monotonic()
        submitted = _main_job(
            lambda app, args: cluster.submit(
                app,
                args,
                {"DATAPLATFORM_HOME": str(cluster_home), "DATAPLATFORM_METADATA_URL": on_cluster},
                # Small data: a few shuffle partitions, not Spark's 200 (docs/runbooks/scaling.md).
                conf={"spark.sql.shuffle.partitions": "4"},
            ),
            cluster_home,
            on_cluster,
        )
        print(f"the main job on the cluster: {time.monotonic() - started:.1f} s")
        local = _main_job(
            lambda app, args: subprocess.run(
                [sys.executable, str(pex_file(app)), *args],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                stdin=subprocess.DEVNULL,
                env=spark_environment(
                    {"DATAPLATFORM_HOME": str(local_home), "DATAPLATFORM_METADATA_URL": on_local}
                ),
            ),
            local_home,
            on_local,
        )

    # Executors on the workers ran the tasks: the master lists the finished applications,
    # each worker the executors it ran for them, the event logs who finished each task.
    status = cluster.status()
    finished = {app["id"]: app["name"] for app in status["completedapps"]}
    assert len(finished) == 3, status["completedapps"]  # 2 ingestion runs and a recon
    executors_by_worker = {
        worker.name: {e["appid"] for e in cluster.worker_status(worker)["finishedexecutors"]}
        for worker in cluster.workers
    }
    for worker, apps in executors_by_worker.items():
        assert apps == set(finished), f"{worker} ran executors for {apps}, not every app"
    tasks = cluster.tasks_by_executor()
    print("tasks by executor:", json.dumps(tasks, indent=1))
    assert len(tasks) == 3, tasks
    for name, counts in tasks.items():
        assert "driver" not in counts and sum(counts.values()) > 0, (name, counts)

    # The same rows, reports and records as in local mode.
    assert [(r["rows_read"], r["rows_written"]) for r in submitted["reports"]] == [(6, 6), (7, 4)]
    assert [(r["rows_read"], r["rows_written"]) for r in local["reports"]] == [(6, 6), (7, 4)]
    target = Path("warehouse") / "orders-append"
    assertDataFrameEqual(
        spark.read.parquet(str(cluster_home / target)), spark.read.parquet(str(local_home / target))
    )
    assert "orders-append: passed" in submitted["recon"]
    assert _what(submitted["records"]["records"], cluster_home) == _what(
        local["records"]["records"], local_home
    )
