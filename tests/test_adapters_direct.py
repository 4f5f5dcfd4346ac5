"""Direct invocation and CORS, through `fn.handler(event, context)`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from pydantic import BaseModel

from sff import Backend, Function
from sff.adapters import _settings, configure, direct, runtime

EVENTS = Path(__file__).parent / "events"
BASE = "http://users.test"
users = Backend("users", default=BASE)


class Query(BaseModel):
    user_id: int


profile = Function(
    "profile",
    input=Query,
    sources={"user": users.get("/users/{input.user_id}")},
    shape="{id: user.id}",
)
echo = Function("echo", sources={"user": users.get("/users/1")}, shape="user")


class LambdaContext:
    aws_request_id = "direct-req"

    def get_remaining_time_in_millis(self) -> int:
        return 2000


@pytest.fixture(autouse=True)
def clean_settings() -> Iterator[None]:
    yield
    _settings.reset()
    runtime.stop()


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/users/7").respond(json={"id": 7})
        mock.get("/users/1").respond(json={"id": 1})
        yield mock


def event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


@pytest.mark.parametrize("payload", [{"user_id": 7}, '{"user_id": 7}', b'{"user_id": "7"}'])
def test_direct_event_is_the_input_as_dict_json_text_or_bytes(
    backend: respx.MockRouter, payload: Any
) -> None:
    answer = profile.handler(payload, LambdaContext())

    assert answer == {"statusCode": 200, "headers": answer["headers"], "body": '{"id":7}'}
    assert answer["headers"]["x-request-id"] == "direct-req"
    assert backend.calls.last.request.headers["x-request-id"] == "direct-req"


def test_direct_event_that_does_not_fit_the_input_is_a_400_naming_the_field() -> None:
    answer = profile.handler({"user_id": "seven"}, LambdaContext())

    assert answer["statusCode"] == 400
    assert body(answer)["error"]["field"] == "user_id"


def test_direct_module_handle_keeps_its_own_entry(backend: respx.MockRouter) -> None:
    answer = direct.handle(profile, '{"user_id": 7}', None)

    assert answer["statusCode"] == 200
    assert len(answer["headers"]["x-request-id"]) == 32


async def test_handler_called_from_async_code_still_answers(backend: respx.MockRouter) -> None:
    answer = profile.handler({"user_id": 7}, None)

    assert answer["statusCode"] == 200


def test_allowed_origin_gets_cors_headers(
    backend: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFF_CORS_ORIGINS", "https://app.example, https://aws.amazon.com")

    answer = echo.handler(event("aws_apiGatewayProxyEvent"), None)  # Origin: aws.amazon.com

    assert answer["statusCode"] == 200
    assert answer["headers"]["access-control-allow-origin"] == "https://aws.amazon.com"
    assert "x-request-id" in answer["headers"]["access-control-expose-headers"]
    assert answer["headers"]["vary"] == "origin"


def test_other_origins_get_no_allow_origin(backend: respx.MockRouter) -> None:
    configure(cors_origins=["https://app.example"])

    answer = echo.handler(event("aws_apiGatewayProxyEvent"), None)

    assert answer["statusCode"] == 200
    assert "access-control-allow-origin" not in answer["headers"]


def test_without_cors_settings_no_cors_header_is_added(backend: respx.MockRouter) -> None:
    answer = echo.handler(event("aws_apiGatewayProxyEvent"), None)

    assert not any(k.startswith("access-control") for k in answer["headers"])


def preflight(origin: str) -> dict[str, Any]:
    options = event("aws_apiGatewayProxyV2Event_GET")
    options["requestContext"]["http"]["method"] = "OPTIONS"
    options["headers"] = {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, x-trace",
    }
    return options


def test_preflight_from_an_allowed_origin_is_answered_without_invoking() -> None:
    configure(cors_origins="https://app.example")

    with respx.mock(assert_all_mocked=True) as mock:
        answer = echo.handler(preflight("https://app.example"), None)
        assert not mock.calls

    assert answer["statusCode"] == 204
    headers = answer["headers"]
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert headers["access-control-allow-headers"] == "authorization, x-trace"
    assert answer["body"] == ""


def test_preflight_from_another_origin_is_a_403() -> None:
    configure(cors_origins="https://app.example")

    answer = echo.handler(preflight("https://evil.example"), None)

    assert answer["statusCode"] == 403
    assert body(answer)["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in answer["headers"]


def test_wildcard_cors_allows_any_origin() -> None:
    configure(cors_origins="*")

    answer = echo.handler(preflight("https://anyone.example"), None)

    assert answer["statusCode"] == 204
    assert answer["headers"]["access-control-allow-origin"] == "*"
