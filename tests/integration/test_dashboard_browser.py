"""The dashboard in a real browser: headless Chromium (Debian's, driven by its chromedriver)
against `metadata serve` on loopback, filled with the example run's records. Signs in with
a read token, finds the runs and a run's records, is refused without a token, logs no
console error, and leaves screenshots at 1280 px and at a phone's width
(DATAPLATFORM_ARTIFACTS, which ./test sets to dist/artifacts)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from adapters.serialization.reading import read_records
from adapters.serialization.records import RecordConverter
from contract.stores import HttpHarness, live_service
from domain.metadata.tokens import Scope
from services import unavailable

EXAMPLES = Path(__file__).parents[2] / "examples" / "records"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def service() -> Iterator[HttpHarness]:
    with live_service() as harness:
        records = [
            d.record
            for d in read_records((EXAMPLES / "orders-run.jsonl").read_text(), RecordConverter())
        ]
        harness.repository().append([r for r in records if r is not None])
        yield harness


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        unavailable("Chromium", "install Debian's chromium and chromium-driver (bin/prerequisites)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(str(driver)))
    try:
        yield chrome
    finally:
        chrome.quit()


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DATAPLATFORM_ARTIFACTS") or tmp_path) / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _console_errors(chrome: webdriver.Chrome) -> list[str]:
    entries: list[dict[str, str]] = chrome.get_log("browser")  # type: ignore[no-untyped-call]
    return [e["message"] for e in entries if e["level"] == "SEVERE"]


def test_the_runs_page_in_a_browser(
    service: HttpHarness, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    base = service.base_url
    started = time.monotonic()
    browser.get(f"{base}/ui/runs")
    assert browser.current_url.startswith(f"{base}/ui/login"), browser.current_url

    # A token without read scope is refused, with the reason on the page.
    writer = service_token(service, "writer", {Scope.WRITE})
    browser.find_element(By.ID, "token").send_keys(writer)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "has no read scope" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text

    browser.find_element(By.ID, "token").send_keys(service.token)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert browser.current_url == f"{base}/ui/runs", browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 1, [r.text for r in rows]
    run = rows[0]
    assert "2024-05-01T06-00-orders" in run.text and "succeeded" in run.text
    # Times are shown in the viewer's zone, UTC on hover.
    shown = run.find_element(By.TAG_NAME, "time")
    assert shown.get_attribute("title") == "2024-05-01T06:00:00Z"

    folder = _artifacts(tmp_path)
    for name, (width, height) in WIDTHS.items():
        browser.set_window_size(width, height)
        browser.save_screenshot(str(folder / f"runs-{name}.png"))
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"the page is {scroll} px wide at a {width} px window"
        if name == "phone":  # nothing scrolls sideways: long names wrap
            inner, shown = browser.execute_script(
                "const t = document.querySelector('.wide'); return [t.scrollWidth, t.clientWidth]"
            )
            assert inner <= shown, f"the table scrolls sideways ({inner} > {shown} px)"

    # Keyboard: the run's link is reachable and opens its records.
    link = run.find_element(By.TAG_NAME, "a")
    link.send_keys("\n")
    assert browser.current_url.endswith("/ui/runs/2024-05-01T06-00-orders")
    kinds = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "td[data-label=Kind]")]
    assert "ingestion_volume" in kinds and "run_event" in kinds, kinds
    browser.save_screenshot(str(folder / "run-records-phone.png"))

    assert _console_errors(browser) == []
    print(
        f"runs page and run page in Chromium in {time.monotonic() - started:.1f} s; "
        f"screenshots in {folder}"
    )


def test_the_pages_need_a_token(service: HttpHarness, browser: webdriver.Chrome) -> None:
    browser.get(f"{service.base_url}/ui/runs/2024-05-01T06-00-orders")
    assert "/ui/login?next=" in browser.current_url
    browser.find_element(By.ID, "token").send_keys("dpt_not-a-token")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "unknown or revoked" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert _console_errors(browser) == []


def service_token(service: HttpHarness, name: str, scopes: set[Scope]) -> str:
    assert service.tokens is not None
    return service.tokens.create(name, scopes, datetime.now(UTC))
