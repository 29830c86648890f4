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

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from adapters.serialization.reading import read_records
from adapters.serialization.records import RecordConverter
from contract.stores import HttpHarness, live_service
from domain.dataset import DatasetRef, RunId
from domain.metadata.payloads import IngestionVolume, ReconResult, ReconStatus
from domain.metadata.record import MetadataRecord
from domain.metadata.tokens import Scope
from services import unavailable

EXAMPLES = Path(__file__).parents[2] / "examples"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


SUBJECT = DatasetRef("postgres://warehouse:5432", "sales.public.orders")


def _planted() -> list[MetadataRecord]:
    """Five usual loads and one far smaller (the planted volume drop), and a recon that
    finds order 3 changed (the planted difference)."""
    records = []
    for day, rows in enumerate([1000, 1012, 996, 1004, 990, 40], start=2):
        records.append(
            MetadataRecord.create(
                subject=SUBJECT,
                run_id=RunId(f"2024-05-{day:02d}T06-00-orders"),
                observed_at=datetime(2024, 5, day, 6, 5, tzinfo=UTC),
                producer="ingestion",
                payload=IngestionVolume(rows_read=rows, rows_written=rows),
            )
        )
    records.append(
        MetadataRecord.create(
            subject=SUBJECT,
            run_id=RunId("recon-2024-05-07"),
            observed_at=datetime(2024, 5, 7, 7, 0, tzinfo=UTC),
            producer="recon",
            payload=ReconResult(
                check="key_diff",
                status=ReconStatus.FAILED,
                detail="1 changed (threshold 0)",
                counts=(("changed", 1),),
                samples=(("changed", '{"order_id": 3}'),),
            ),
        )
    )
    return records


@pytest.fixture
def service() -> Iterator[HttpHarness]:
    with live_service() as harness:
        converter = RecordConverter()
        for name in ("records/orders-run.jsonl", "drift/orders-snapshots.jsonl"):
            decoded = read_records((EXAMPLES / name).read_text(), converter)
            harness.repository().append([d.record for d in decoded if d.record is not None])
        harness.repository().append(_planted())
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


def _screenshots(browser: webdriver.Chrome, folder: Path, page: str) -> None:
    """The page at each width, saved; nothing wider than the window, no table scrolling
    sideways on a phone (long names wrap)."""
    for name, (width, height) in WIDTHS.items():
        browser.set_window_size(width, height)
        browser.save_screenshot(str(folder / f"{page}-{name}.png"))
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"{page}: {scroll} px wide in a {width} px window"
        if name == "phone":
            for inner, shown in browser.execute_script(
                "return [...document.querySelectorAll('.wide')]"
                ".map(t => [t.scrollWidth, t.clientWidth])"
            ):
                assert inner <= shown, f"{page}: a table scrolls sideways ({inner} > {shown})"


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
    run = next(r for r in rows if "2024-05-01T06-00-orders" in r.text)
    assert "2024-05-01T06-00-orders" in run.text and "succeeded" in run.text
    # Times are shown in the viewer's zone, UTC on hover.
    shown = run.find_element(By.TAG_NAME, "time")
    assert shown.get_attribute("title") == "2024-05-01T06:00:00Z"

    folder = _artifacts(tmp_path)
    _screenshots(browser, folder, "runs")

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


def test_the_dataset_page_shows_the_planted_drift_and_differences(
    service: HttpHarness, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    base = service.base_url
    browser.get(f"{base}/ui/login")
    browser.find_element(By.ID, "token").send_keys(service.token)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    started = time.monotonic()
    browser.find_element(By.LINK_TEXT, str(SUBJECT)).click()
    assert browser.find_element(By.TAG_NAME, "h1").text == str(SUBJECT)
    seconds = time.monotonic() - started
    # The schema timeline: two versions, the later with its changes, severity coloured.
    changes = browser.find_elements(By.CSS_SELECTOR, "section:first-of-type tbody tr")
    assert changes, browser.find_element(By.TAG_NAME, "main").text[:2000]
    severities = {c.find_element(By.CSS_SELECTOR, "td[data-label=Severity]").text for c in changes}
    assert severities and severities <= {"same", "widening", "narrowing", "incompatible"}
    # The volumes: the planted drop is outside the usual band, the five usual loads inside
    # (the example run's 1.2M-row load is outside too: it is not like the others).
    flagged = [
        str(bar.find_element(By.TAG_NAME, "title").get_attribute("textContent"))
        for bar in browser.find_elements(By.CSS_SELECTOR, "svg .bar.flagged")
    ]
    assert any(f.startswith("2024-05-07T06-00-orders: 40 rows") for f in flagged), flagged
    assert not any(f"2024-05-0{day}T06-00" in f for f in flagged for day in range(2, 7)), flagged
    assert "2024-05-07T06-00-orders wrote 40 rows" in browser.page_source
    # The recon: the planted difference with its key.
    recon = browser.find_element(By.XPATH, "//tr[td[@data-label='Check'][text()='key_diff']]")
    assert "failed" in recon.text and '{"order_id": 3}' in recon.text
    _screenshots(browser, _artifacts(tmp_path), "dataset")
    assert _console_errors(browser) == []
    print(f"the dataset page in {seconds:.2f} s (7+{len(_planted())} records stored)")


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


def test_careless_addresses_get_the_reason_not_a_trace(service: HttpHarness) -> None:
    with httpx.Client(base_url=service.base_url, follow_redirects=False) as client:
        signed = client.post("/ui/login", data={"token": service.token, "next": "//elsewhere"})
        assert signed.status_code == 303 and signed.headers["location"] == "/ui/runs"
        for path, reason in [
            ("/ui/runs?cursor=garbage", "is not a cursor this store handed out"),
            ("/ui/runs/bad%20id", "run_id: expected 1-128 characters"),
            ("/ui/datasets/nonsense", "expected &#x27;namespace::name&#x27;"),
        ]:
            answer = client.get(path)
            assert answer.status_code == 400 and reason in answer.text, (path, answer.text)
        assert "Nothing is recorded" in client.get("/ui/datasets/file::nothing").text
        assert client.post("/ui/login", content=b"a" * 10_000).status_code == 413
