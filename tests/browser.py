"""Headless Chromium for the dashboard's tests (Debian's chromium and chromium-driver,
installed by bin/prerequisites, driven by selenium): a browser, signing in, screenshots at
a desktop's and a phone's width, and the console's errors."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from services import unavailable

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    found, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (found and driver):
        unavailable("Chromium", "install Debian's chromium and chromium-driver (bin/prerequisites)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(found)
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


def sign_in(browser: webdriver.Chrome, base_url: str, token: str) -> None:
    browser.get(f"{base_url}/ui/login")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/ui/login" not in b.current_url)


def arrived(browser: webdriver.Chrome, part: str, seconds: float = 10) -> None:
    """Wait until the browser is at an address holding ``part``: a click or an Enter
    returns before the next page arrives."""
    WebDriverWait(browser, seconds).until(lambda b: part in b.current_url)


def shown(browser: webdriver.Chrome, css: str, seconds: float = 10) -> WebElement:
    """The element ``css`` selects once the page that has it is loaded (a form's submit
    returns before the next page arrives)."""
    found: WebElement = WebDriverWait(browser, seconds).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )
    return found


def artifacts(fallback: Path) -> Path:
    """Where screenshots go: DATAPLATFORM_ARTIFACTS/dashboard (./test sets dist/artifacts)."""
    folder = Path(os.environ.get("DATAPLATFORM_ARTIFACTS") or fallback) / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshots(browser: webdriver.Chrome, folder: Path, page: str) -> None:
    """The whole page at each width, saved; nothing wider than the window, no table scrolling
    sideways on a phone (long names wrap)."""
    for name, (width, height) in WIDTHS.items():
        browser.set_window_size(width, height)
        # The whole page in one picture: the window as tall as the page (to a bound).
        tall = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(max(height, int(tall) + 120), 8000))
        browser.save_screenshot(str(folder / f"{page}-{name}.png"))
        browser.set_window_size(width, height)
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"{page}: {scroll} px wide in a {width} px window"
        if name == "phone":
            for inner, shown in browser.execute_script(
                "return [...document.querySelectorAll('.wide')]"
                ".map(t => [t.scrollWidth, t.clientWidth])"
            ):
                assert inner <= shown, f"{page}: a table scrolls sideways ({inner} > {shown})"


def console_errors(browser: webdriver.Chrome) -> list[str]:
    entries: list[dict[str, str]] = browser.get_log("browser")  # type: ignore[no-untyped-call]
    return [e["message"] for e in entries if e["level"] == "SEVERE"]
