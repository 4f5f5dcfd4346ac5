"""ONE request -> input parser for every front: the same table of requests goes through
the `sff serve` gateway (real uvicorn over loopback), the ASGI app, Lambda (HTTP API v2,
REST v1, ALB), Function Compute's HTTP trigger and Google Cloud Functions
(functions-framework), and every front gives the same answer."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import socket
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import urlencode, urlsplit

import h11
import httpx
import pytest

from sff.adapters import aliyun_fc, aws_lambda
from sff.adapters.asgi import app as asgi_app
from sff.adapters.gcp import entry
from sff.routes import match_route
from tests.test_serve_support import make_project, running_gateway

ECHO = """
    from sff import Function, call

    async def back(data):
        return {"got": data}

    echo = Function("echo", method="POST", sources={"back": call(back, {"data": "input"})},
                    shape="back")
    item = Function("item", method="POST", route="/items/{item_id}",
                    sources={"back": call(back, {"data": "input"})}, shape="back")
"""
DEEP = b"[" * 5000 + b"]" * 5000
TOO_LARGE = b'{"x": "' + b"a" * (7 * 1024 * 1024) + b'"}'  # over the 6 MB default
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class Row:
    name: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    status: int = 200
    answer: Any = None  # the whole body for a 200, the error code otherwise
    path: str = "/echo"
    function: str = "echo"


TABLE = [
    Row("query", [("a", "1"), ("b", "two")], answer={"got": {"a": "1", "b": "two"}}),
    Row("json body over query", [("a", "1")], JSON, b'{"a": 3, "c": [1, 2]}',
        answer={"got": {"a": 3, "c": [1, 2]}}),
    Row("json array alone", [], JSON, b"[1, 2]", answer={"got": [1, 2]}),
    Row("form body", [("a", "1")], FORM, b"product_id=3&email=a%40b.c",
        answer={"got": {"a": "1", "product_id": "3", "email": "a@b.c"}}),
    Row("array with query", [("a", "1")], JSON, b"[1]", 400, "bad_request"),
    Row("invalid json", [], JSON, b"{nope", 400, "bad_request"),
    Row("deep json", [], JSON, DEEP, 400, "bad_request"),
    Row("NaN in json", [], JSON, b'{"x": NaN}', 400, "bad_request"),
    Row("overflowing number in json", [], JSON, b'{"x": -1e999}', 400, "bad_request"),
    Row("nul in a header", [], {"x-trace": "a\x00b"}, b"", 400, "bad_request"),
    Row("body too large", [], JSON, TOO_LARGE, 413, "payload_too_large"),
    Row("over max_input_bytes", [], JSON, b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', 413,
        "payload_too_large"),
    Row("path parameter over body and query", [("item_id", "q")], JSON, b'{"item_id": "b"}',
        answer={"got": {"item_id": "7"}}, path="/items/7", function="item"),
]  # fmt: skip
Front = Callable[[Row], tuple[int, Any]]


def outcome(status: int, body: Any) -> tuple[int, Any]:
    return (status, body) if status == 200 else (status, body["error"]["code"])


@pytest.fixture(scope="module")
def echo_module(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    path = tmp_path_factory.mktemp("echo-front") / "echo_front.py"
    path.write_text(textwrap.dedent(ECHO))
    spec = importlib.util.spec_from_file_location("echo_front", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    project = make_project(tmp_path_factory.mktemp("fronts") / "p", {"echo.py": ECHO})
    with running_gateway(project, tmp_path_factory.mktemp("fronts-logs")) as gw:
        yield gw.url


def via_gateway(url: str) -> Front:
    def send(row: Row) -> tuple[int, Any]:
        if any("\0" in v for v in row.headers.values()):
            return raw_to_gateway(url, row)  # no HTTP client sends this; an attacker does
        answer = httpx.post(f"{url}{row.path}", params=row.query, headers=row.headers,
                            content=row.body, timeout=60)  # fmt: skip
        return outcome(answer.status_code, answer.json())

    return send


def raw_to_gateway(url: str, row: Row) -> tuple[int, Any]:
    parts = urlsplit(url)
    head = f"POST /echo HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: 0\r\n"
    extra = "".join(f"{k}: {v}\r\n" for k, v in row.headers.items())
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall((head + extra + "\r\n").encode("latin-1"))
        client = h11.Connection(h11.CLIENT)
        client.send(h11.Request(method="POST", target="/", headers=[("host", "x")]))
        status, body = 0, b""
        while not isinstance(event := client.next_event(), h11.EndOfMessage):
            if event is h11.NEED_DATA:
                client.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
    return outcome(status, json.loads(body))


def via_asgi(module: ModuleType) -> Front:
    application = asgi_app(module.echo, module.item)

    async def call(row: Row) -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://sff.test") as client:
            return await client.post(row.path, params=row.query, headers=row.headers,
                                     content=row.body)  # fmt: skip

    def send(row: Row) -> tuple[int, Any]:
        answer = asyncio.run(call(row))
        return outcome(answer.status_code, answer.json())

    return send


def encoded(row: Row) -> str:
    return base64.b64encode(row.body).decode()


def lambda_v2(row: Row) -> dict[str, Any]:
    return {
        "version": "2.0", "rawPath": row.path, "rawQueryString": urlencode(row.query),
        "headers": row.headers, "body": encoded(row), "isBase64Encoded": True,
        "requestContext": {"http": {"method": "POST", "path": row.path}, "requestId": "r"},
    }  # fmt: skip


def lambda_v1(row: Row) -> dict[str, Any]:
    return {
        "httpMethod": "POST", "path": row.path, "headers": row.headers,
        "queryStringParameters": dict(row.query) or None, "body": encoded(row),
        "isBase64Encoded": True, "requestContext": {"requestId": "r", "stage": "prod"},
    }  # fmt: skip


def lambda_alb(row: Row) -> dict[str, Any]:
    return {
        "httpMethod": "POST", "path": row.path, "headers": row.headers,
        "queryStringParameters": {k: v for k, v in row.query}, "body": encoded(row),
        "isBase64Encoded": True, "requestContext": {"elb": {"targetGroupArn": "arn:x"}},
    }  # fmt: skip


def via_lambda(module: ModuleType, build: Callable[[Row], dict[str, Any]]) -> Front:
    def send(row: Row) -> tuple[int, Any]:
        fn, event = getattr(module, row.function), build(row)
        if event.get("requestContext", {}).get("stage"):  # REST: API Gateway did the routing
            event["pathParameters"] = match_route(fn.route, row.path)
        answer = aws_lambda.handle_event(fn, event, None)
        return outcome(answer["statusCode"], json.loads(answer["body"]))

    return send


def via_fc(module: ModuleType) -> Front:
    def send(row: Row) -> tuple[int, Any]:
        event = {
            "version": "v1", "rawPath": row.path, "headers": row.headers,
            "queryParameters": dict(row.query), "body": encoded(row), "isBase64Encoded": True,
            "requestContext": {"http": {"method": "POST", "path": row.path}, "requestId": "r"},
        }  # fmt: skip
        answer = aliyun_fc.handle_event(getattr(module, row.function), event, None)
        return outcome(answer["statusCode"], json.loads(answer["body"]))

    return send


def via_gcp(module: ModuleType) -> Front:
    from flask import Flask

    flask = Flask("gcp-front")

    def send(row: Row) -> tuple[int, Any]:
        serve = entry(getattr(module, row.function))
        with flask.test_request_context(
            row.path, method="POST", query_string=row.query, headers=row.headers, data=row.body
        ):
            from flask import request

            body, status, _ = serve(request)
        return outcome(status, json.loads(body))

    return send


@pytest.fixture(scope="module")
def fronts(echo_module: ModuleType, gateway_url: str) -> dict[str, Front]:
    return {
        "sff serve": via_gateway(gateway_url),
        "asgi": via_asgi(echo_module),
        "lambda http api": via_lambda(echo_module, lambda_v2),
        "lambda rest": via_lambda(echo_module, lambda_v1),
        "lambda alb": via_lambda(echo_module, lambda_alb),
        "function compute": via_fc(echo_module),
        "gcp": via_gcp(echo_module),
    }


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_every_front_gives_the_same_answer(row: Row, fronts: dict[str, Front]) -> None:
    answers = {name: send(row) for name, send in fronts.items()}

    assert answers == {name: (row.status, row.answer) for name in fronts}
