"""The dashboard in a real browser: headless Chromium (Debian's, driven by its chromedriver)
against `metadata serve` on loopback, filled with the example run's records. Signs in with
a read token, finds the runs and a run's records, is refused without a token, shows on a new
store what to run, logs no console error, and leaves screenshots at 1280 px and at a
phone's width (DATAPLATFORM_ARTIFACTS, which ./test sets to dist/artifacts)."""

from __future__ import annotations

import contextlib
import html
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from browser import arrived, artifacts, chromium, console_errors, screenshots, shown, sign_in
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from adapters.serialization.reading import read_records
from adapters.serialization.records import RecordConverter
from contract.stores import HttpHarness, live_service
from domain.dataset import DatasetRef, RunId
from domain.metadata.payloads import (
    IngestionVolume,
    ReconResult,
    ReconStatus,
    RunEvent,
    RunEventType,
)
from domain.metadata.record import MetadataRecord
from domain.metadata.tokens import Scope

EXAMPLES = Path(__file__).parents[2] / "examples"


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
    with chromium() as chrome:
        yield chrome


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
    assert "has no read scope" in shown(browser, "[role=alert]").text

    browser.find_element(By.ID, "token").send_keys(service.token)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(f"{base}/ui/runs"))
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    run = next(r for r in rows if "2024-05-01T06-00-orders" in r.text)
    assert "2024-05-01T06-00-orders" in run.text and "succeeded" in run.text
    # Times are shown in the viewer's zone, UTC on hover.
    when = run.find_element(By.TAG_NAME, "time")
    assert when.get_attribute("title") == "2024-05-01T06:00:00Z"

    folder = artifacts(tmp_path)
    screenshots(browser, folder, "runs")

    # Keyboard: the run's link is reachable and opens its records.
    link = run.find_element(By.TAG_NAME, "a")
    link.send_keys("\n")
    arrived(browser, "/ui/runs/2024-05-01T06-00-orders")
    kinds = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "td[data-label=Kind]")]
    assert "ingestion_volume" in kinds and "run_event" in kinds, kinds
    browser.save_screenshot(str(folder / "run-records-phone.png"))

    assert console_errors(browser) == []
    print(
        f"runs page and run page in Chromium in {time.monotonic() - started:.1f} s; "
        f"screenshots in {folder}"
    )


def test_the_datasets_list_is_searched_and_leads_to_a_dataset(
    service: HttpHarness, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    sign_in(browser, service.base_url, service.token)
    assert browser.current_url == f"{service.base_url}/ui/datasets"
    rows = {
        r.find_element(By.CSS_SELECTOR, "td[data-label=Dataset]").text: r
        for r in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    }
    assert str(SUBJECT) in rows, list(rows)
    planted = rows[str(SUBJECT)]
    assert (
        "failed (1 check)"
        in planted.find_element(By.CSS_SELECTOR, "td[data-label='Last recon']").text
    )
    assert "succeeded" in planted.find_element(By.CSS_SELECTOR, "td[data-label='Last run']").text
    screenshots(browser, artifacts(tmp_path), "datasets")
    # Keyboard: type in the search box, Enter; then follow the one match.
    search = browser.find_element(By.ID, "q")
    search.send_keys("PUBLIC.ORD\n")
    arrived(browser, "q=PUBLIC.ORD")
    found = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "td[data-label=Dataset]")]
    assert found == [str(SUBJECT)], found
    browser.find_element(By.LINK_TEXT, str(SUBJECT)).send_keys("\n")
    arrived(browser, "/ui/datasets/postgres")
    assert browser.find_element(By.TAG_NAME, "h1").text == str(SUBJECT)
    browser.get(f"{service.base_url}/ui/datasets?q=no-such-table")
    assert "No dataset matches" in browser.find_element(By.CSS_SELECTOR, ".empty").text
    assert console_errors(browser) == []


def test_the_dataset_page_shows_the_planted_drift_and_differences(
    service: HttpHarness, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    sign_in(browser, service.base_url, service.token)
    started = time.monotonic()
    browser.find_element(By.LINK_TEXT, str(SUBJECT)).click()
    arrived(browser, "/ui/datasets/postgres")
    assert browser.find_element(By.TAG_NAME, "h1").text == str(SUBJECT)
    seconds = time.monotonic() - started
    # The schema timeline: two versions, the later with its changes, severity coloured.
    changes = browser.find_elements(By.CSS_SELECTOR, "section:first-of-type tbody tr")
    assert changes, browser.find_element(By.TAG_NAME, "main").text[:2000]
    severities = {c.find_element(By.CSS_SELECTOR, "td[data-label=Severity]").text for c in changes}
    assert severities and severities <= {"info", "widening", "narrowing", "incompatible"}
    # The volumes, drawn by uPlot: one point per load, the planted drop outside the usual
    # band, the five usual loads inside (the example run's 1.2M-row load is outside too).
    chart = browser.find_element(By.CSS_SELECTOR, "[data-chart=volume]")
    assert chart.get_attribute("data-drawn") == "7"
    assert chart.find_elements(By.CSS_SELECTOR, ".uplot canvas")
    outside = browser.execute_script(
        "return [...document.querySelectorAll('#volumes-table tbody tr')]"
        ".filter(r => r.querySelector('[data-label=\"Usual band\"]').textContent === 'outside')"
        ".map(r => r.querySelector('[data-label=Run]').textContent)"
    )
    assert "2024-05-07T06-00-orders" in outside, outside
    assert not any(f"2024-05-0{day}T06-00" in run for run in outside for day in range(2, 7))
    assert "2024-05-07T06-00-orders wrote 40 rows" in browser.page_source
    # The recon: the planted difference with its key.
    recon = browser.find_element(By.XPATH, "//tr[td[@data-label='Check'][text()='key_diff']]")
    assert "failed" in recon.text and '{"order_id": 3}' in recon.text
    screenshots(browser, artifacts(tmp_path), "dataset")
    assert console_errors(browser) == []
    print(f"the dataset page in {seconds:.2f} s (7+{len(_planted())} records stored)")


def test_the_pages_need_a_token(service: HttpHarness, browser: webdriver.Chrome) -> None:
    browser.get(f"{service.base_url}/ui/runs/2024-05-01T06-00-orders")
    assert "/ui/login?next=" in browser.current_url
    browser.find_element(By.ID, "token").send_keys("dpt_not-a-token")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "unknown or revoked" in shown(browser, "[role=alert]").text
    assert console_errors(browser) == []


def test_each_section_of_a_dataset_page_pages_to_its_older_records(
    service: HttpHarness,
) -> None:
    """130 loads: the page draws the newest 100 and links to the older 30, which link no
    further and lead back."""
    busy = DatasetRef("file", "/lake/busy")
    service.repository().append(
        [
            MetadataRecord.create(
                subject=busy,
                run_id=RunId(f"load-{n:03d}"),
                observed_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=n),
                producer="ingestion",
                payload=IngestionVolume(rows_read=n, rows_written=n),
            )
            for n in range(130)
        ]
    )
    with signed_client(service) as client:
        first = client.get(f"/ui/datasets/{quote(str(busy), safe='')}")
        assert "Rows written per run (100)" in first.text and "load-129" in first.text
        assert "load-029" not in first.text and "Older recon results" not in first.text
        links = re.findall(r'href="([^"]*section=volumes[^"]*)">Older loads', first.text)
        assert len(links) == 1, first.text
        older = client.get(html.unescape(links[0]))
        assert older.status_code == 200
        assert "Rows written per run (30)" in older.text and "load-000" in older.text
        assert "load-030" not in older.text and "Older loads" not in older.text
        assert f'href="/ui/datasets/{quote(str(busy), safe="")}"' in older.text


def test_a_run_with_many_records_pages_through_them(service: HttpHarness) -> None:
    """A harvest of 250 tables is one run of 250 records: 200 on its page, the rest after."""
    service.repository().append(
        [
            MetadataRecord.create(
                subject=DatasetRef("file", f"/lake/t{n:03d}"),
                run_id=RunId("harvest-wide"),
                observed_at=datetime(2024, 2, 1, tzinfo=UTC) + timedelta(seconds=n),
                producer="harvest",
                payload=IngestionVolume(rows_read=n, rows_written=n),
            )
            for n in range(250)
        ]
    )
    with signed_client(service) as client:
        first = client.get("/ui/runs/harvest-wide")
        assert first.text.count("<tr>") == 201 and "/lake/t000" in first.text
        assert "/lake/t200" not in first.text
        links = re.findall(r'href="([^"]*)">Later records', first.text)
        later = client.get(html.unescape(links[0]))
        assert later.text.count("<tr>") == 51 and "/lake/t249" in later.text
        assert "Later records" not in later.text


@contextlib.contextmanager
def signed_client(service: HttpHarness, token: str | None = None) -> Iterator[httpx.Client]:
    """An HTTP client signed in through the login form (its cookie: a session id)."""
    with httpx.Client(base_url=service.base_url) as client:
        signed = client.post(
            "/ui/login",
            data={"token": token or service.token, "next": "/ui/datasets"},
            follow_redirects=True,
        )
        assert signed.status_code == 200 and "Datasets" in signed.text, signed.text[:500]
        yield client


def test_the_session_cookie_is_a_random_id_that_ends_with_its_token(
    service: HttpHarness,
) -> None:
    secret = service_token(service, "session-test", {Scope.READ})
    with signed_client(service, secret) as client:
        session = client.cookies.get("dp_session")
        assert session and secret not in session and session != secret
        assert client.get("/ui/runs").status_code == 200
        assert service.tokens is not None
        service.tokens.revoke("session-test", datetime.now(UTC))
        ended = client.get("/ui/runs", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/ui/login")
    # The token itself is not a session: a cookie holding it signs nobody in.
    with httpx.Client(base_url=service.base_url, cookies={"dp_session": service.token}) as raw:
        assert raw.get("/ui/runs", follow_redirects=False).status_code == 303
    with signed_client(service) as client:  # signing out ends the session on the service
        kept = client.cookies.get("dp_session") or ""
        client.get("/ui/logout", follow_redirects=False)
        client.cookies.set("dp_session", kept, path="/ui")
        assert client.get("/ui/runs", follow_redirects=False).status_code == 303


def service_token(service: HttpHarness, name: str, scopes: set[Scope]) -> str:
    assert service.tokens is not None
    return service.tokens.create(name, scopes, datetime.now(UTC))


def test_careless_addresses_get_the_reason_not_a_trace(service: HttpHarness) -> None:
    with httpx.Client(base_url=service.base_url, follow_redirects=False) as client:
        signed = client.post("/ui/login", data={"token": service.token, "next": "//elsewhere"})
        assert signed.status_code == 303 and signed.headers["location"] == "/ui/datasets"
        for path, reason in [
            ("/ui/runs?cursor=garbage", "is not a cursor this store handed out"),
            ("/ui/runs/bad%20id", "run_id: expected 1-128 characters"),
            ("/ui/runs/r1?cursor=garbage", "is not a cursor this store handed out"),
            ("/ui/datasets/nonsense", "expected &#x27;namespace::name&#x27;"),
            ("/ui/datasets?after=nonsense", "expected &#x27;namespace::name&#x27;"),
            ("/ui/datasets?q=" + "x" * 201, "contains: expected 1-200 characters"),
            ("/ui/datasets?q=a%00b", "holds a control character"),
            (f"/ui/datasets/{SUBJECT}?section=lineage", "section: expected one of schema"),
            (f"/ui/datasets/{SUBJECT}?section=recon&cursor=x", "is not a cursor this store"),
        ]:
            answer = client.get(path)
            assert answer.status_code == 400 and reason in answer.text, (path, answer.text)
        assert "Nothing is recorded" in client.get("/ui/datasets/file::nothing").text
        assert "No dataset matches" in client.get("/ui/datasets?q=no-such-thing").text
        assert client.get("/ui/static/../server.py").status_code == 404
        script = client.get("/ui/static/uPlot.iife.min.js")
        assert script.status_code == 200 and script.headers["content-type"].startswith(
            "text/javascript"
        )
        assert client.post("/ui/login", content=b"a" * 10_000).status_code == 413


def test_empty_pages_say_what_to_run(browser: webdriver.Chrome, tmp_path: Path) -> None:
    """A new store: each list says which command fills it; a dataset only harvested says,
    section by section, what records its loads, its profile and its recons."""
    with live_service() as empty:
        sign_in(browser, empty.base_url, empty.token)
        assert browser.current_url == f"{empty.base_url}/ui/datasets"
        said = shown(browser, ".empty").text
        assert "No dataset is recorded yet" in said and "ingestion run PIPELINE.toml" in said
        browser.get(f"{empty.base_url}/ui/runs")
        said = shown(browser, ".empty").text
        assert "No runs recorded yet" in said and "recon run RECON.toml" in said
        folder = artifacts(tmp_path)
        screenshots(browser, folder, "runs-empty")

        snapshots = read_records(
            (EXAMPLES / "drift/orders-snapshots.jsonl").read_text(), RecordConverter()
        )
        first = next(d.record for d in snapshots if d.record is not None)
        empty.repository().append([first])
        browser.get(f"{empty.base_url}/ui/datasets/{quote(str(SUBJECT), safe='')}")
        sections = {
            s.find_element(By.TAG_NAME, "h2").text: s
            for s in browser.find_elements(By.TAG_NAME, "section")
        }
        assert "Schema versions (1)" in sections, list(sections)
        for title, command in (
            ("Rows written per run", "ingestion run PIPELINE.toml"),
            ("Profile", "metadata harvest URL|ENDPOINTS.toml --profile"),
            ("Reconciliation", "recon run RECON.toml"),
        ):
            assert command in sections[title].find_element(By.CLASS_NAME, "empty").text, title
        screenshots(browser, folder, "dataset-harvested-only")
        assert console_errors(browser) == []


def test_a_recon_that_found_differences_reads_failed_checks_everywhere(
    service: HttpHarness,
) -> None:
    """Its run page, the runs list and the datasets list say "failed checks" (red) with the
    checks named; an error of a run stays "failed"."""
    checked = DatasetRef("postgres://db:5432", "shop.public.checked")
    at = datetime(2024, 3, 1, tzinfo=UTC)
    events = [
        ("recon-diff", RunEventType.STARTED, "recon checked", 0),
        ("recon-diff", RunEventType.FAILED, "failed checks: row_hash, key_diff", 1),
        ("ingest-bad", RunEventType.STARTED, "pipeline p", 2),
        ("ingest-bad", RunEventType.FAILED, "writing the new version failed: disk full", 3),
    ]
    service.repository().append(
        [
            MetadataRecord.create(
                subject=checked if run.startswith("recon") else DatasetRef("file", "/lake/p"),
                run_id=RunId(run),
                observed_at=at + timedelta(seconds=seconds),
                producer="recon" if run.startswith("recon") else "ingestion",
                payload=RunEvent(event, message),
            )
            for run, event, message, seconds in events
        ]
    )
    with signed_client(service) as client:
        page = client.get("/ui/runs/recon-diff").text
        assert 'Outcome: <span class="state failed">failed checks</span>' in page
        assert "row_hash, key_diff" in page
        runs = client.get("/ui/runs").text
        assert 'class="state failed">failed checks</td>' in runs
        assert 'class="state failed">failed</td>' in runs  # the ingestion's error
        listed = client.get("/ui/datasets?q=checked").text
        assert (
            '<span class="state failed" title="failed checks: row_hash, key_diff">failed checks'
            in listed
        )


def test_an_iceberg_tables_page_lists_the_snapshots_its_runs_committed(
    service: HttpHarness,
) -> None:
    """Each run's ingestion_volume names the snapshot it committed: the dataset page lists
    them, newest first, with the run and its rows (what time travel by id names)."""
    table = DatasetRef("iceberg://~/iceberg/catalog.db", "sales.orders")
    service.repository().append(
        [
            MetadataRecord.create(
                subject=table,
                run_id=RunId(f"run-{n}"),
                observed_at=datetime(2024, 5, 1, tzinfo=UTC) + timedelta(hours=n),
                producer="ingestion",
                payload=IngestionVolume(
                    rows_read=n + 1, rows_written=n + 1, snapshot_id=7_000_000_000_000_000 + n
                ),
            )
            for n in range(3)
        ]
    )
    with signed_client(service) as client:
        page = client.get(f"/ui/datasets/{quote(str(table), safe='')}")
    assert page.status_code == 200
    section = page.text.split("Iceberg snapshots (3)", 1)[1].split("</table>", 1)[0]
    ids = re.findall(r"<code>(\d+)</code>", section)
    assert ids == [str(7_000_000_000_000_000 + n) for n in (2, 1, 0)]
    assert 'href="/ui/runs/run-2"' in section
