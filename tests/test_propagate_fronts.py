"""A missing todo answers 404 `not_found` through every front, against the real demo
backend over loopback: the ASGI app, the `sff serve` gateway (a real process on a real
port), the AWS Lambda adapter fed a real sample event, the Function Compute adapter fed
FC 3.0's documented HTTP-trigger event as bytes, and a Cloud Functions entry served by
functions-framework's own app. The ASGI app and the gateway also read `X-Total-Count`
through `meta.page.headers` for todo_list."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import functions
import functions.todo_detail
from demo.backend import DemoBackend, serve_in_thread
from functions.todo_detail import todo_detail
from functions.todo_list import todo_list
from sff.adapters import _settings, runtime
from sff.adapters.asgi import app as sff_app
from tests.test_serve_support import Running, running_gateway

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT.parent / "shared" / "platform-events"


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, DemoBackend]]:
    backend = DemoBackend()
    with serve_in_thread(backend=backend) as url:
        yield url, backend


@pytest.fixture(autouse=True)
def apis(demo: tuple[str, DemoBackend], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("USERS_API", demo[0])
    monkeypatch.setenv("TODOS_API", demo[0])
    monkeypatch.setenv("SFF_CACHE_URL", "memory://")
    yield
    _settings.reset()
    runtime.stop()


@pytest.fixture(scope="module")
def gateway(
    demo: tuple[str, DemoBackend], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    env = {"USERS_API": demo[0], "TODOS_API": demo[0], "SFF_CACHE_URL": "memory://"}
    with running_gateway(ROOT, tmp_path_factory.mktemp("propagate-gw"), env=env) as gw:
        yield gw


def assert_not_found(status: int, body: dict[str, Any]) -> None:
    assert status == 404
    error = body["error"]
    assert error["code"] == "not_found"
    assert error["upstream_status"] == 404 and error["source"] in ("todo", "comments")
    assert error["message"].startswith("not found: source ")


async def test_asgi_app_answers_404_for_a_missing_todo_and_200_for_one_that_exists() -> None:
    app = sff_app(todo_detail, todo_list)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        missing = await client.get("/todo_detail", params={"todo_id": 9999})
        found = await client.get("/todo_detail", params={"todo_id": 3})
        page = await client.get("/todo_list", params={"user_id": 2, "page_size": 1})

    assert_not_found(missing.status_code, missing.json())
    assert missing.headers["cache-control"] == "no-store"
    assert found.status_code == 200 and found.json()["id"] == 3
    assert page.status_code == 200 and page.json()["total"] > 1  # from X-Total-Count


def test_sff_serve_answers_404_for_a_missing_todo(
    gateway: Running, demo: tuple[str, DemoBackend]
) -> None:
    demo[1].reset()
    missing = httpx.get(f"{gateway.url}/todo_detail", params={"todo_id": 9999}, timeout=60)
    page = httpx.get(f"{gateway.url}/todo_list", params={"page_size": 3}, timeout=60)

    assert_not_found(missing.status_code, missing.json())
    assert missing.headers["x-request-id"] == missing.json()["error"]["request_id"]
    assert page.status_code == 200 and page.json()["total"] == 200
    assert demo[1].stats()["by_path"]["/todos"] == 1  # the count came with the page
    assert demo[1].stats()["by_path"]["/todos/9999"] == 1  # a 404 is not retried


def test_lambda_adapter_answers_404_for_a_missing_todo_from_a_real_http_api_event() -> None:
    event = json.loads((EVENTS / "aws_apiGatewayProxyV2Event_GET.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/todo_detail"
    event["rawQueryString"] = "todo_id=9999"
    event["queryStringParameters"] = {"todo_id": "9999"}
    event.pop("pathParameters", None)

    answer = todo_detail.handler(event, None)

    assert_not_found(answer["statusCode"], json.loads(answer["body"]))
    event["rawQueryString"], event["queryStringParameters"] = "todo_id=3", {"todo_id": "3"}
    assert todo_detail.handler(event, None)["statusCode"] == 200


def fc_event(query: dict[str, str]) -> bytes:
    """FC 3.0's documented HTTP-trigger event, as the bytes the runtime hands over."""
    event = json.loads((EVENTS / "fc3_httpTrigger_docs_example.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/todo_detail"
    event["queryParameters"] = query
    event["body"] = ""
    return json.dumps(event).encode()


def test_function_compute_adapter_answers_404_for_a_missing_todo_from_a_real_fc3_event(
    demo: tuple[str, DemoBackend],
) -> None:
    demo[1].reset()
    answer = todo_detail.handler(fc_event({"todo_id": "9999"}), None)

    assert_not_found(answer["statusCode"], json.loads(answer["body"]))
    assert todo_detail.handler(fc_event({"todo_id": "3"}), None)["statusCode"] == 200
    assert demo[1].stats()["by_path"]["/todos/9999"] == 1  # a 404 is not retried


GCF_MAIN = """
from functions.todo_detail import todo_detail
from sff.adapters.gcp import entry

todo_detail_http = entry(todo_detail)
"""


def test_cloud_functions_entry_answers_404_for_a_missing_todo(
    demo: tuple[str, DemoBackend], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functions_framework

    # Tests that load a project of their own leave its `functions` package in sys.modules
    # (sff's project loader swaps packages by name); a deployed main.py sees only ours.
    monkeypatch.setitem(sys.modules, "functions", functions)
    monkeypatch.setitem(sys.modules, "functions.todo_detail", functions.todo_detail)
    (tmp_path / "main.py").write_text(GCF_MAIN)
    app = functions_framework.create_app(target="todo_detail_http", source=tmp_path / "main.py")
    client = app.test_client()

    missing = client.get("/", query_string={"todo_id": "9999"})
    found = client.get("/", query_string={"todo_id": "3"})

    assert_not_found(missing.status_code, missing.get_json())
    assert missing.headers["cache-control"] == "no-store"
    assert found.status_code == 200 and found.get_json()["id"] == 3
