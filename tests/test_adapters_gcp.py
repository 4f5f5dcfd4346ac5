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
    from pydantic import BaseModel
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
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = tmp_path_factory.mktemp("gcf") / "main.py"
    source.write_text(textwrap.dedent(MAIN))
    app = functions_framework.create_app(target="profile_http", source=str(source))
    return app.test_client()


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


def test_json_body_is_the_input_of_a_post(client: Any, backend: respx.MockRouter) -> None:
    response = client.post("/", json={"user_id": 7})

    assert response.status_code == 200
    assert response.get_json()["id"] == 7


def test_bad_input_is_a_400_naming_the_field(client: Any) -> None:
    response = client.get("/?user_id=seven")

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "user_id"


def test_body_over_the_cap_is_a_413(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFF_MAX_BODY_BYTES", "64")
    response = client.post("/", data=json.dumps({"user_id": 7, "pad": "x" * 100}))

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
