"""One SffError tree with stable codes and statuses; every error path is an answer, never a
traceback, through `fn.handler(event, context)` too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel, model_validator

from sff import (
    Backend,
    ContractError,
    DeadlineError,
    DeclarationError,
    ExpressionError,
    Function,
    InputError,
    PlanError,
    Retry,
    SffError,
    SourceError,
)
from sff.errors import InvocationError

BASE = "http://api.test"
api = Backend("api", default=BASE, retry=Retry.none())


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


class Query(BaseModel):
    user_id: int


class User(BaseModel):
    name: str


echo = Function(
    "echo",
    input=Query,
    sources={"user": api.get("/users/{input.user_id}")},
    shape={"name": "user.name"},
    contract=User,
)


def body_of(answer: dict[str, Any]) -> Any:
    assert set(answer) >= {"statusCode", "headers", "body"}
    assert isinstance(answer["body"], str)
    assert "Traceback" not in answer["body"]
    return json.loads(answer["body"])


# -- the tree --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "parent", "code", "status"),
    [
        (DeclarationError, SffError, "declaration", 500),
        (ExpressionError, DeclarationError, "bad_expression", 500),
        (PlanError, DeclarationError, "bad_plan", 500),
        (InvocationError, SffError, "invocation", 500),
        (InputError, InvocationError, "invalid_input", 400),
        (SourceError, InvocationError, "source_failed", 502),
        (DeadlineError, InvocationError, "deadline", 504),
        (ContractError, InvocationError, "contract_mismatch", 502),
    ],
)
def test_error_tree_has_stable_codes_and_statuses(
    cls: type[SffError], parent: type[SffError], code: str, status: int
) -> None:
    assert issubclass(cls, parent)
    assert (cls.code, cls.status) == (code, status)


def test_error_body_carries_code_message_and_detail_without_nulls() -> None:
    error = SourceError("user", "GET /users/1: HTTP 500", status=500, excerpt=None)
    assert error.to_dict() == {
        "error": {
            "code": "source_failed",
            "message": "source 'user' failed: GET /users/1: HTTP 500",
            "source": "user",
            "cause": "GET /users/1: HTTP 500",
            "upstream_status": 500,
        }
    }


def test_expression_error_without_column_has_no_caret() -> None:
    error = ExpressionError("bad", function="f", where="shape", expression="x", column=None)
    assert "^" not in str(error)


# -- the handler -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event", [{"user_id": 1}, '{"user_id": 1}', b'{"user_id": 1}', bytearray(b'{"user_id": 1}')]
)
def test_handler_accepts_dict_json_text_and_bytes(mock: respx.MockRouter, event: Any) -> None:
    mock.get(f"{BASE}/users/1").respond(json={"name": "ann"})
    answer = echo.handler(event, None)
    assert answer["statusCode"] == 200
    assert body_of(answer) == {"name": "ann"}
    assert answer["headers"]["content-type"].startswith("application/json")
    assert answer["headers"]["x-request-id"]


@pytest.mark.parametrize("event", ["{not json", b"\xff\xfe{", "[1, 2"])
def test_handler_answers_invalid_json_with_400(event: Any) -> None:
    answer = echo.handler(event, None)
    assert answer["statusCode"] == 400
    assert body_of(answer)["error"]["code"] == "invalid_input"


def test_handler_answers_bad_input_with_400_naming_the_field() -> None:
    answer = echo.handler({"user_id": "nope"}, None)
    assert answer["statusCode"] == 400
    error = body_of(answer)["error"]
    assert error["field"] == "user_id"
    assert "user_id" in error["message"]


def test_handler_answers_a_failed_source_with_502_naming_it(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/users/1").respond(500, text="db down")
    answer = echo.handler({"user_id": 1}, None)
    assert answer["statusCode"] == 502
    error = body_of(answer)["error"]
    assert (error["code"], error["source"], error["upstream_status"]) == (
        "source_failed",
        "user",
        500,
    )
    assert "excerpt" not in error and "db down" not in json.dumps(error)


def test_handler_answers_a_contract_mismatch_with_502(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/users/1").respond(json={"name": 5})
    answer = echo.handler({"user_id": 1}, None)
    assert answer["statusCode"] == 502
    error = body_of(answer)["error"]
    assert (error["code"], error["field"], error["expression"]) == (
        "contract_mismatch",
        "name",
        "user.name",
    )


def test_handler_answers_a_deadline_with_504(mock: respx.MockRouter) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        import asyncio

        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    mock.get(f"{BASE}/slow").mock(side_effect=hang)
    fn = Function("slow", sources={"slow": api.get("/slow")}, timeout="200ms")
    answer = fn.handler({}, None)
    assert answer["statusCode"] == 504
    assert body_of(answer)["error"]["code"] == "deadline"


def test_handler_answers_an_unexpected_failure_with_500_and_no_traceback(
    mock: respx.MockRouter,
) -> None:
    class Fussy(BaseModel):
        name: str

        @model_validator(mode="before")
        @classmethod
        def explode(cls, data: Any) -> Any:
            raise KeyError("secret-internal-detail")  # not a ValueError: pydantic re-raises

    mock.get(f"{BASE}/users/1").respond(json={"name": "ann"})
    fn = Function(
        "fussy",
        sources={"user": api.get("/users/1")},
        shape={"name": "user.name"},
        contract=Fussy,
    )
    answer = fn.handler({}, None)
    assert answer["statusCode"] == 500
    body = body_of(answer)
    assert "error" in body
    assert "secret-internal-detail" not in answer["body"]


@pytest.mark.parametrize(
    "respond",
    [
        {"status_code": 500, "text": "x"},
        {"status_code": 200, "text": "not json"},
        {"status_code": 200, "content": b""},
        {"status_code": 302, "headers": {"location": "/elsewhere"}},
        {"status_code": 404, "json": {"error": "nope"}},
    ],
)
def test_no_failing_source_leaks_a_traceback(
    mock: respx.MockRouter, respond: dict[str, Any]
) -> None:
    mock.get(f"{BASE}/users/1").respond(**respond)
    answer = echo.handler({"user_id": 1}, None)
    assert answer["statusCode"] == 502
    assert body_of(answer)["error"]["source"] == "user"
