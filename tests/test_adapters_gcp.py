"""Google Cloud Functions: an `entry(fn)` served by functions-framework's own app."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import respx

functions_framework = pytest.importorskip("functions_framework")

BASE = "http://users.test"
MAIN = """
    from pydantic import BaseModel, Field
    from sff import Backend, Function
    from sff.adapters.gcp import entry

    users = Backend("users", default="http://users.test", forward_headers=("authorization",))

    class Query(BaseModel):
        user_id: int

    profile = Function(
        "profile",
        input=Query,
        sources={"user": users.get("/users/{input.user_id}")},
        shape="{id: user.id, name: user.name}",
    )
    profile_http = entry(profile)

    class Product(BaseModel):
        product_id: int = Field(ge=1)

    product = Function(
        "product",
        input=Product,
        route="/products/{product_id}",
        sources={"user": users.get("/users/{input.product_id}")},
        shape="{id: user.id, asked: input.product_id}",
    )
    product_http = entry(product)

    saved = Function(
        "saved",
        method="POST",
        input=Query,
        sources={"user": users.get("/users/{input.user_id}")},
        shape="{id: user.id}",
    )
    saved_http = entry(saved)
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("gcf") / "main.py"
    path.write_text(textwrap.dedent(MAIN))
    return str(path)


def client_of(source: str, target: str) -> Any:
    return functions_framework.create_app(target=target, source=source).test_client()


@pytest.fixture(scope="module")
def client(source: str) -> Any:
    return client_of(source, "profile_http")


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/users/7").respond(json={"id": 7, "name": "Ada"})
        yield mock


def test_query_becomes_the_input_and_listed_headers_reach_the_backend(
    client: Any, backend: respx.MockRouter
) -> None:
    response = client.get(
        "/?user_id=7",
        headers={"Authorization": "Bearer t", "Function-Execution-Id": "gcf-exec-1"},
    )

    assert response.status_code == 200
    assert response.get_json() == {"id": 7, "name": "Ada"}
    assert response.headers["x-request-id"] == "gcf-exec-1"
    sent = backend.calls.last.request
    assert sent.headers["authorization"] == "Bearer t"
    assert sent.headers["x-request-id"] == "gcf-exec-1"


def test_json_body_is_the_input_of_a_post(source: str, backend: respx.MockRouter) -> None:
    response = client_of(source, "saved_http").post("/", json={"user_id": 7})

    assert response.status_code == 200
    assert response.get_json()["id"] == 7


def test_another_method_is_a_405_with_allow(client: Any, backend: respx.MockRouter) -> None:
    response = client.post("/", json={"user_id": 7})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, OPTIONS"
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert not backend.calls


def test_options_is_a_preflight_not_a_405(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFF_CORS_ORIGINS", "https://app.example")
    response = client.options(
        "/", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "GET" in response.headers["access-control-allow-methods"]


def test_the_route_fills_path_parameters_typed_by_the_input_model(
    source: str, backend: respx.MockRouter
) -> None:
    product = client_of(source, "product_http")

    response = product.get("/products/7")

    assert response.status_code == 200
    assert response.get_json() == {"id": 7, "asked": 7}


def test_a_path_off_the_route_is_a_404_naming_it(source: str, backend: respx.MockRouter) -> None:
    product = client_of(source, "product_http")

    off = product.get("/items/7")
    low = product.get("/products/0")

    assert off.status_code == 404
    assert "GET /products/{product_id}" in off.get_json()["error"]["message"]
    assert low.status_code == 400 and low.get_json()["error"]["field"] == "product_id"
    assert not backend.calls


def test_bad_input_is_a_400_naming_the_field(client: Any) -> None:
    response = client.get("/?user_id=seven")

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "user_id"


def test_body_over_the_cap_is_a_413(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFF_MAX_BODY_BYTES", "64")
    saved = client_of(source, "saved_http")
    response = saved.post("/", data=json.dumps({"user_id": 7, "pad": "x" * 100}))

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
