"""Mocked backends by name, fault injection and `invoke`, used directly (no pytester)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from sff import Backend, Fallback, Function, Result, SffError, SourceError, call
from sff.testing import MockBackends, UnmockedRequest, ainvoke, invoke

users = Backend("users", env="SFFT_USERS_API")
todos = Backend("todos", env="SFFT_TODOS_API")


class Query(BaseModel):
    user_id: int


class Profile(BaseModel):
    name: str
    team: str | None
    open: int


profile = Function(
    "profile",
    input=Query,
    sources={
        "user": users.get("/users/{input.user_id}"),
        "team": users.get("/teams/{user.team_id}", fallback=Fallback.omit(), timeout=0.2),
        "todos": todos.get(
            "/todos", query={"userId": "input.user_id"}, fallback=Fallback.value([])
        ),
    },
    shape="{name: user.name, team: team.name, open: length(todos[?!done])}",
    contract=Profile,
)
page = Function(
    "page",
    input=Query,
    sources={"profile": call(profile, {"user_id": "input.user_id"})},
    shape="{title: profile.name}",
)


def happy(backends: MockBackends) -> None:
    backends.users.get("/users/1").respond(json={"name": "Ada", "team_id": 3})
    backends.users.get("/teams/3").respond(json={"name": "Core"})
    backends.todos.get("/todos").respond(json=[{"done": False}, {"done": True}])


def ok(answer: Result | SffError) -> Result:
    assert isinstance(answer, Result), answer
    return answer


def test_backends_are_mocked_by_name_at_a_fake_base_url() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        result = ok(invoke(profile, {"user_id": 1}))
    assert result.data == Profile(name="Ada", team="Core", open=1)
    assert str(backends.users.calls[0].url) == "http://users.sff.test/users/1"
    assert backends.todos.calls[0].url.params["userId"] == "1"


def test_the_environment_is_restored_after_the_mocks_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFFT_USERS_API", "http://real.example")
    with MockBackends([profile]):
        assert users.base_url() == "http://users.sff.test"
    assert users.base_url() == "http://real.example"


def test_a_required_source_failing_is_a_502_naming_it() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        backends.users.get("/users/1").fail(503)
        answer = invoke(profile, {"user_id": 1})
    assert isinstance(answer, SourceError)
    assert (answer.status, answer.source) == (502, "user")
    assert answer.meta.sources["user"].attempts == 3  # retried: 503 is retryable


def test_an_optional_source_timing_out_is_degraded() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        backends.users.get("/teams/3").timeout()
        result = ok(invoke(profile, {"user_id": 1}))
    assert result.data.team is None
    assert result.meta.sources["team"].outcome == "degraded"


def test_a_slow_answer_trips_the_source_timeout() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        backends.users.get("/teams/3").respond(json={"name": "Core"}).slow(1.0)
        result = ok(invoke(profile, {"user_id": 1}))
    assert "timed out" in (result.meta.sources["team"].error or "")


def test_a_malformed_body_falls_back_with_an_invalid_json_error() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        backends.todos.get("/todos").malformed()
        result = ok(invoke(profile, {"user_id": 1}))
    assert result.data.open == 0
    assert "invalid JSON" in (result.meta.sources["todos"].error or "")


def test_a_sequence_answers_in_order_so_retries_recover() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        route = backends.users.get("/users/1").sequence(503, 503, {"name": "Bo", "team_id": 3})
        result = ok(invoke(profile, {"user_id": 1}))
    assert result.data.name == "Bo"
    assert route.call_count == 3


def test_a_sequence_status_200_uses_the_respond_body() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        backends.users.get("/users/1").respond(json={"name": "Cy", "team_id": 3}).sequence(503, 200)
        assert ok(invoke(profile, {"user_id": 1})).data.name == "Cy"


def test_the_latest_route_wins_over_an_earlier_general_one() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        backends.users.get("/teams/{id}").respond(json={"name": "Any"})
        backends.users.get("/teams/3").respond(json={"name": "Three"})
        assert ok(invoke(profile, {"user_id": 1})).data.team == "Three"


def test_an_unmocked_request_fails_naming_method_url_and_fix() -> None:
    with MockBackends([profile]) as backends, pytest.raises(UnmockedRequest) as caught:
        backends.todos.get("/todos").respond(json=[])  # leaves /users/7 the one unmocked call
        invoke(profile, {"user_id": 7})
    message = str(caught.value)
    assert "GET /users/7" in message and "backend 'users'" in message
    assert "backends.users.get('/users/7')" in message
    assert "GET http://users.sff.test/users/7 (backend 'users')" in backends.unmocked


def test_backends_of_called_functions_are_found() -> None:
    with MockBackends([page]) as backends:
        happy(backends)
        result = ok(invoke(page, {"user_id": 1}))
    assert result.data == {"title": "Ada"}
    assert sorted(backends.declared) == ["todos", "users"]


def test_invoke_points_the_mocks_at_a_function_not_known_before() -> None:
    with MockBackends() as backends:
        happy(backends)
        assert ok(invoke(profile, {"user_id": 1})).data.name == "Ada"
    assert "users" in backends.declared


def test_a_mocked_name_no_function_uses_is_reported() -> None:
    with MockBackends([profile]) as backends:
        backends.orders.get("/orders").respond(json=[])
    assert backends.unused() == ["orders"]


def test_invalid_input_comes_back_as_a_400() -> None:
    with MockBackends([profile]):
        answer = invoke(profile, {"user_id": "x"})
    assert isinstance(answer, SffError) and answer.status == 400


async def test_ainvoke_works_inside_an_async_test() -> None:
    with MockBackends([profile]) as backends:
        happy(backends)
        assert ok(await ainvoke(profile, {"user_id": 1})).data.open == 1


async def test_sync_invoke_inside_an_event_loop_says_to_await_ainvoke() -> None:
    with pytest.raises(RuntimeError, match="ainvoke"):
        invoke(profile, {"user_id": 1})
