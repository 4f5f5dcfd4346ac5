"""Every front that answers with an ETag honours If-None-Match the same way (issue 17):
the `sff serve` gateway and the ASGI app, both under a real uvicorn over loopback, and a
platform adapter (Lambda). One helper, `sff.answer.conditional`, decides for all."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from sff.adapters import aws_lambda
from sff.adapters.asgi import app as asgi_app
from sff.answer import conditional
from sff.inbound import HttpResponse
from tests.test_serve_support import make_project, running_gateway
from tests.uvicorn_thread import serving

PAGE = """
    from sff import Function, call

    async def price(sku):
        return {"sku": sku, "price": 3}

    page = Function("page", route="/page", sources={"p": call(price, {"sku": "input.sku"})},
                    shape="p")
"""
# (status, body, etag, cache-control) as the caller sees them
Answer = tuple[int, bytes, str | None, str | None]
Front = Callable[[dict[str, str]], Answer]


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    import importlib.util

    path = tmp_path_factory.mktemp("conditional") / "conditional_page.py"
    path.write_text(textwrap.dedent(PAGE))
    spec = importlib.util.spec_from_file_location("conditional_page", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def over_http(url: str) -> Front:
    def send(headers: dict[str, str]) -> Answer:
        got = httpx.get(f"{url}/page", params={"sku": "a1"}, headers=headers, timeout=60)
        return (got.status_code, got.content, got.headers.get("etag"),
                got.headers.get("cache-control"))  # fmt: skip

    return send


def via_lambda(module: ModuleType) -> Front:
    def send(headers: dict[str, str]) -> Answer:
        event = {
            "version": "2.0", "rawPath": "/page", "rawQueryString": "sku=a1", "headers": headers,
            "requestContext": {"http": {"method": "GET", "path": "/page"}, "requestId": "r"},
        }  # fmt: skip
        got = aws_lambda.handle_event(module.page, event, None)
        h = got["headers"]
        return got["statusCode"], got["body"].encode(), h.get("etag"), h.get("cache-control")

    return send


@pytest.fixture(scope="module")
def fronts(
    module: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Front]]:
    project = make_project(tmp_path_factory.mktemp("cond") / "p", {"page.py": PAGE})
    with (
        running_gateway(project, tmp_path_factory.mktemp("cond-logs")) as gw,
        serving(asgi_app(module.page)) as asgi_url,
    ):
        yield {"sff serve": over_http(gw.url), "asgi": over_http(asgi_url),
               "lambda": via_lambda(module)}  # fmt: skip


def test_every_front_answers_304_to_an_etag_it_sent(fronts: dict[str, Front]) -> None:
    for name, send in fronts.items():
        status, body, tag, cache = send({})
        assert status == 200 and json.loads(body) == {"sku": "a1", "price": 3}, name
        assert tag is not None and cache == "no-cache", name
        again = send({"if-none-match": f'W/"x", {tag}'})
        assert again == (304, b"", tag, cache), name
        assert send({"if-none-match": "*"})[0] == 304, name
        other = send({"if-none-match": '"something-else"'})
        assert other[0] == 200 and json.loads(other[1]) == {"sku": "a1", "price": 3}, name


def test_the_etag_is_the_same_whichever_front_answered(fronts: dict[str, Front]) -> None:
    tags = {name: send({})[2] for name, send in fronts.items()}
    assert len(set(tags.values())) == 1, tags


def test_only_a_successful_get_or_head_becomes_a_304() -> None:
    ok = HttpResponse(200, {"etag": '"a"', "content-type": "application/json"}, b"{}")
    holds = {"if-none-match": '"a"'}
    assert conditional("GET", holds, ok).status == 304
    assert conditional("HEAD", holds, ok).status == 304
    assert "content-type" not in conditional("GET", holds, ok).headers
    assert conditional("POST", holds, ok) is ok
    assert conditional("GET", {}, ok) is ok
    failed = HttpResponse(502, {"etag": '"a"'}, b"{}")
    assert conditional("GET", holds, failed) is failed
    untagged = HttpResponse(200, {}, b"{}")
    assert conditional("GET", holds, untagged) is untagged


def test_the_gateway_reports_what_the_caller_got(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", {"page.py": PAGE})
    (tmp_path / "logs").mkdir()
    with running_gateway(project, tmp_path / "logs") as gw:
        tag = httpx.get(f"{gw.url}/page", timeout=60).headers["etag"]
        again = httpx.get(f"{gw.url}/page", headers={"if-none-match": tag}, timeout=60)
        assert again.status_code == 304
        recent = httpx.get(f"{gw.url}/_sff/invocations", timeout=60).json()
    assert [inv["status"] for inv in recent][-2:] == [200, 304]
