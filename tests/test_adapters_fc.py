"""Function Compute 3.0: HTTP-trigger events as bytes, event invocation, context, hooks."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel, Field

import sff.http.client
from sff import Backend, Function
from sff.adapters import _settings, aliyun_fc, runtime

EVENTS = Path(__file__).parent / "events"
BASE = "http://todos.test"

todos = Backend("todos", default=BASE, forward_headers=("header1", "header2"))
listing = Function(
    "listing",
    route="/example",  # the docs example's path: the HTTP trigger does no routing
    sources={"todos": todos.get("/todos", query={"q": "input.parameter2"})},
    shape="{input: input, todos: todos}",
)
saving = Function(
    "saving",
    method="POST",
    route="/todos",
    sources={"saved": todos.post("/todos", body="input")},
    shape="saved",
)


class FunctionMeta:
    def __init__(self, timeout: float) -> None:
        self.name, self.handler, self.memory, self.timeout = "fn", "index.handler", 512, timeout


class FCContext:
    """The shape of FC 3.0's Python context: ``request_id`` and ``function.timeout`` (s)."""

    def __init__(self, timeout: float = 3, request_id: str = "fc-req-1") -> None:
        self.request_id = request_id
        self.function = FunctionMeta(timeout)
        self.region = "cn-hangzhou"


def raw_event(name: str) -> bytes:
    return (EVENTS / f"{name}.json").read_bytes()


def edited(name: str, **changes: Any) -> bytes:
    data = json.loads(raw_event(name))
    if name == "fc3_httpTrigger_devsapp_template":
        data["rawPath"] = "/todos"  # the template's own path is no function's route
    data.update(changes)
    return json.dumps(data).encode()


@pytest.fixture(autouse=True)
def clean_settings() -> Iterator[None]:
    yield
    _settings.reset()
    runtime.stop()


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/todos").respond(json=[{"id": 1}])
        mock.post("/todos").mock(
            side_effect=lambda request: httpx.Response(201, content=request.content)
        )
        yield mock


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def test_docs_example_as_bytes_keeps_comma_joined_query_values_as_strings(
    backend: respx.MockRouter,
) -> None:
    answer = listing.handler(raw_event("fc3_httpTrigger_docs_example"), FCContext())

    assert set(answer) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert answer["statusCode"] == 200
    assert answer["isBase64Encoded"] is False
    assert body(answer)["input"] == {"parameter1": "value1", "parameter2": "value1,value2"}
    sent = backend.calls.last.request
    assert sent.url.params["q"] == "value1,value2"
    assert sent.headers["header1"] == "value1"
    assert sent.headers["header2"] == "value1,value2"
    assert sent.headers["x-request-id"] == "fc-req-1"
    assert answer["headers"]["x-request-id"] == "fc-req-1"


def test_devsapp_template_with_a_non_json_body_is_a_400_in_fc_format() -> None:
    answer = saving.handler(edited("fc3_httpTrigger_devsapp_template"), FCContext())

    assert set(answer) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert answer["statusCode"] == 400
    assert body(answer)["error"]["field"] == "(body)"


def test_devsapp_template_with_a_base64_json_body_posts_it(backend: respx.MockRouter) -> None:
    payload = base64.b64encode(b'{"title": "write tests"}').decode()
    event = edited("fc3_httpTrigger_devsapp_template", body=payload, isBase64Encoded=True)

    answer = saving.handler(event, FCContext())

    assert answer["statusCode"] == 200
    assert body(answer) == {"title": "write tests"}
    assert json.loads(backend.calls.last.request.content) == {"title": "write tests"}


def test_event_request_id_is_used_when_the_context_has_none(backend: respx.MockRouter) -> None:
    event = json.loads(raw_event("fc3_httpTrigger_docs_example"))
    event["requestContext"]["requestId"] = "1-64f6cd87-0a1b2c3d"

    answer = listing.handler(json.dumps(event).encode(), None)

    assert answer["headers"]["x-request-id"] == "1-64f6cd87-0a1b2c3d"


def test_an_id_unfit_for_a_header_is_replaced_by_a_fresh_one(backend: respx.MockRouter) -> None:
    answer = listing.handler(raw_event("fc3_httpTrigger_docs_example"), None)  # masked: "***"

    rid = answer["headers"]["x-request-id"]
    assert "*" not in rid and len(rid) == 32
    assert backend.calls.last.request.headers["x-request-id"] == rid


def test_fc_function_timeout_bounds_a_slow_source() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3)
        return httpx.Response(200, json=[])

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/todos").mock(side_effect=slow)
        started = time.monotonic()
        answer = listing.handler(raw_event("fc3_httpTrigger_docs_example"), FCContext(0.3))
        elapsed = time.monotonic() - started

    assert answer["statusCode"] in (502, 504)
    assert elapsed < 0.6


def test_plain_event_invocation_bytes_are_the_input(backend: respx.MockRouter) -> None:
    answer = listing.handler(b'{"parameter2": "direct"}', FCContext())

    assert answer["statusCode"] == 200
    assert body(answer)["input"] == {"parameter2": "direct"}
    assert backend.calls.last.request.url.params["q"] == "direct"


def test_plain_event_invocation_with_bytes_that_are_not_json_is_a_400() -> None:
    answer = listing.handler(b"\xff not json", FCContext())

    assert answer["statusCode"] == 400
    assert answer["headers"]["x-request-id"] == "fc-req-1"


def test_url_encoded_raw_path_is_decoded(backend: respx.MockRouter) -> None:
    event = json.loads(raw_event("fc3_httpTrigger_docs_example"))
    event["rawPath"] = "/caf%C3%A9/x"
    request = aliyun_fc.to_request(event, _settings.current())

    assert request.path == "/caf\u00e9/x"


def test_initializer_and_pre_stop_keep_one_client_across_invocations(
    backend: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[httpx.AsyncClient] = []
    real = sff.http.client.new_client

    def counting(*args: Any, **kwargs: Any) -> httpx.AsyncClient:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(sff.http.client, "new_client", counting)

    aliyun_fc.initializer(FCContext())
    first = listing.handler(raw_event("fc3_httpTrigger_docs_example"), FCContext())
    second = listing.handler(raw_event("fc3_httpTrigger_docs_example"), FCContext())
    aliyun_fc.pre_stop(FCContext())

    assert first["statusCode"] == second["statusCode"] == 200
    assert len(made) == 1
    assert made[0].is_closed
    assert runtime.active() is None


class ProductQuery(BaseModel):
    product_id: int = Field(ge=1)


product = Function(
    "product",
    input=ProductQuery,
    route="/products/{product_id}",
    sources={"todos": todos.get("/todos", query={"q": "input.product_id"})},
    shape="{id: input.product_id}",
)


def test_http_trigger_fills_the_routes_path_parameters_typed_by_the_input_model(
    backend: respx.MockRouter,
) -> None:
    answer = product.handler(edited("fc3_httpTrigger_docs_example", rawPath="/products/2"), None)

    assert answer["statusCode"] == 200
    assert body(answer) == {"id": 2}


def test_http_trigger_path_off_the_route_is_a_404_naming_it(backend: respx.MockRouter) -> None:
    answer = product.handler(edited("fc3_httpTrigger_docs_example", rawPath="/products"), None)

    assert answer["statusCode"] == 404
    assert "GET /products/{product_id}" in body(answer)["error"]["message"]
    assert not backend.calls


def test_http_trigger_with_another_method_is_a_405() -> None:
    answer = saving.handler(edited("fc3_httpTrigger_docs_example", rawPath="/todos"), None)

    assert answer["statusCode"] == 405
    assert answer["headers"]["allow"] == "POST, OPTIONS"
