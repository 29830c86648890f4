"""The three packaged apps as a machine with only Python runs them: `python3.11 X.pex --help`
with nothing else on PATH and no other environment (pyspark is not in the PEX files: the
cluster's Spark, or the environment, brings it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from e2e.pex import ROOT

from services import unavailable

APPS = {
    "ingestion": "Load data with pipelines",
    "recon": "Reconcile a source with a target",
    "metadata": "Record, query and check what every run read",
}
# Thin: the apps and their libraries, not pyspark (~450 MB). Each carries pyarrow (~55 MB
# packed: pyiceberg reads the footers of the files it commits to an Iceberg table and lists
# the table's storage; recon and harvest read Iceberg tables): ~78 MB each.
MAX_BYTES = 100 * 1024 * 1024


def _run(
    pex: Path, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["python3.11", str(pex), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def _only_python(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH holds python3.11 and nothing else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    interpreter = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (bin_dir / "python3.11").symlink_to(interpreter)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path), "PEX_ROOT": str(tmp_path / "pex")}


@pytest.mark.parametrize("app", sorted(APPS))
def test_each_app_answers_help_with_only_python(app: str, tmp_path: Path) -> None:
    pex = ROOT / f"src.apps.{app}" / f"{app}.pex"
    size = pex.stat().st_size
    print(f"{pex.name}: {size / 1024 / 1024:.1f} MiB")
    assert size < MAX_BYTES, f"{pex.name} weighs {size} bytes: did pyspark get packed?"
    with zipfile.ZipFile(pex) as packed:
        assert not any(
            "pyspark" in name.split("/")[1]
            for name in packed.namelist()
            if name.startswith(".deps/")
        )
    env = _only_python(tmp_path)
    result = _run(pex, ["--help"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ") and APPS[app] in result.stdout.replace("\n", " ")
    assert result.stderr == "", result.stderr
    # --help opens nothing: no platform home appears in the (empty) HOME it ran with.
    assert not (tmp_path / ".dataplatform").exists(), sorted(p.name for p in tmp_path.iterdir())


def test_the_fat_ingestion_pex_runs_a_pipeline_with_only_python_and_java(tmp_path: Path) -> None:
    """The fat variant carries pyspark: a pipeline runs in local mode on a machine with
    python3.11, a JDK and the usual shell tools only (no pyspark installed, no SPARK_HOME);
    without the JDK it says so in one line."""
    pex = ROOT / "src.apps.ingestion" / "ingestion-fat.pex"
    print(f"{pex.name}: {pex.stat().st_size / 1024 / 1024:.0f} MiB")
    env = _only_python(tmp_path)
    java = os.environ.get("JAVA_HOME") or (
        str(Path(found).resolve().parents[1]) if (found := shutil.which("java")) else None
    )
    if java is None:
        unavailable("Java", "the fat PEX's Spark needs a JDK 17 (set JAVA_HOME)")
    # Spark's launcher scripts need bash and coreutils: a machine's /usr/bin and /bin.
    env.update(PATH=f"{env['PATH']}:/usr/bin:/bin", DATAPLATFORM_HOME=str(tmp_path / "home"))
    pipeline = ROOT / "examples" / "pipelines" / "orders-full.toml"
    no_java = _run(
        pex, ["run", str(pipeline)], {**env, "JAVA_HOME": str(tmp_path / "no-jdk")}, tmp_path
    )
    assert (
        no_java.returncode == 1 and "Spark could not start its JVM" in no_java.stderr
    ), no_java.stderr[-2000:]
    env["JAVA_HOME"] = str(java)
    result = _run(pex, ["run", str(pipeline), "--json"], env, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["strategy"] == "full" and report["rows_written"] > 0, report
