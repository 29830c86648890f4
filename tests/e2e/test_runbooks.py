"""Every `bash` block of the runbooks (docs/runbooks/*.md) runs as written, in order, page by
page, with the packaged apps as the commands `metadata`, `ingestion` and `recon`, on a fresh
platform home and a fresh PostgreSQL schema. (The standalone spark-submit block, fenced
`bash cluster`, runs against a real cluster in tests/integration/spark/test_cluster.py.)"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pyspark
import pytest
from e2e.pex import ROOT
from runbooks import RUNBOOKS, blocks, run
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services import postgres_url

PAGES = ["deploy", "scaling", "alerting", "replay", "store", "tokens"]


def _commands(tmp_path: Path) -> Path:
    """A folder with `metadata`, `ingestion` and `recon`: the PEX files, as users alias them."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for app in ("metadata", "ingestion", "recon"):
        pex = ROOT / f"src.apps.{app}" / f"{app}.pex"
        script = folder / app
        script.write_text(f'#!/bin/sh\nexec python3.11 "{pex}" "$@"\n')
        script.chmod(0o755)
    return folder


def test_every_page_has_blocks_to_run() -> None:
    assert sorted(p.stem for p in RUNBOOKS.glob("*.md")) == sorted([*PAGES, "README"])
    for page in PAGES:
        assert blocks(page), f"{page}.md has no bash block"


def _run_page(page: str, tmp_path: Path, folder: Path = RUNBOOKS) -> str:
    """Run ``page``'s bash blocks as written (a fresh home, a fresh PostgreSQL schema as
    STORE_SCHEMA and SHOP_SCHEMA); its output, or the failure with what it printed."""
    url = make_url(postgres_url())
    schema = f"runbook_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if "PEX" not in k and "DATAPLATFORM" not in k}
    interpreter = Path(getattr(sys, "_base_executable", sys.executable)).resolve().parent
    env.update(
        PATH=os.pathsep.join([str(_commands(tmp_path)), str(interpreter), env.get("PATH", "")]),
        DATAPLATFORM_HOME=str(home),
        PG=libpq,
        STORE_SCHEMA=schema,
        SHOP_SCHEMA=schema,
        # The apps find pyspark in the Spark installation, as on a cluster.
        SPARK_HOME=str(Path(pyspark.__file__).parent),
    )
    try:
        result = run(blocks(page, folder=folder), env, ROOT)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    print(result.stdout)
    assert result.returncode == 0, f"{page}.md:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


@pytest.mark.parametrize("page", PAGES)
def test_the_runbook_runs_as_written(page: str, tmp_path: Path) -> None:
    _run_page(page, tmp_path)


def test_a_newcomers_first_pipeline_runs_as_written_first_try(tmp_path: Path) -> None:
    """docs/first-pipeline.md: CSV with declared types -> PostgreSQL SCD2 -> recon, from
    the page alone; the table is one dataset holding the loads and the recon."""
    said = _run_page("first-pipeline", tmp_path, ROOT / "docs")
    assert "one dataset: postgres://" in said
    assert "FAIL" not in said, said[-3000:]
    assert said.count("succeeded") >= 1 and "recon_result" in said
