"""Every `bash` block of the runbooks (docs/runbooks/*.md) runs as written, in order, page by
page, with the packaged apps as the commands `metadata`, `ingestion` and `recon`, on a fresh
platform home and a fresh PostgreSQL schema. (The standalone spark-submit block, fenced
`bash cluster`, runs against a real cluster in tests/integration/spark/test_cluster.py.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyspark
import pytest
from browser import arrived, artifacts, chromium, console_errors, screenshots, sign_in
from e2e.pex import ROOT
from runbooks import RUNBOOKS, blocks, run
from selenium.webdriver.common.by import By

from contract.stores import live_service
from services import fresh_schema

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


def _run_page(
    page: str, tmp_path: Path, folder: Path = RUNBOOKS, extra: dict[str, str] | None = None
) -> str:
    """Run ``page``'s bash blocks as written (a fresh home, a fresh PostgreSQL schema as
    STORE_SCHEMA and SHOP_SCHEMA); its output, or the failure with what it printed."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if "PEX" not in k and "DATAPLATFORM" not in k}
    interpreter = Path(getattr(sys, "_base_executable", sys.executable)).resolve().parent
    with fresh_schema() as schema:
        env.update(
            PATH=os.pathsep.join([str(_commands(tmp_path)), str(interpreter), env.get("PATH", "")]),
            DATAPLATFORM_HOME=str(home),
            PG=schema.libpq(),
            STORE_SCHEMA=schema.name,
            SHOP_SCHEMA=schema.name,
            # The apps find pyspark in the Spark installation, as on a cluster.
            SPARK_HOME=str(Path(pyspark.__file__).parent),
            **(extra or {}),
        )
        result = run(blocks(page, folder=folder), env, ROOT)
    print(result.stdout)
    assert result.returncode == 0, f"{page}.md:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


@pytest.mark.parametrize("page", PAGES)
def test_the_runbook_runs_as_written(page: str, tmp_path: Path) -> None:
    _run_page(page, tmp_path)


def test_a_newcomers_first_pipeline_runs_as_written_first_try(tmp_path: Path) -> None:
    """docs/first-pipeline.md: CSV with declared types -> PostgreSQL SCD2 -> recon, from
    the page alone, against `metadata serve`; the table is one dataset on the dashboard,
    its loads and its recon on one page (screenshots at a desktop's and a phone's width)."""
    with live_service() as service, chromium() as browser:
        said = _run_page(
            "first-pipeline",
            tmp_path,
            ROOT / "docs",
            {
                "DATAPLATFORM_METADATA_URL": service.base_url,
                "DATAPLATFORM_METADATA_TOKEN": service.token,
            },
        )
        assert "one dataset: postgres://" in said
        assert "FAIL" not in said, said[-3000:]
        dataset = said.split("one dataset: ", 1)[1].split()[0]
        folder = artifacts(tmp_path)
        sign_in(browser, service.base_url, service.token)
        rows = [
            r
            for r in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
            if ".products" in r.find_element(By.CSS_SELECTOR, "td[data-label=Dataset]").text
        ]
        assert len(rows) == 1, [r.text for r in rows]  # one table, one row
        assert "passed" in rows[0].find_element(By.CSS_SELECTOR, "td[data-label='Last recon']").text
        screenshots(browser, folder, "first-pipeline-datasets")
        rows[0].find_element(By.LINK_TEXT, dataset).click()
        arrived(browser, "/ui/datasets/postgres")
        assert browser.find_element(By.TAG_NAME, "h1").text == dataset
        volumes = browser.find_element(By.XPATH, "//section[h2[starts-with(., 'Rows written')]]")
        assert "Rows written per run (2)" in volumes.text
        checks = browser.find_elements(By.XPATH, "//tr[td[@data-label='Check']]")
        assert {c.find_element(By.CSS_SELECTOR, "td[data-label=Check]").text for c in checks} >= {
            "row_count",
            "key_diff",
        }
        screenshots(browser, folder, "first-pipeline-dataset")
        assert console_errors(browser) == []
