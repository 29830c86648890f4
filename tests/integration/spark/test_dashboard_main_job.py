"""The dashboard after the README main job: ./main-job as written (tests/main_job.py) runs
against `metadata serve` by URL, then headless Chromium reads the pages a person would: the
datasets list, the orders target's page with the planted drift (batch 3's new column) and
the planted recon difference (the ledger's order 3), at a desktop's and a phone's width.
The screenshots stay in DATAPLATFORM_ARTIFACTS/dashboard (./test: dist/artifacts)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import main_job
from browser import arrived, artifacts, chromium, console_errors, screenshots, sign_in
from selenium.webdriver.common.by import By

from contract.stores import live_service


def test_the_dashboard_shows_the_main_jobs_planted_drift_and_difference(tmp_path: Path) -> None:
    with live_service() as service, chromium() as browser:
        started = time.monotonic()
        job = main_job.run(
            tmp_path,
            {
                "DATAPLATFORM_METADATA_URL": service.base_url,
                "DATAPLATFORM_METADATA_TOKEN": service.token,
            },
        )
        loaded = time.monotonic() - started
        assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
        assert "Traceback" not in job.stderr, job.stderr[-3000:]
        # Spark's own log lines go to <home>/logs/spark.log, not the user's terminal.
        noise = [
            line
            for line in (job.stdout + job.stderr).splitlines()
            if "log4j" in line or " WARN " in line or "setLogLevel" in line
        ]
        assert not noise, noise[:5]
        assert (tmp_path / "logs" / "log4j2.properties").is_file()
        # The job's own checks: the ledger's planted difference found, the drift recorded.
        assert "key_diff" in job.stdout and "channel" in job.stdout, job.stdout[-3000:]
        # The orders table read back by DuckDB: the runtime's count and sum.
        assert "sales.orders at snapshot" in job.stdout and ": equal" in job.stdout, job.stdout[
            -2000:
        ]
        # The home's catalog, named relative to the home (a moved home keeps its history).
        target = "iceberg://~/iceberg/catalog.db::sales.orders"
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
        arrived(browser, "/ui/datasets/iceberg")
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
        # The table's snapshots, one per run, what time travel by id names.
        snapshots = browser.find_elements(By.CSS_SELECTOR, "#snapshots-table tbody tr")
        assert len(snapshots) == 3, [s.text for s in snapshots]
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
        # The ledger recon found a difference: its run is "failed checks", red, the check named.
        states = [
            e
            for e in browser.find_elements(By.CSS_SELECTOR, "td[data-label=State]")
            if e.text == "failed checks"
        ]
        assert states and "failed" in (states[0].get_attribute("class") or ""), states
        assert "key_diff" in browser.find_element(By.XPATH, "//tr[td[text()='failed checks']]").text
        assert browser.find_element(By.LINK_TEXT, target)
        browser.get(f"{service.base_url}/ui/datasets/{quote(target, safe='')}")
        assert console_errors(browser) == []
        print(
            f"main job against the service in {loaded:.0f} s; the pages read in Chromium in "
            f"{time.monotonic() - browsing:.1f} s; screenshots in {folder}"
        )
