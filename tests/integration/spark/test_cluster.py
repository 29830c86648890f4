"""The README main job on a Spark standalone cluster (a master and two workers on loopback),
each app submitted with spark-submit and its PEX file as the Python environment, the metadata
store in PostgreSQL: executors on the workers run the tasks, and the target and the records
equal those of the same job run in local mode from the same PEX files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import runbooks
from integration.spark.cluster import (
    ROOT,
    Daemon,
    StandaloneCluster,
    free_port,
    pex_file,
    read_json,
    spark_environment,
    spark_python_path,
    standalone_cluster,
)
from integration.spark.iceberg_tables import home_catalog, spark_read
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from services import postgres_schema, postgres_url

EXAMPLES = ROOT / "examples"
PIPELINE = EXAMPLES / "pipelines" / "orders-append.toml"
# Fields that say when, how long or how the engine split the work, never what was read or
# written: they differ between any two runs (a plan's reasons name the earlier run's id
# and time and the engine's parallelism).
# What differs from run to run whatever the engine: times, and an Iceberg snapshot's id.
_CLOCK_FIELDS = {"phases", "started_at", "finished_at", "plan", "snapshot_id"}
_RUN_ID = re.compile(r"\b[0-9a-f]{32}\b")
_SNAPSHOT = re.compile(r"snapshot -?\d+")


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
        text = _SNAPSHOT.sub("snapshot <id>", _RUN_ID.sub("<run id>", text))
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
    # The Iceberg table the workers' executors wrote and the driver committed, as in local.
    assertDataFrameEqual(
        spark_read(spark, home_catalog(cluster_home), "sales.orders"),
        spark_read(spark, home_catalog(local_home), "sales.orders"),
    )
    assert "orders-append: passed" in submitted["recon"]
    assert _what(submitted["records"]["records"], cluster_home) == _what(
        local["records"]["records"], local_home
    )


def test_python_on_the_executors_runs_inside_the_pex(cluster: StandaloneCluster) -> None:
    """A Python function on the executors runs in the PEX's own environment (unpacked under
    the executors' PEX_ROOT), pyspark taken from the workers' Spark."""
    script = Path(__file__).parent / "executor_python.py"
    result = cluster.submit(
        "ingestion", [], {"PEX_EXTRA_SYS_PATH": spark_python_path()}, launcher=script
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["sum"] == sum(n * n for n in range(100))
    assert answer["pythons"] and all(
        str(cluster.work / "pex-root" / "venvs") in python for python in answer["pythons"]
    ), answer
    tasks = [
        counts for name, counts in cluster.tasks_by_executor().items() if "executor-python" in name
    ]
    assert tasks and "driver" not in tasks[-1] and sum(tasks[-1].values()) == 4, tasks


def test_the_deploy_runbooks_spark_submit_line(cluster: StandaloneCluster, tmp_path: Path) -> None:
    """docs/runbooks/deploy.md's standalone block, as written, against the cluster."""
    (block,) = runbooks.blocks("deploy", fence="bash cluster")
    dist = ROOT / "dist"  # where `./pants package` puts the PEX files; here, the test's
    for app in ("ingestion", "recon", "metadata"):
        (dist / f"src.apps.{app}").mkdir(parents=True, exist_ok=True)
        link = dist / f"src.apps.{app}" / f"{app}.pex"
        if not link.exists():
            link.symlink_to(pex_file(app))
    home = tmp_path / "home"
    (home / "landing" / "orders").mkdir(parents=True)
    shutil.copy(EXAMPLES / "ingestion" / "orders-batch1.jsonl", home / "landing" / "orders")
    env = spark_environment(
        {
            "SPARK_MASTER_URL": cluster.master_url,
            "DATAPLATFORM_HOME": str(home),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        }
    )
    result = runbooks.run([block], env, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "6 row(s) read, 6 written" in result.stdout, result.stdout
    names = [app["name"] for app in cluster.status()["completedapps"]]
    assert names.count("ingestion-orders-append") >= 3, names  # the main job's two, and this


def _landing(home: Path, files: int, rows: int) -> int:
    """Orders in ``files`` JSON Lines files of ``rows`` each; the number of orders."""
    landing = home / "landing" / "orders"
    landing.mkdir(parents=True)
    for number in range(files):
        lines = []
        for row in range(rows):
            order = number * rows + row + 1
            lines.append(
                json.dumps(
                    {
                        "order_id": order,
                        "customer_id": order % 97,
                        "amount": f"{order % 1000}.{order % 100:02d}",
                        "status": "new",
                        "updated_at": f"2024-05-01T{6 + row % 3:02d}:00:00Z",
                    }
                )
            )
        (landing / f"orders-{number:03d}.jsonl").write_text("\n".join(lines) + "\n")
    return files * rows


def _busy_executor(
    cluster: StandaloneCluster, worker: Daemon, before: set[str], ui_port: int
) -> str | None:
    """The id of the run's executor on ``worker`` once it is running a task, else None."""
    mine = [e for e in cluster.worker_status(worker)["executors"] if e["appid"] not in before]
    if not mine:
        return None
    executor, app = str(mine[0]["id"]), mine[0]["appid"]
    try:
        found = read_json(f"http://127.0.0.1:{ui_port}/api/v1/applications/{app}/executors")
    except (OSError, ValueError):  # the driver's UI is not up yet ("Spark is starting up")
        return None
    active = [e for e in found if e["id"] == executor and e["activeTasks"] > 0]
    return executor if active else None


def test_a_worker_killed_during_an_ingestion_run(
    cluster: StandaloneCluster, spark: SparkSession, tmp_path: Path
) -> None:
    """SIGKILL one worker (and its executor) while the append run's tasks run: the run still
    completes on the other (Spark runs the lost tasks again) or fails cleanly; a rerun then
    leaves exactly the source in the target, each order once."""
    home = tmp_path / "home"
    orders = _landing(home, files=60, rows=2000)
    env = {"DATAPLATFORM_HOME": str(home)}
    # Many small tasks, so the run is under way on both executors when the worker dies; the
    # driver's REST API on a known port says when the victim's executor is running tasks.
    ui_port = free_port()
    conf = {
        "spark.sql.files.maxPartitionBytes": "65536",
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "true",
        "spark.ui.port": str(ui_port),
    }
    args = ["run", str(PIPELINE), "--json"]
    command = cluster.submit_command("ingestion", args, conf)
    print("$", " ".join(command))
    victim = cluster.workers[-1]
    before = {e["appid"] for e in cluster.worker_status(victim)["finishedexecutors"]}
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=spark_environment(
            {"PEX_INTERPRETER": "1", "PEX_ROOT": str(cluster.work / "pex-root"), **env}
        ),
    )
    try:
        deadline = time.monotonic() + 120
        busy = None
        while busy is None:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the worker's executor ran no task in 120 s"
            busy = _busy_executor(cluster, victim, before, ui_port)
            time.sleep(0.2)
        assert process.poll() is None, "the run ended before the worker could be killed"
        killed_at = time.monotonic() - started
        victim.stop(signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    print(f"worker killed {killed_at:.1f} s into the run; the run exited {process.returncode}")
    tasks = cluster.tasks_by_executor()
    run = [counts for name, counts in tasks.items() if "ingestion" in name][-1]
    print(f"the run's tasks by executor (executor {busy} died with the worker):", run)
    # The killed executor was running tasks: what it finished counts, what it held failed.
    assert run.get(str(busy), 0) + run.get("failed", 0) > 0, run
    if process.returncode == 0:
        report = json.loads(stdout)
        assert report["rows_written"] == orders, report
        print("the run completed on the surviving worker:", report["rows_written"], "rows")
    else:
        # A clean failure: one line, no traceback, nothing committed.
        assert "Traceback" not in stderr and process.returncode in (1, 2), stderr[-3000:]
        print("the run failed cleanly:", stderr.strip().splitlines()[-1])
    assert sum(run.values()) > 0  # the event log of the run holds its tasks

    rerun = cluster.submit("ingestion", args, env, conf=conf)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    again = json.loads(rerun.stdout)
    print("the rerun:", again["rows_read"], "read,", again["rows_written"], "written")
    assert again["rows_written"] == (0 if process.returncode == 0 else orders)
    # Exactly the source: every order once.
    target = spark_read(spark, home_catalog(home), "sales.orders")
    counted = target.agg(F.count("*").alias("rows"), F.countDistinct("order_id").alias("orders"))
    row = counted.first()
    assert row is not None and row.asDict() == {"rows": orders, "orders": orders}
