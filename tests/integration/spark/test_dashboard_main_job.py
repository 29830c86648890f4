"""The dashboard after the README main job: the main job's steps (./main-job) run against
`metadata serve` by URL, then headless Chromium reads the pages a person would: the
datasets list, the orders target's page with the planted drift (batch 3's new column) and
the planted recon difference (the ledger's order 3), at a desktop's and a phone's width.
The screenshots stay in DATAPLATFORM_ARTIFACTS/dashboard (./test: dist/artifacts)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import quote

from browser import arrived, artifacts, chromium, console_errors, screenshots, sign_in
from click.testing import CliRunner, Result
from pyspark.sql import SparkSession
from selenium.webdriver.common.by import By

from apps.ingestion.main import cli as ingestion_cli
from apps.recon.main import cli as recon_cli
from contract.stores import HttpHarness, live_service

EXAMPLES = Path(__file__).parents[3] / "examples"
PIPELINES = EXAMPLES / "pipelines"


def _run(cli: object, service: HttpHarness, home: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(
        cli,  # type: ignore[arg-type]
        ["--url", service.base_url, *args],
        env={"DATAPLATFORM_HOME": str(home), "DATAPLATFORM_METADATA_TOKEN": service.token},
    )
    assert result.exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def main_job(service: HttpHarness, home: Path) -> None:
    """What ./main-job runs, in its order, with the store behind the service."""
    landing = home / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "customers").mkdir(parents=True)
    for batch in (1, 2):
        shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing / "orders")
        _run(ingestion_cli, service, home, "run", str(PIPELINES / "orders-append.toml"))
    for batch in (1, 2):
        shutil.copy(EXAMPLES / "ingestion" / f"customers-batch{batch}.jsonl", landing / "customers")
        for mode in ("scd1", "scd2"):
            _run(ingestion_cli, service, home, "run", str(PIPELINES / f"customers-{mode}.toml"))
    _run(recon_cli, service, home, "run", "--pipeline", str(PIPELINES / "orders-append.toml"))
    _run(recon_cli, service, home, "run", str(EXAMPLES / "recon" / "orders-ledger.toml"), code=1)
    shutil.copy(EXAMPLES / "ingestion" / "orders-batch3.jsonl", landing / "orders")
    _run(ingestion_cli, service, home, "run", str(PIPELINES / "orders-append.toml"))


def test_the_dashboard_shows_the_main_jobs_planted_drift_and_difference(
    spark: SparkSession, tmp_path: Path
) -> None:
    assert spark.range(1).count() == 1  # the batch's one session is the one the apps get
    with live_service() as service, chromium() as browser:
        started = time.monotonic()
        main_job(service, tmp_path)
        loaded = time.monotonic() - started
        target = f"file::{tmp_path / 'warehouse' / 'orders-append'}"
        folder = artifacts(tmp_path)

        browsing = time.monotonic()
        sign_in(browser, service.base_url, service.token)
        rows = {
            r.find_element(By.CSS_SELECTOR, "td[data-label=Dataset]").text: r
            for r in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
        }
        assert target in rows, list(rows)
        orders = rows[target]
        assert "failed" in orders.find_element(By.CSS_SELECTOR, "td[data-label='Last recon']").text
        assert (
            "allowed, 1 change"
            in orders.find_element(By.CSS_SELECTOR, "td[data-label='Last drift']").text
        )
        assert "succeeded" in orders.find_element(By.CSS_SELECTOR, "td[data-label='Last run']").text
        screenshots(browser, folder, "main-job-datasets")

        orders.find_element(By.LINK_TEXT, target).click()
        arrived(browser, "/ui/datasets/file")
        assert browser.find_element(By.TAG_NAME, "h1").text == target
        # The planted drift: batch 3 brings the column channel; the policy lets the target
        # evolve, so two schema versions, the later adding channel, and the allowed verdict.
        versions = browser.find_element(
            By.XPATH, "//section[h2[starts-with(., 'Schema versions')]]"
        )
        assert "Schema versions (2)" in versions.text
        added = versions.find_element(By.XPATH, ".//tr[td[@data-label='Column'][text()='channel']]")
        assert "added" in added.text
        # An added column changes no type: its severity is info, as `metadata diff` says.
        assert added.find_element(By.CSS_SELECTOR, "td[data-label=Severity]").text == "info"
        verdict = browser.find_element(By.CSS_SELECTOR, "li.drift")
        assert "allowed" in verdict.text and "channel" in verdict.text
        # The volumes of the three runs, drawn.
        chart = browser.find_element(By.CSS_SELECTOR, "[data-chart=volume]")
        assert chart.get_attribute("data-drawn") == "3"
        # The planted recon difference: the ledger's order 3.
        key_diff = browser.find_element(
            By.XPATH, "//tr[td[@data-label='Check'][text()='key_diff']][td[text()='failed']]"
        )
        assert '{"order_id": 3}' in key_diff.text
        screenshots(browser, folder, "main-job-dataset")
        assert console_errors(browser) == []

        # The runs page holds every run of the job, recon's included.
        browser.get(f"{service.base_url}/ui/runs")
        runtimes = {
            e.text for e in browser.find_elements(By.CSS_SELECTOR, "td[data-label=Runtime]")
        }
        assert {"ingestion", "recon"} <= runtimes, runtimes
        assert browser.find_element(By.LINK_TEXT, target)
        browser.get(f"{service.base_url}/ui/datasets/{quote(target, safe='')}")
        assert console_errors(browser) == []
        print(
            f"main job against the service in {loaded:.0f} s; the pages read in Chromium in "
            f"{time.monotonic() - browsing:.1f} s; screenshots in {folder}"
        )
