"""A Spark standalone cluster on loopback, started from the pyspark distribution, and the
apps submitted to it with spark-submit, their PEX files as the Python environment.

The master and workers run in their own process groups on ports chosen free; leaving the
context stops every one of them, whatever happened inside, and they die with the test
process if it is killed outright.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyspark

from apps.cli.spark import spark_home_paths

ROOT = Path(__file__).parents[3]
SPARK_HOME = Path(pyspark.__file__).parent
LAUNCHER = ROOT / "src" / "apps" / "spark_submit.py"


def spark_python_path() -> str:
    """What a PEX needs on its path for pyspark: the Spark installation's zips (a PEX ignores
    PYTHONPATH, where spark-submit puts them; PEX_EXTRA_SYS_PATH is read)."""
    return ":".join(spark_home_paths({"SPARK_HOME": str(SPARK_HOME)}))


def pex_file(app: str) -> Path:
    """The packaged app (`./pants package` puts it here; tests get it as a runtime package)."""
    return ROOT / f"src.apps.{app}" / f"{app}.pex"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def spark_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a Spark process: the test runner's PEX and app variables left out."""
    env = {
        k: v
        for k, v in os.environ.items()
        if "PEX" not in k and not k.startswith(("PYSPARK", "DATAPLATFORM")) and k != "PYTHONPATH"
    }
    env.update(SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP="127.0.0.1")
    env.update(extra or {})
    return env


@attrs.define
class Daemon:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    ui_port: int

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


@attrs.define
class StandaloneCluster:
    master_url: str
    master: Daemon
    workers: list[Daemon]
    event_log: Path
    work: Path

    def status(self) -> Any:
        """The master's status API (`/json/`): workers, running and completed applications."""
        return read_json(f"http://127.0.0.1:{self.master.ui_port}/json/")

    def worker_status(self, worker: Daemon) -> Any:
        return read_json(f"http://127.0.0.1:{worker.ui_port}/json/")

    def submit_command(
        self,
        app: str,
        args: Sequence[str],
        conf: Mapping[str, str],
        launcher: Path = LAUNCHER,
    ) -> list[str]:
        """The spark-submit line of ``app`` with ``args`` (as a person would type it);
        ``launcher`` is the script spark-submit runs with the PEX as its Python."""
        pex = pex_file(app)
        settings = {
            "spark.pyspark.driver.python": str(pex),
            "spark.pyspark.python": f"./{pex.name}",
            "spark.executorEnv.PEX_INTERPRETER": "1",
            "spark.executorEnv.PEX_ROOT": str(self.work / "pex-root"),
            # The executors' Python workers import pyspark from the workers' Spark.
            "spark.executorEnv.PEX_EXTRA_SYS_PATH": spark_python_path(),
            "spark.executor.memory": "512m",
            "spark.cores.max": str(len(self.workers)),
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": self.event_log.as_uri(),
            "spark.eventLog.compress": "false",
            **conf,
        }
        command = [
            str(SPARK_HOME / "bin" / "spark-submit"),
            "--master",
            self.master_url,
            "--deploy-mode",
            "client",
            "--name",
            f"{app} {' '.join(args[:1])}",
            "--files",
            str(pex),
        ]
        for key, value in settings.items():
            command += ["--conf", f"{key}={value}"]
        return [*command, str(launcher), *([app] if launcher == LAUNCHER else []), *args]

    def submit(
        self,
        app: str,
        args: Sequence[str],
        env: Mapping[str, str],
        conf: Mapping[str, str] | None = None,
        timeout: float = 600,
        launcher: Path = LAUNCHER,
    ) -> subprocess.CompletedProcess[str]:
        command = self.submit_command(app, args, conf or {}, launcher)
        print("$", shlex.join(command), flush=True)
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            env=spark_environment(
                {"PEX_INTERPRETER": "1", "PEX_ROOT": str(self.work / "pex-root"), **env}
            ),
        )

    def tasks_by_executor(self) -> dict[str, dict[str, int]]:
        """From the event logs: for each application, the tasks each executor finished
        (``failed``: attempts that did not, e.g. lost with their executor)."""
        found: dict[str, dict[str, int]] = {}
        for log in sorted(self.event_log.iterdir()):
            counts: dict[str, int] = {}
            name = log.name
            # Spark 4 writes an application's log as a folder of numbered parts.
            parts = sorted(log.glob("events_*")) if log.is_dir() else [log]
            lines = [line for part in parts for line in part.read_text().splitlines()]
            for line in lines:
                event = json.loads(line)
                if event.get("Event") == "SparkListenerApplicationStart":
                    name = event["App Name"]
                if event.get("Event") == "SparkListenerTaskEnd":
                    executor = event["Task Info"]["Executor ID"]
                    if event.get("Task End Reason", {}).get("Reason") != "Success":
                        executor = "failed"  # a task lost with its executor, run again
                    counts[executor] = counts.get(executor, 0) + 1
            found[f"{name} ({log.name})"] = counts
        return found


def _death_signal() -> Callable[[], None] | None:
    """Linux: a function that makes the calling (forked) process get SIGTERM when the test
    process dies, even by SIGKILL (where no `finally` runs); spark-class execs the JVM,
    which keeps the setting. Looked up before the fork: the child only calls it."""
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _daemon(name: str, args: list[str], work: Path, ui_port: int) -> Daemon:
    log = work / f"{name}.log"
    process = subprocess.Popen(
        [str(SPARK_HOME / "bin" / "spark-class"), *args],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=spark_environment({"SPARK_WORKER_DIR": str(work / name)}),
        start_new_session=True,
        preexec_fn=_death_signal(),
    )
    return Daemon(name, process, log, ui_port)


@contextlib.contextmanager
def standalone_cluster(work: Path, workers: int = 2) -> Iterator[StandaloneCluster]:
    """A master and ``workers`` workers (1 core, 1 GB each) on loopback, up and registered."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "events").mkdir(exist_ok=True)
    port, ui = free_port(), free_port()
    daemons: list[Daemon] = []
    try:
        master = _daemon(
            "master",
            [
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(ui),
            ],
            work,
            ui,
        )
        daemons.append(master)
        master_url = f"spark://127.0.0.1:{port}"
        for number in range(1, workers + 1):
            worker_ui = free_port()
            daemons.append(
                _daemon(
                    f"worker{number}",
                    [
                        "org.apache.spark.deploy.worker.Worker",
                        "--host",
                        "127.0.0.1",
                        "--cores",
                        "1",
                        "--memory",
                        "1g",
                        "--webui-port",
                        str(worker_ui),
                        "--work-dir",
                        str(work / f"worker{number}"),
                        master_url,
                    ],
                    work,
                    worker_ui,
                )
            )
        cluster = StandaloneCluster(master_url, master, daemons[1:], work / "events", work)
        deadline = time.monotonic() + 90
        while True:
            for daemon in daemons:
                if daemon.process.poll() is not None:
                    raise RuntimeError(
                        f"the Spark {daemon.name} stopped at start:\n{daemon.log.read_text()[-3000:]}"
                    )
            with contextlib.suppress(OSError, ValueError):
                alive = [w for w in cluster.status()["workers"] if w["state"] == "ALIVE"]
                if len(alive) == workers:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark cluster did not come up in 90 s; logs in {work}")
            time.sleep(0.5)
        yield cluster
    finally:
        for daemon in reversed(daemons):
            daemon.stop()
        print(f"cluster stopped ({len(daemons)} processes)", file=sys.stderr)
