"""The ``/_sff`` page, rendered by a real headless Chromium (Debian's chromium +
chromium-driver, driven by selenium) after invocations against the demo backend: a
retried source, an `each` source, a degraded one, a skipped one, and a 502 whose
unfinished sources are drawn as cancelled or not started, never as ok. A plain
``chromium --headless --screenshot`` of the page shows the invocations at first paint."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo.backend import serve_in_thread
from tests.test_serve_support import Running, make_project, require_tool, running_gateway

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

BOARD = {
    "board.py": """
        from sff import Backend, Fallback, Function, Retry

        api = Backend("api", env="API")

        board = Function("board", sources={
            "user": api.get("/users/1", query={"_fail": "`1`", "_key": "input.key"},
                            retry=Retry(retries=2, backoff=0.01)),
            "todos": api.get("/todos", query={"userId": "user.id", "limit": "`3`"}),
            "comments": api.get("/todos/{item}/comments", each="todos[].id"),
            "team": api.get("/teams/1", query={"_status": "`500`"},
                            fallback=Fallback.value({"name": "unknown"})),
            "extra": api.get("/teams/2", when="`false`"),
        }, shape="{user: user.name, team: team.name, comments: length(comments)}")
    """,
    "broken.py": """
        from sff import Backend, Function, Retry

        api = Backend("api", env="API")

        broken = Function("broken", sources={
            "slow": api.get("/todos", query={"_delay": "`3000`"}),
            "fail": api.get("/teams/1", query={"_status": "`500`", "token": "'s3cr3t-token'"},
                            retry=Retry.none()),
            "after": api.get("/teams/{fail.id}"),
        }, shape="fail")
    """,
}


@contextmanager
def chrome(*flags: str) -> Iterator[Any]:
    """A selenium-driven headless Chromium with the common flags plus ``flags``."""
    chromium, driver = require_tool("chromium"), require_tool("chromedriver")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, *flags):
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        service = webdriver.ChromeService(executable_path=driver)
        browser = webdriver.Chrome(options=options, service=service)
        try:
            yield browser
        finally:
            browser.quit()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chrome() as opened:
        yield opened


@pytest.fixture
def ran(tmp_path: Path) -> Iterator[tuple[Running, list[httpx.Response]]]:
    project = make_project(tmp_path / "project", BOARD)
    with serve_in_thread() as backend, running_gateway(
        project, tmp_path, env={"API": backend}
    ) as gw:
        answers = [
            httpx.get(f"{gw.url}/board?key=a", timeout=60),
            httpx.get(f"{gw.url}/broken", timeout=60),
        ]
        yield gw, answers


def hold_still(browser: Any) -> None:
    """Stop the page's 3 s refresh: it replaces #content, and a reading that outlasts it
    (a loaded machine) would hold stale elements."""
    browser.execute_script(
        "const last = setInterval(() => {}, 1e9); for (let i = 0; i <= last; i++) clearInterval(i);"
    )


def lanes(browser: Any, request_id: str) -> dict[str, dict[str, str]]:
    from selenium.webdriver.common.by import By

    section = browser.find_element(By.CSS_SELECTOR, f"section[data-request-id='{request_id}']")
    return {
        lane.get_attribute("data-source"): {
            "state": lane.get_attribute("data-state"),
            "text": lane.text,
            "bars": str(len(lane.find_elements(By.CSS_SELECTOR, ".bar"))),
            "attempts": ",".join(
                bar.get_attribute("data-outcome")
                for bar in lane.find_elements(By.CSS_SELECTOR, ".bar.attempt")
            ),
        }
        for lane in section.find_elements(By.CSS_SELECTOR, ".lane")
    }


def test_page_draws_attempts_items_states_and_whole_errors(
    browser: Any, ran: tuple[Running, list[httpx.Response]]
) -> None:
    from selenium.webdriver.common.by import By

    gw, (board, broken) = ran
    browser.get(f"{gw.url}/_sff")
    hold_still(browser)
    good = lanes(browser, board.headers["x-request-id"])
    bad = lanes(browser, broken.headers["x-request-id"])
    legend = browser.find_element(By.CSS_SELECTOR, ".legend").text
    summary = {
        row.get_attribute("data-function"): [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "table.summary tr[data-function]")
    }
    stats = httpx.get(f"{gw.url}/_sff/stats", timeout=30).json()["functions"]

    assert (board.status_code, broken.status_code) == (200, 502)
    assert good["user"]["state"] == "retried" and "2 attempts" in good["user"]["text"]
    # each attempt its own span: the failed one, then the one that answered
    assert good["user"]["attempts"] == "failed,ok" and good["user"]["bars"] == "2"
    assert "attempts 1: 5" in good["user"]["text"] and "2: 200" in good["user"]["text"]
    assert good["comments"]["attempts"] == "" and good["todos"]["attempts"] == ""
    assert good["comments"]["state"] == "ok"
    assert "3 items" in good["comments"]["text"] and "attempts" not in good["comments"]["text"]
    assert "retries" not in good["comments"]["text"]
    assert good["team"]["state"] == "degraded" and "degraded: value" in good["team"]["text"]
    assert good["extra"]["state"] == "skipped"
    assert good["init"]["bars"] == "1"
    assert bad["fail"]["state"] == "failed" and "500" in bad["fail"]["text"]
    assert bad["slow"]["state"] == "cancelled"
    assert (bad["after"]["state"], bad["after"]["bars"]) == ("not-started", "0")
    assert "s3cr3t-token" not in browser.page_source
    for state in ("ok", "retried, then ok", "degraded", "failed", "cancelled", "not started",
                  "skipped"):  # fmt: skip
        assert state in legend
    for name in ("board", "broken"):
        f = stats[name]
        assert summary[name][:3] == [name, str(f["invocations"]), str(f["cold_starts"])]
        assert summary[name][5:7] == [str(f["errors"]), str(f["throttled"])]
    assert summary["broken"][5] == "1"


def test_a_plain_headless_screenshot_shows_the_invocations(
    ran: tuple[Running, list[httpx.Response]], tmp_path: Path
) -> None:
    chromium = require_tool("chromium")
    gw, answers = ran
    shot = tmp_path / "page.png"
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p1'}", "--dump-dom",
         f"{gw.url}/_sff"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p2'}",
         f"--screenshot={shot}", "--window-size=1400,1400", f"{gw.url}/_sff"],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip

    assert shot.stat().st_size > 10_000
    assert "loading" not in dom.stdout
    assert all(a.headers["x-request-id"] in dom.stdout for a in answers)
