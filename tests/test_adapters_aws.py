"""AWS Lambda adapter: real sample events through `fn.handler(event, context)`."""

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

from sff import Backend, Function
from sff.adapters import _settings, runtime

EVENTS = Path(__file__).parent / "events"
BASE = "http://users.test"

users = Backend("users", default=BASE, forward_headers=("header1", "header2", "cookie"))


class Query(BaseModel):
    parameter1: str | list[str] = "-"
    parameter2: str = "-"


lookup = Function(
    "lookup",
    input=Query,
    sources={"found": users.get("/lookup", query={"p1": "input.parameter1"})},
    shape="{input: input, found: found}",
)


class Payload(BaseModel):
    message: str
    username: str
    parameter1: str


create = Function(
    "create",
    input=Payload,
    method="POST",
    sources={"saved": users.post("/messages", body="input")},
    shape="{saved: saved}",
)


class LambdaContext:
    def __init__(self, remaining_ms: int = 3000, request_id: str = "lambda-req-1") -> None:
        self.aws_request_id = request_id
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


# Triggers that do no routing: sff matches the path against the function's route, so the
# sample events are sent to the route of `lookup`.
UNROUTED = {
    "aws_lambdaFunctionUrlEvent": "rawPath",
    "aws_lambdaFunctionUrlEventWithHeaders": "rawPath",
    "aws_albEvent": "path",
    "aws_albMultiValueHeadersEvent": "path",
}


def event(name: str, path: str = "/lookup") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    if name in UNROUTED:
        data[UNROUTED[name]] = path
    return data


@pytest.fixture(autouse=True)
def clean_settings() -> Iterator[None]:
    yield
    _settings.reset()
    runtime.stop()


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/lookup").respond(json={"hit": True})
        mock.post("/messages").mock(
            side_effect=lambda request: httpx.Response(201, content=request.content)
        )
        yield mock


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def test_rest_v1_maps_multi_value_query_to_a_list_and_forwards_listed_headers(
    backend: respx.MockRouter,
) -> None:
    answer = lookup.handler(event("aws_apiGatewayProxyEvent"), LambdaContext())

    assert answer["statusCode"] == 200
    assert answer["isBase64Encoded"] is False
    assert body(answer)["input"] == {"parameter1": ["value1", "value2"], "parameter2": "value"}
    sent = backend.calls.last.request
    assert sent.url.params.get_list("p1") == ["value1", "value2"]
    assert sent.headers["header1"] == "value1"
    assert sent.headers["header2"] == "value1, value2"  # multiValueHeaders, joined
    assert sent.headers["x-request-id"] == "lambda-req-1"
    assert answer["headers"]["x-request-id"] == "lambda-req-1"


def test_http_api_v2_get_reads_repeated_keys_from_raw_query_and_path_parameters_win(
    backend: respx.MockRouter,
) -> None:
    answer = lookup.handler(event("aws_apiGatewayProxyV2Event_GET"), LambdaContext())

    assert answer["statusCode"] == 200
    # rawQueryString repeats parameter1; the route's pathParameters name it too and win.
    assert body(answer)["input"] == {"parameter1": "value1", "parameter2": "value"}
    sent = backend.calls.last.request
    assert sent.headers["header2"] == "value1,value2"
    assert sent.headers["cookie"] == "cookie1; cookie2"


def test_http_api_v2_post_merges_json_body_query_and_path_into_the_input(
    backend: respx.MockRouter,
) -> None:
    answer = create.handler(event("aws_apiGatewayProxyV2Event"), LambdaContext())

    assert answer["statusCode"] == 200, answer
    assert body(answer)["saved"] == {
        "message": "hello world",
        "username": "tom",
        "parameter1": "value1",
    }
    assert json.loads(backend.calls.last.request.content)["username"] == "tom"


def test_function_url_event_without_query_gives_the_model_defaults(
    backend: respx.MockRouter,
) -> None:
    answer = lookup.handler(event("aws_lambdaFunctionUrlEvent"), LambdaContext())

    assert answer["statusCode"] == 200
    assert body(answer)["input"] == {"parameter1": "-", "parameter2": "-"}


def test_function_url_event_falls_back_to_query_string_parameters(
    backend: respx.MockRouter,
) -> None:
    answer = lookup.handler(event("aws_lambdaFunctionUrlEventWithHeaders"), LambdaContext())

    assert body(answer)["input"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert backend.calls.last.request.headers["header1"] == "value1"


def test_alb_event_answers_with_status_description_and_single_headers(
    backend: respx.MockRouter,
) -> None:
    alb = event("aws_albEvent")
    alb["queryStringParameters"] = {"parameter1": "a%20b", "parameter2": "x+y"}

    answer = lookup.handler(alb, LambdaContext())

    assert answer["statusCode"] == 200
    assert answer["statusDescription"] == "200 OK"
    assert "multiValueHeaders" not in answer
    assert answer["headers"]["content-type"] == "application/json"
    # ALB passes the query on still percent-encoded: decoded before it becomes input.
    assert body(answer)["input"] == {"parameter1": "a b", "parameter2": "x y"}


def test_alb_multi_value_event_is_answered_with_multi_value_headers(
    backend: respx.MockRouter,
) -> None:
    answer = lookup.handler(event("aws_albMultiValueHeadersEvent"), LambdaContext())

    assert answer["statusCode"] == 200
    assert "headers" not in answer
    assert answer["multiValueHeaders"]["content-type"] == ["application/json"]
    assert answer["multiValueHeaders"]["x-request-id"] == ["lambda-req-1"]


def test_base64_body_is_decoded_binary_safe(backend: respx.MockRouter) -> None:
    post = event("aws_apiGatewayProxyV2Event")
    text = '{"message": "h\u00e9llo \u2603", "username": "tom"}'
    post["body"] = base64.b64encode(text.encode("utf-8")).decode()
    post["isBase64Encoded"] = True

    answer = create.handler(post, LambdaContext())

    assert answer["statusCode"] == 200
    assert body(answer)["saved"]["message"] == "h\u00e9llo \u2603"


def test_invalid_base64_body_is_a_400_in_the_platform_format() -> None:
    post = event("aws_apiGatewayProxyV2Event")
    post["body"], post["isBase64Encoded"] = "not base64!!", True

    answer = create.handler(post, LambdaContext())

    assert answer["statusCode"] == 400
    assert answer["isBase64Encoded"] is False
    assert body(answer)["error"]["code"] == "bad_request"
    assert "base64" in body(answer)["error"]["message"]


def test_body_that_is_not_json_is_a_400_naming_the_body() -> None:
    post = event("aws_apiGatewayProxyV2Event")
    post["body"] = "Hello from Lambda!"

    answer = create.handler(post, LambdaContext())

    assert answer["statusCode"] == 400
    assert body(answer)["error"]["field"] == "(body)"


def test_header_with_cr_lf_is_rejected_before_any_backend_call(
    backend: respx.MockRouter,
) -> None:
    bad = event("aws_apiGatewayProxyV2Event_GET")
    bad["headers"]["Header1"] = "value\r\nx-injected: 1"

    answer = lookup.handler(bad, LambdaContext())

    assert answer["statusCode"] == 400
    assert "CR, LF" in body(answer)["error"]["message"]
    assert not backend.calls


def test_oversize_body_is_a_413(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFF_MAX_BODY_BYTES", "1000")
    post = event("aws_apiGatewayProxyV2Event")
    post["body"] = json.dumps({"message": "x" * 2000, "username": "tom"})

    answer = create.handler(post, LambdaContext())

    assert answer["statusCode"] == 413
    assert body(answer)["error"]["code"] == "payload_too_large"


def test_oversize_base64_body_is_a_413_without_decoding_it() -> None:
    post = event("aws_apiGatewayProxyV2Event")
    post["body"] = base64.b64encode(b"{" + b" " * (7 * 1024 * 1024) + b"}").decode()
    post["isBase64Encoded"] = True

    assert create.handler(post, LambdaContext())["statusCode"] == 413


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("aws_sqsEvent", "looks like SQS (Records[].eventSource=aws:sqs)"),
        ("aws_eventBridgeEvent", "looks like EventBridge"),
    ],
)
def test_non_http_events_are_a_400_naming_what_was_received(name: str, words: str) -> None:
    answer = lookup.handler(event(name), LambdaContext())

    assert answer["statusCode"] == 400
    error = body(answer)["error"]
    assert error["code"] == "unsupported_event"
    assert words in error["message"]
    assert answer["headers"]["x-request-id"] == "lambda-req-1"


def test_http_like_event_without_platform_markers_is_a_400() -> None:
    answer = lookup.handler({"httpMethod": "GET", "path": "/x"}, LambdaContext())

    assert answer["statusCode"] == 400
    assert "no known platform's markers" in body(answer)["error"]["message"]


def test_malformed_headers_in_a_known_event_are_a_400_not_a_crash() -> None:
    bad = event("aws_apiGatewayProxyV2Event_GET")
    bad["headers"] = ["not", "an", "object"]

    answer = lookup.handler(bad, LambdaContext())

    assert answer["statusCode"] == 400
    assert "headers is list" in body(answer)["error"]["message"]


def test_lambda_remaining_time_bounds_a_slow_source() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3)
        return httpx.Response(200, json={})

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/lookup").mock(side_effect=slow)
        started = time.monotonic()
        answer = lookup.handler(event("aws_apiGatewayProxyV2Event_GET"), LambdaContext(300))
        elapsed = time.monotonic() - started

    assert answer["statusCode"] in (502, 504)
    assert "found" in answer["body"]  # names the source that ran out of time
    assert elapsed < 0.6
    assert answer["headers"]["x-request-id"] == "lambda-req-1"


def test_event_request_id_is_used_when_there_is_no_context(backend: respx.MockRouter) -> None:
    answer = lookup.handler(event("aws_apiGatewayProxyEvent"), None)

    assert answer["headers"]["x-request-id"] == "id="
    assert backend.calls.last.request.headers["x-request-id"] == "id="


def test_answer_is_logged_with_the_request_id(
    backend: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="sff.adapters")

    lookup.handler(event("aws_apiGatewayProxyV2Event_GET"), LambdaContext())

    lines = [r.getMessage() for r in caplog.records if r.name == "sff.adapters"]
    assert any("request_id=lambda-req-1" in line and "status=200" in line for line in lines)
    assert not any("parameter" in line for line in lines)  # the query never reaches a log


def test_an_unexpected_failure_is_a_500_answer_without_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(lookup, "invoke", broken)

    answer = lookup.handler(event("aws_apiGatewayProxyV2Event_GET"), LambdaContext())

    assert answer["statusCode"] == 500
    assert body(answer)["error"] == {
        "code": "internal",
        "message": "internal error",
        "request_id": "lambda-req-1",
    }


def test_an_event_no_check_foresaw_is_a_400_not_a_crash() -> None:
    odd = event("aws_apiGatewayProxyV2Event_GET")
    odd["rawQueryString"] = ""

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    odd["queryStringParameters"] = {"a": Unprintable()}

    answer = lookup.handler(odd, LambdaContext())

    assert answer["statusCode"] == 400
    assert "malformed event" in body(answer)["error"]["message"]


class ProductQuery(BaseModel):
    product_id: int = Field(ge=1)


product = Function(
    "product",
    input=ProductQuery,
    route="/products/{product_id}",
    sources={"found": users.get("/lookup", query={"p1": "input.product_id"})},
    shape="{id: input.product_id, found: found}",
)


@pytest.mark.parametrize(
    "name", ["aws_lambdaFunctionUrlEvent", "aws_albEvent", "aws_albMultiValueHeadersEvent"]
)
def test_unrouted_triggers_fill_path_parameters_typed_by_the_input_model(
    name: str, backend: respx.MockRouter
) -> None:
    answer = product.handler(event(name, "/products/2"), LambdaContext())

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["id"] == 2  # an int, as the model says
    assert backend.calls.last.request.url.params["p1"] == "2"


@pytest.mark.parametrize("name", ["aws_lambdaFunctionUrlEvent", "aws_albEvent"])
def test_unrouted_triggers_answer_a_path_off_the_route_with_a_404_naming_it(
    name: str, backend: respx.MockRouter
) -> None:
    answer = product.handler(event(name, "/products/2/extra"), LambdaContext())

    assert answer["statusCode"] == 404
    error = json.loads(answer["body"])["error"]
    assert error["code"] == "not_found" and "GET /products/{product_id}" in error["message"]
    assert error["routes"] == ["GET /products/{product_id}"]
    assert not backend.calls


def test_function_url_with_another_method_is_a_405_with_allow(backend: respx.MockRouter) -> None:
    url = event("aws_lambdaFunctionUrlEvent", "/products/2")
    url["requestContext"]["http"]["method"] = "DELETE"

    answer = product.handler(url, LambdaContext())

    assert answer["statusCode"] == 405
    assert answer["headers"]["allow"] == "GET, OPTIONS"


def test_a_percent_encoded_slash_stays_inside_its_path_parameter() -> None:
    answer = product.handler(
        event("aws_lambdaFunctionUrlEvent", "/products/1%2F2"), LambdaContext()
    )

    assert answer["statusCode"] == 400  # "1/2" is one segment, and no int
    assert json.loads(answer["body"])["error"]["field"] == "product_id"


def test_api_gateway_routes_keep_the_platforms_path_parameters(backend: respx.MockRouter) -> None:
    v2 = event("aws_apiGatewayProxyV2Event_GET")
    v2["requestContext"]["routeKey"] = "GET /products/{product_id}"
    v2["rawPath"] = "/stage-or-mapping/products/5"  # API Gateway already routed it
    v2["pathParameters"] = {"product_id": "5"}

    answer = product.handler(v2, LambdaContext())

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["id"] == 5


def slow_lookup(seconds: float) -> Any:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(seconds)
        return httpx.Response(200, json={})

    return slow


def test_a_504_names_the_platforms_remaining_time_when_that_ran_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFF_DEADLINE_MARGIN_MS", "100")
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/lookup").mock(side_effect=slow_lookup(3))
        answer = lookup.handler(event("aws_apiGatewayProxyV2Event_GET"), LambdaContext(300))

    error = json.loads(answer["body"])["error"]
    assert answer["statusCode"] == 504 and error["code"] == "deadline"
    assert error["message"] == (
        "function 'lookup' ran out of time: the platform's remaining time (0.3s, less the "
        "0.1s kept to answer before the platform ends the instance); unfinished: found"
    )


def test_a_504_names_the_functions_own_timeout_when_that_ran_out() -> None:
    quick = Function(
        "quick",
        timeout="200ms",
        route="/my/path",
        sources={"found": users.get("/lookup")},
    )
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/lookup").mock(side_effect=slow_lookup(3))
        answer = quick.handler(event("aws_apiGatewayProxyV2Event_GET"), LambdaContext(60_000))

    error = json.loads(answer["body"])["error"]
    assert answer["statusCode"] == 504
    assert error["message"] == (
        "function 'quick' ran out of time: its timeout (0.2s); unfinished: found"
    )


def test_the_deadline_margin_is_a_setting_with_a_default_for_slow_instances(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SFF_DEADLINE_MARGIN_MS", raising=False)
    assert _settings.current().deadline_margin_s == 0.5
    monkeypatch.setenv("SFF_DEADLINE_MARGIN_MS", "250")
    assert _settings.current().deadline_margin_s == 0.25
    _settings.configure(deadline_margin=1.5)
    assert _settings.current().deadline_margin_s == 1.5
    with pytest.raises(ValueError):
        _settings.configure(deadline_margin=-1)
