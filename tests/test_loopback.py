"""Integration over REAL loopback HTTP against the demo backend: timing of the plan,
encoding on the wire, failures as answers.

The machine is shared and noisy, so time bounds are generous; each timing test also
proves its point without the clock, from the per-source start/end offsets in meta or
from requests counted in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from demo.backend import serve_in_thread
from sff import Backend, Function, Retry, SourceError
from sff.result import Result


@pytest.fixture(scope="session")
def demo_url() -> Iterator[str]:
    with serve_in_thread() as url:
        yield url


@pytest.fixture
def demo(demo_url: str) -> Backend:
    return Backend("demo", default=demo_url, retry=Retry.none())


def delayed(ms: int) -> dict[str, str]:
    return {"_delay": f"`{ms}`"}


def offsets(result: Result, name: str) -> tuple[float, float]:
    src = result.meta.sources[name]
    assert src.outcome == "ok", src
    assert src.start_ms is not None and src.end_ms is not None
    return src.start_ms, src.end_ms


class CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that records how many requests were in flight at once."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.inflight = self.peak = self.total = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.inflight += 1
        self.total += 1
        self.peak = max(self.peak, self.inflight)
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.inflight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


# -- timing ------------------------------------------------------------------------------------


async def test_five_independent_100ms_sources_overlap(demo: Backend) -> None:
    fn = Function(
        "five",
        sources={f"u{i}": demo.get(f"/users/{i}", query=delayed(100)) for i in range(1, 6)},
    )
    result = await fn.invoke()
    spans = [offsets(result, f"u{i}") for i in range(1, 6)]
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # all overlap
    assert all(end - start >= 95 for start, end in spans)  # the delay really happened
    assert result.meta.duration_ms < 250  # five in a row would take 500


async def test_dependent_source_waits_only_for_its_own_dependency(demo: Backend) -> None:
    fn = Function(
        "chain",
        sources={
            "user": demo.get("/users/{input.id}", query=delayed(100)),
            "team": demo.get("/teams/{user.team_id}", query=delayed(100)),
            "todos": demo.get("/todos", query={"userId": "input.id", **delayed(350)}),
        },
        shape={"user": "user.name", "team": "team.name", "todos": "length(todos)"},
    )
    result = await fn.invoke({"id": 1})
    user, team, todos = (offsets(result, n) for n in ("user", "team", "todos"))
    assert team[0] >= user[1]  # the chain is respected
    assert team[0] < todos[1]  # ...but team did not wait for the unrelated slow todos
    assert team[1] - user[0] < 400  # the chain of two 100 ms calls, without an extra round
    assert result.data["team"] is not None and result.data["todos"] >= 0


async def test_each_over_20_items_of_50ms_with_cap_5_runs_in_about_four_rounds(
    demo: Backend,
) -> None:
    transport = CountingTransport()
    fn = Function(
        "fan",
        sources={
            "todos": demo.get(
                "/todos/{item}/comments", each="input.ids", concurrency=5, query=delayed(50)
            )
        },
        shape="todos[*] | length(@)",
    )
    async with httpx.AsyncClient(transport=transport) as client:
        result = await fn.invoke({"ids": list(range(1, 21))}, client=client)
    assert result.data == 20
    assert transport.total == 20
    assert transport.peak == 5
    start, end = offsets(result, "todos")
    assert 180 <= end - start < 500  # four rounds of 50 ms; one would be 50, twenty 1000


# -- the wire ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        ("../admin?x=1#y", "/echo/..%2Fadmin%3Fx%3D1%23y"),
        ("..", "/echo/%2E%2E"),
        ("a/b c", "/echo/a%2Fb%20c"),
        ("zoë", "/echo/zo%C3%AB"),
    ],
)
async def test_encoded_path_value_reaches_the_server_as_one_segment(
    demo: Backend, value: str, raw: str
) -> None:
    fn = Function("echo", sources={"echo": demo.get("/echo/{input.v}")}, shape="echo.raw_path")
    assert (await fn.invoke({"v": value})).data == raw


async def test_headers_and_query_arrive_as_declared(demo_url: str) -> None:
    demo = Backend("demo", default=demo_url, headers={"x-api-key": "k"}, forward_headers=("x-a",))
    fn = Function(
        "echo",
        sources={"echo": demo.get("/echo/q", query={"tag": "input.tags", "none": "input.x"})},
        shape="echo",
    )
    echo = (await fn.invoke({"tags": ["a", "b"]}, headers={"x-a": "1", "x-b": "2"})).data
    assert echo["query"] == [["tag", "a"], ["tag", "b"]]
    assert echo["headers"]["x-api-key"] == "k"
    assert echo["headers"]["x-a"] == "1"
    assert "x-b" not in echo["headers"]
    assert echo["headers"]["x-request-id"]


# -- failures ----------------------------------------------------------------------------------


async def failure(fn: Function, input: Any = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        await fn.invoke(input)
    return caught.value


async def test_backend_500_is_a_502_naming_the_source(demo: Backend) -> None:
    fn = Function("f", sources={"user": demo.get("/users/1", query={"_status": "`500`"})})
    error = await failure(fn)
    assert (error.status, error.source, error.upstream_status) == (502, "user", 500)
    assert error.excerpt and "excerpt" not in error.detail


async def test_malformed_json_is_a_502(demo: Backend) -> None:
    fn = Function("f", sources={"user": demo.get("/users/1", query={"_malformed": "`1`"})})
    error = await failure(fn)
    assert error.source == "user" and "invalid JSON" in error.cause


async def test_empty_body_is_a_502(demo: Backend) -> None:
    fn = Function("f", sources={"user": demo.get("/users/1", query={"_empty": "`1`"})})
    error = await failure(fn)
    assert error.source == "user" and "empty body" in error.cause


async def test_hanging_backend_fails_the_source_within_its_timeout(demo: Backend) -> None:
    fn = Function(
        "f", sources={"user": demo.get("/users/1", query={"_hang": "`1`"}, timeout="200ms")}
    )
    error = await failure(fn)
    assert error.source == "user" and "timed out" in error.cause
    assert error.meta is not None
    src = error.meta.sources["user"]
    assert src.start_ms is not None and src.end_ms is not None
    assert 190 <= src.end_ms - src.start_ms < 1000


async def test_unknown_id_404_is_a_502_with_upstream_status(demo: Backend) -> None:
    fn = Function("f", sources={"user": demo.get("/users/{input.id}")})
    error = await failure(fn, {"id": 999999})
    assert error.upstream_status == 404


# -- handler -----------------------------------------------------------------------------------


def test_handler_answers_200_with_the_shaped_body(demo_url: str) -> None:
    demo = Backend("demo", default=demo_url)
    fn = Function(
        "profile",
        sources={"user": demo.get("/users/{input.id}"), "team": demo.get("/teams/{user.team_id}")},
        shape={"name": "user.name", "team": "team.name"},
    )
    answer = fn.handler(json.dumps({"id": 1}), None)
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert set(body) == {"name", "team"} and isinstance(body["name"], str)
    assert answer["headers"]["content-type"].startswith("application/json")
    assert "user;dur=" in answer["headers"]["server-timing"]


def test_handler_answers_502_when_the_backend_fails(demo_url: str) -> None:
    demo = Backend("demo", default=demo_url, retry=Retry.none())
    fn = Function("f", sources={"user": demo.get("/users/1", query={"_status": "`500`"})})
    answer = fn.handler({}, None)
    assert answer["statusCode"] == 502
    assert "Traceback" not in answer["body"]
    assert json.loads(answer["body"])["error"]["source"] == "user"
