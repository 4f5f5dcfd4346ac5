"""The ``/_sff`` waterfall page, rendered by a real headless Chromium (Debian's
chromium + chromium-driver, driven by selenium) after invocations of the example
functions against the demo backend."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo.backend import serve_in_thread
from tests.test_serve_support import require_tool, running_gateway

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver = require_tool("chromium"), require_tool("chromedriver")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        service = webdriver.ChromeService(executable_path=driver)
        browser = webdriver.Chrome(options=options, service=service)
        try:
            yield browser
        finally:
            browser.quit()


def test_waterfall_page_draws_each_invocation_its_sources_and_the_cold_start(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with serve_in_thread() as backend:
        env = {"USERS_API": backend, "TODOS_API": backend}
        with running_gateway(REPO, tmp_path, env=env) as gw:
            answers = [httpx.get(f"{gw.url}/dashboard?user_id=1", timeout=60) for _ in range(2)]
            browser.get(f"{gw.url}/_sff")
            WebDriverWait(browser, 30).until(
                lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-loaded")
            )
            rows = browser.find_elements(By.CSS_SELECTOR, "section.inv")
            drawn = [
                {
                    "request_id": row.get_attribute("data-request-id"),
                    "sources": sorted(
                        lane.get_attribute("data-source")
                        for lane in row.find_elements(By.CSS_SELECTOR, ".lane")
                        if lane.find_elements(By.CSS_SELECTOR, ".bar.source")
                    ),
                    "init_bars": len(row.find_elements(By.CSS_SELECTOR, ".bar.init")),
                    "cold_markers": len(row.find_elements(By.CSS_SELECTOR, ".cold-marker")),
                    "text": row.text,
                }
                for row in rows
            ]

    assert [a.status_code for a in answers] == [200, 200]
    newest_first = [a.headers["x-request-id"] for a in reversed(answers)]
    assert [d["request_id"] for d in drawn] == newest_first
    sources = ["members", "team", "todos", "user"]
    assert [d["sources"] for d in drawn] == [sources, sources]
    assert [(d["init_bars"], d["cold_markers"]) for d in drawn] == [(0, 0), (1, 1)]
    assert "after user" in drawn[0]["text"]  # team and members wait for user
