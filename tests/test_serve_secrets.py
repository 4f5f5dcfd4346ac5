"""`sff serve` reports, page data and logs carry no secret of an echoing backend's answer."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.echo_server import echo_server
from tests.test_serve_support import make_project, running_gateway

STATIC_KEY = "static-key-2d2d"
QUERY_KEY = "query-key-3e3e"
USER_TOKEN = "user-token-5f5f"
SECRETS = (STATIC_KEY, QUERY_KEY, USER_TOKEN)

LEAKY = f'''
from sff import Backend, Function

api = Backend("echo", env="ECHO_API", headers={{"x-api-key": "{STATIC_KEY}"}},
              forward_headers=("x-user-token",))
echo = api.get("/status/503", query={{"api_key": "input.key"}})
leaky = Function("leaky", sources={{"echo": echo}})
'''


def test_serve_reports_page_and_logs_hold_no_secret(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {"leaky.py": LEAKY})
    logs = tmp_path / "logs"
    logs.mkdir()
    with (
        echo_server() as server,
        running_gateway(project, logs, env={"ECHO_API": server.url}) as gw,
    ):
        answer = httpx.get(
            f"{gw.url}/leaky",
            params={"key": QUERY_KEY},
            headers={"x-user-token": USER_TOKEN},
            timeout=60,
        )
        invocations = httpx.get(f"{gw.url}/_sff/invocations", timeout=60).text
        page = httpx.get(f"{gw.url}/_sff", timeout=60).text
        stats = httpx.get(f"{gw.url}/_sff/stats", timeout=60).text
        log = gw.stop()
    assert answer.status_code == 502 and "HTTP 503" in answer.text
    assert "echo" in invocations  # the failed source is reported...
    seen = answer.text + str(answer.headers) + invocations + page + stats + log
    seen += (logs / "serve.err").read_text()
    assert [s for s in SECRETS if s in seen] == []  # ...without what it was sent
