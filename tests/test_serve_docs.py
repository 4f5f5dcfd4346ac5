"""``/docs``: Swagger UI over ``/openapi.json`` from the swagger-ui-py package, drawn by
a real headless Chromium with every network access outside the gateway blocked (offline);
and ``sff serve`` without its extra says how to install it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.test_serve_page import chrome
from tests.test_serve_support import make_project, running_gateway

# Every request goes to a proxy that is not there, except loopback (which Chromium never
# proxies): the browser is offline but for the gateway.
OFFLINE = ("--proxy-server=http://127.0.0.1:9",)


def test_swagger_ui_lists_every_function_with_no_network_but_the_gateway(
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    project = make_project(tmp_path / "project")
    with running_gateway(project, tmp_path) as gw, chrome(*OFFLINE) as browser:
        page = httpx.get(f"{gw.url}/docs", timeout=30)
        browser.get(f"{gw.url}/docs")
        WebDriverWait(browser, 30).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        )
        paths = sorted(e.text for e in browser.find_elements(By.CSS_SELECTOR,
                                                            ".opblock-summary-path"))  # fmt: skip
        missing = httpx.get(f"{gw.url}/docs/index.j2", timeout=30)

    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert [p.replace("\u200b", "") for p in paths] == ["/crashy", "/hello", "/nap"]
    assert missing.status_code == 404  # only the UI's own files are served


def test_sff_serve_without_uvicorn_prints_the_install_command(tmp_path: Path) -> None:
    blocker = (
        "import sys\n"
        "sys.modules['uvicorn'] = None  # as if not installed: imports and find_spec fail\n"
        "from sff.serve.command import main\n"
        "sys.exit(main(['--root', sys.argv[1]]))\n"
    )
    project = make_project(tmp_path / "project")
    run = subprocess.run([sys.executable, "-c", blocker, str(project)], capture_output=True,
                         text=True, timeout=60)  # fmt: skip

    assert run.returncode == 1
    assert 'pip install "serverless-for-frontend[serve]"' in run.stderr
    assert "uvicorn" in run.stderr
