"""The apps' command lines as the Spark tests drive them: in process, on an embedded store
in the given platform home."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from apps.ingestion.main import cli as ingestion_cli
from apps.metadata.main import cli as metadata_cli

ROOT = Path(__file__).parents[3]


def _invoke(
    cli: object, home: Path, args: tuple[str, ...], env: dict[str, str] | None = None
) -> Result:
    return CliRunner().invoke(
        cli,  # type: ignore[arg-type]
        ["--url", f"sqlite:///{home / 'metadata.db'}", *args],
        env={"DATAPLATFORM_HOME": str(home), **(env or {})},
    )


def ingestion(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return _invoke(ingestion_cli, home, args, env)


def metadata(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return _invoke(metadata_cli, home, args, env)


def recon(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    from apps.recon.main import cli as recon_cli

    return _invoke(recon_cli, home, args, env)


def ingestion_process(
    home: Path, spec: Path, point: str | None = None, *, said: bool = False, **env: str
) -> subprocess.Popen[bytes]:
    """`ingestion run` started in a process of its own (SIGKILLing itself at ``point``,
    when given), its output discarded (stderr kept in a pipe when ``said``)."""
    environ = {
        **os.environ,
        **env,
        "DATAPLATFORM_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    environ = {k: v for k, v in environ.items() if not k.startswith("PEX")}
    if point is not None:
        environ["DATAPLATFORM_KILL_AT"] = point
    return subprocess.Popen(
        [sys.executable, "-m", "apps.ingestion.main", "run", str(spec)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if said else subprocess.DEVNULL,
    )


def killed_ingestion(home: Path, spec: Path, point: str, **env: str) -> int:
    """`ingestion run` in a process of its own, SIGKILLed at ``point``; its exit code."""
    return ingestion_process(home, spec, point, said=False, **env).wait(timeout=300)


def land(home: Path, dataset: str, batch: int) -> None:
    """An example batch (examples/ingestion/DATASET-batchN.jsonl) in the home's landing
    area, where the example pipelines read."""
    landing = home / "landing" / dataset
    landing.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "examples" / "ingestion" / f"{dataset}-batch{batch}.jsonl", landing)


def said(result: Result) -> list[str]:
    """The lines of stderr but the plain progress lines (``progress: ...``) a run writes
    when stderr is not a terminal."""
    return [
        line for line in result.stderr.strip().splitlines() if not line.startswith("progress: ")
    ]
