"""The executor over mocked HTTP (respx): dataflow, each, dedup, when, call, failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel

from sff import (
    Backend,
    ConfigError,
    DeadlineError,
    Fallback,
    Function,
    InputError,
    Retry,
    SffError,
    SourceError,
    call,
)

BASE = "http://api.test"
api = Backend("api", default=BASE, retry=Retry.none())


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


async def failure(fn: Function, input: Any = None, **kw: Any) -> SffError:
    with pytest.raises(SffError) as caught:
        await fn.invoke(input, **kw)
    return caught.value


def item_of(request: httpx.Request) -> int:
    return int(request.url.path.rsplit("/", 1)[-1])


class Chunks(httpx.AsyncByteStream):
    """A body streamed in 1 KiB chunks, counting how many the client pulled."""

    def __init__(self, count: int) -> None:
        self.count, self.pulled = count, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield b"x" * 1024


# -- dataflow ------------------------------------------------------------------------------


async def test_dependent_source_starts_before_an_unrelated_slow_source_finishes(
    mock: respx.MockRouter,
) -> None:
    team_started = asyncio.Event()
    events: list[str] = []

    async def slow_todos(request: httpx.Request) -> httpx.Response:
        events.append("todos started")
        # A level-by-level executor would wait for `todos` before starting `team`: then
        # this wait times out and the test fails instead of hanging.
        await asyncio.wait_for(team_started.wait(), 2)
        events.append("todos finished")
        return httpx.Response(200, json=[])

    def team(request: httpx.Request) -> httpx.Response:
        events.append("team started")
        team_started.set()
        return httpx.Response(200, json={"name": "core"})

    mock.get(f"{BASE}/users/1").respond(json={"id": 1, "team_id": 7})
    mock.get(f"{BASE}/teams/7").mock(side_effect=team)
    mock.get(f"{BASE}/todos").mock(side_effect=slow_todos)
    fn = Function(
        "dash",
        sources={
            "user": api.get("/users/{input.id}"),
            "team": api.get("/teams/{user.team_id}"),
            "todos": api.get("/todos"),
        },
        shape={"team": "team.name", "todos": "todos"},
    )
    result = await fn.invoke({"id": 1})
    assert result.data == {"team": "core", "todos": []}
    assert events.index("team started") < events.index("todos finished")
    meta = result.meta.sources
    assert meta["team"].start_ms is not None and meta["todos"].end_ms is not None
    assert meta["team"].start_ms < meta["todos"].end_ms


async def test_independent_sources_are_all_in_flight_together(mock: respx.MockRouter) -> None:
    names = ["a", "b", "c", "d", "e"]
    arrived: set[str] = set()
    everyone = asyncio.Event()

    async def barrier(request: httpx.Request) -> httpx.Response:
        arrived.add(request.url.path)
        if len(arrived) == len(names):
            everyone.set()
        await asyncio.wait_for(everyone.wait(), 2)  # fails unless all five overlap
        return httpx.Response(200, json=request.url.path)

    for name in names:
        mock.get(f"{BASE}/{name}").mock(side_effect=barrier)
    fn = Function("five", sources={n: api.get(f"/{n}") for n in names})
    result = await fn.invoke()
    assert result.data == {n: f"/{n}" for n in names}


async def test_dependent_source_sees_its_dependency_data(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/users/1").respond(json={"team_id": 42})
    team = mock.get(f"{BASE}/teams/42").respond(json={"name": "core"})
    fn = Function(
        "chain",
        sources={"user": api.get("/users/1"), "team": api.get("/teams/{user.team_id}")},
        shape="team.name",
    )
    assert (await fn.invoke()).data == "core"
    assert team.call_count == 1


async def test_failed_required_source_stops_its_dependents(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/users/1").respond(500, json={"error": "down"})
    team = mock.get(f"{BASE}/teams/7").respond(json={})
    fn = Function(
        "chain",
        sources={"user": api.get("/users/1"), "team": api.get("/teams/{user.team_id}")},
    )
    error = await failure(fn)
    assert isinstance(error, SourceError) and error.source == "user"
    assert team.call_count == 0


# -- each ------------------------------------------------------------------------------------


def each_counter(cap: int) -> tuple[Any, dict[str, int]]:
    """A side effect that counts requests in flight; it lets them go once `cap` overlap."""
    state = {"inflight": 0, "peak": 0}
    full = asyncio.Event()

    async def effect(request: httpx.Request) -> httpx.Response:
        state["inflight"] += 1
        state["peak"] = max(state["peak"], state["inflight"])
        if state["inflight"] >= cap:
            full.set()
        await asyncio.wait_for(full.wait(), 2)
        item = item_of(request)
        for _ in range(40 - item):  # later items answer first
            await asyncio.sleep(0)
        state["inflight"] -= 1
        return httpx.Response(200, json={"n": item})

    return effect, state


async def test_each_keeps_item_order_and_never_exceeds_its_cap(mock: respx.MockRouter) -> None:
    effect, state = each_counter(5)
    mock.get(url__regex=rf"{BASE}/items/\d+").mock(side_effect=effect)
    fn = Function(
        "fan",
        sources={"items": api.get("/items/{item}", each="input.ids", concurrency=5)},
        shape="items[*].n",
    )
    result = await fn.invoke({"ids": list(range(20))})
    assert result.data == list(range(20))
    assert state["peak"] == 5
    assert result.meta.sources["items"].items == 20


async def test_each_default_cap_is_ten(mock: respx.MockRouter) -> None:
    effect, state = each_counter(10)
    mock.get(url__regex=rf"{BASE}/items/\d+").mock(side_effect=effect)
    fn = Function("fan", sources={"items": api.get("/items/{item}", each="input.ids")})
    await fn.invoke({"ids": list(range(30))})
    assert state["peak"] == 10


async def test_each_over_null_is_an_empty_list(mock: respx.MockRouter) -> None:
    route = mock.get(url__regex=rf"{BASE}/items/\d+").respond(json={})
    fn = Function("fan", sources={"items": api.get("/items/{item}", each="input.ids")})
    assert (await fn.invoke({})).data == {"items": []}
    assert route.call_count == 0


async def test_each_over_a_non_array_fails_the_source() -> None:
    fn = Function("fan", sources={"items": api.get("/items/{item}", each="input.ids")})
    error = await failure(fn, {"ids": {"a": 1}})
    assert error.status == 502
    assert "`each` gave dict, expected an array" in error.message


async def test_each_item_reaches_query_and_body(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/notes").mock(
        side_effect=lambda r: httpx.Response(200, json=[r.url.params["t"], json.loads(r.content)])
    )
    fn = Function(
        "fan",
        sources={
            "notes": api.post(
                "/notes", each="input.todos", query={"t": "item.id"}, body={"title": "item.title"}
            )
        },
        shape="notes",
    )
    result = await fn.invoke({"todos": [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}]})
    assert result.data == [["1", {"title": "a"}], ["2", {"title": "b"}]]
    assert route.call_count == 2


# -- dedup -----------------------------------------------------------------------------------


async def test_identical_gets_in_one_invocation_are_sent_once(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/users/1").respond(json={"id": 1})
    fn = Function(
        "twice",
        sources={"a": api.get("/users/{input.id}"), "b": api.get("/users/1")},
        shape={"a": "a.id", "b": "b.id"},
    )
    result = await fn.invoke({"id": 1})
    assert result.data == {"a": 1, "b": 1}
    assert route.call_count == 1
    sent, shared = sorted(result.meta.sources.values(), key=lambda s: -s.attempts)
    assert (sent.attempts, shared.attempts) == (1, 0)  # meta says which source sent it
    assert sent.status == shared.status == 200


async def test_a_shared_get_cut_off_by_the_deadline_does_not_outlive_the_invocation(
    mock: respx.MockRouter,
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(500)

    mock.get(f"{BASE}/users/1").mock(side_effect=slow)
    fn = Function(
        "late",
        sources={
            "a": api.get("/users/1", fallback=Fallback.omit()),
            "b": api.get("/users/1", fallback=Fallback.omit()),
        },
        timeout=0.15,
    )
    result = await fn.invoke({})
    assert result.meta.degraded == ["a", "b"]
    assert asyncio.all_tasks() == {asyncio.current_task()}  # no request left running


async def test_repeated_each_items_are_fetched_once(mock: respx.MockRouter) -> None:
    route = mock.get(url__regex=rf"{BASE}/items/\d+").mock(
        side_effect=lambda r: httpx.Response(200, json=item_of(r))
    )
    fn = Function("fan", sources={"items": api.get("/items/{item}", each="input.ids")})
    result = await fn.invoke({"ids": [1, 2, 1, 1, 2]})
    assert result.data == {"items": [1, 2, 1, 1, 2]}
    assert route.call_count == 2


async def test_gets_differing_in_query_or_headers_are_not_merged(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/u").respond(json={})
    fn = Function(
        "f",
        sources={
            "a": api.get("/u", query={"x": "`1`"}),
            "b": api.get("/u", query={"x": "`2`"}),
            "c": api.get("/u", query={"x": "`1`"}, headers={"x-v": "'2'"}),
        },
    )
    await fn.invoke()
    assert route.call_count == 3


async def test_identical_posts_are_both_sent(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/mail").respond(json={"ok": True})
    fn = Function("f", sources={"a": api.post("/mail"), "b": api.post("/mail")})
    await fn.invoke()
    assert route.call_count == 2


# -- when ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", [False, None, "", [], {}])
async def test_when_false_skips_the_source_as_null(mock: respx.MockRouter, flag: Any) -> None:
    route = mock.get(f"{BASE}/extra").respond(json={"x": 1})
    fn = Function("f", sources={"extra": api.get("/extra", when="input.flag")})
    result = await fn.invoke({"flag": flag})
    assert result.data == {"extra": None}
    assert result.meta.sources["extra"].outcome == "skipped"
    assert route.call_count == 0


@pytest.mark.parametrize("flag", [True, 0, "no", [0], {"a": None}])
async def test_when_follows_jmespath_truth(mock: respx.MockRouter, flag: Any) -> None:
    mock.get(f"{BASE}/extra").respond(json={"x": 1})
    fn = Function("f", sources={"extra": api.get("/extra", when="input.flag")})
    result = await fn.invoke({"flag": flag})
    assert result.data == {"extra": {"x": 1}}
    assert result.meta.sources["extra"].outcome == "ok"


# -- call ------------------------------------------------------------------------------------


class Greeting(BaseModel):
    text: str


async def test_call_of_a_function_uses_its_shaped_result(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/users/3").respond(json={"name": "ann", "secret": "x"})
    inner = Function(
        "inner",
        sources={"user": api.get("/users/{input.id}")},
        shape={"text": "join(' ', ['hi', user.name])"},
        contract=Greeting,
    )
    outer = Function(
        "outer", sources={"greet": call(inner, {"id": "input.user"})}, shape="greet.text"
    )
    assert (await outer.invoke({"user": 3})).data == "hi ann"


async def test_call_of_a_failing_function_fails_the_calling_source(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"{BASE}/users/3").respond(500, text="boom")
    inner = Function("inner", sources={"user": api.get("/users/3")})
    outer = Function("outer", sources={"greet": call(inner)})
    error = await failure(outer)
    assert isinstance(error, SourceError)
    assert error.status == 502 and error.source == "greet"
    assert "source 'user' failed" in error.cause


async def test_call_of_an_async_callable_passes_args_as_keywords() -> None:
    seen: dict[str, Any] = {}

    async def send_mail(to: str, subject: str) -> Greeting:
        seen.update(to=to, subject=subject)
        return Greeting(text="sent")

    fn = Function(
        "notify",
        sources={"mail": call(send_mail, {"to": "input.to", "subject": "'hello'"})},
        shape="mail",
    )
    assert (await fn.invoke({"to": "a@b.c"})).data == {"text": "sent"}
    assert seen == {"to": "a@b.c", "subject": "hello"}


async def test_callable_exception_is_a_502_naming_the_source() -> None:
    async def flaky() -> None:
        raise ConnectionError("smtp refused")

    fn = Function("notify", sources={"mail": call(flaky)})
    error = await failure(fn)
    assert isinstance(error, SourceError)
    assert error.status == 502 and error.source == "mail"
    assert error.cause == "ConnectionError raised (the log has its text)"
    assert "smtp refused" not in error.message  # SDK text may hold a connection string
    assert error.meta is not None and error.meta.sources["mail"].outcome == "failed"


async def test_callable_slower_than_its_timeout_fails_the_source() -> None:
    async def stuck() -> None:
        await asyncio.Event().wait()

    fn = Function("notify", sources={"mail": call(stuck, timeout="50ms")})
    error = await failure(fn)
    assert isinstance(error, SourceError) and error.source == "mail"
    assert "timed out" in error.cause


# -- fallbacks -------------------------------------------------------------------------------


async def test_fallback_value_stands_in_and_marks_the_source_degraded(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"{BASE}/todos").respond(503, text="busy")
    fn = Function(
        "f",
        sources={"todos": api.get("/todos", fallback=Fallback.value([]))},
        shape={"n": "length(todos)"},
    )
    result = await fn.invoke()
    assert result.data == {"n": 0}
    src = result.meta.sources["todos"]
    assert (src.outcome, src.degraded) == ("degraded", "value")
    assert src.error is not None and "HTTP 503" in src.error
    assert result.meta.degraded == ["todos"]
    assert result.headers()["x-sff-degraded"] == "todos;reason=value"


async def test_fallback_omit_makes_the_source_null(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/team").respond(500)
    fn = Function("f", sources={"team": api.get("/team", fallback=Fallback.omit())})
    result = await fn.invoke()
    assert result.data == {"team": None}
    assert result.meta.sources["team"].degraded == "omit"


async def test_fallback_also_covers_a_failing_callable() -> None:
    async def broken() -> None:
        raise RuntimeError("no")

    fn = Function("f", sources={"x": call(broken, fallback=Fallback.value("spare"))})
    assert (await fn.invoke()).data == {"x": "spare"}


# -- input -----------------------------------------------------------------------------------


class Query(BaseModel):
    user_id: int
    page: int = 1


async def test_invalid_input_is_a_400_naming_the_field() -> None:
    fn = Function("f", input=Query)
    error = await failure(fn, {"user_id": "abc"})
    assert isinstance(error, InputError)
    assert error.status == 400
    assert error.detail["field"] == "user_id"
    assert "'user_id'" in error.message


async def test_missing_input_is_a_400_naming_the_field() -> None:
    error = await failure(Function("f", input=Query), None)
    assert error.status == 400 and error.detail["field"] == "user_id"


async def test_input_that_is_not_an_object_is_a_400() -> None:
    error = await failure(Function("f", input=Query), [1, 2])
    assert error.status == 400 and error.detail["field"] == "(input)"


async def test_input_is_validated_and_defaults_reach_expressions(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/u/7").respond(json={})
    fn = Function(
        "f", input=Query, sources={"u": api.get("/u/{input.user_id}", query={"page": "input.page"})}
    )
    await fn.invoke({"user_id": "7"})
    assert route.calls.last.request.url.params["page"] == "1"


# -- HTTP failures ---------------------------------------------------------------------------


async def test_upstream_500_is_a_502_naming_source_status_and_excerpt(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"{BASE}/users/1").respond(500, text="database exploded " + "x" * 500)
    fn = Function("f", sources={"user": api.get("/users/1")})
    error = await failure(fn)
    assert isinstance(error, SourceError)
    assert error.status == 502 and error.code == "source_failed"
    assert error.source == "user"
    assert error.upstream_status == 500
    assert error.excerpt is not None and error.excerpt.startswith("database exploded")
    assert len(error.excerpt) <= 200 and "excerpt" not in error.detail  # never in the body
    assert error.meta.sources["user"].excerpt == error.excerpt
    assert error.message == "source 'user' failed: GET /users/1: HTTP 500"


async def test_malformed_json_is_a_502_with_an_excerpt(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/u").respond(200, text="<html>oops</html>")
    error = await failure(Function("f", sources={"u": api.get("/u")}))
    assert isinstance(error, SourceError) and error.source == "u"
    assert "invalid JSON" in error.cause
    assert error.excerpt == "<html>oops</html>"


async def test_empty_body_is_a_502(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/u").respond(200, content=b"")
    error = await failure(Function("f", sources={"u": api.get("/u")}))
    assert isinstance(error, SourceError) and "empty body" in error.cause


async def test_204_is_null(mock: respx.MockRouter) -> None:
    mock.delete(f"{BASE}/u/1").respond(204)
    result = await Function("f", sources={"gone": api.delete("/u/1")}).invoke()
    assert result.data == {"gone": None}
    assert result.meta.sources["gone"].status == 204


async def test_transport_error_is_a_502_naming_the_source(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/u").mock(side_effect=httpx.ConnectError("refused"))
    error = await failure(Function("f", sources={"u": api.get("/u")}))
    assert isinstance(error, SourceError) and error.source == "u"
    assert "ConnectError" in error.cause


async def test_undecodable_body_is_a_source_failure(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/u").mock(
        side_effect=lambda r: httpx.Response(
            200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")
        )
    )
    error = await failure(Function("f", sources={"u": api.get("/u")}))
    assert isinstance(error, SourceError) and error.source == "u"
    assert error.status == 502


async def test_source_timeout_is_a_source_failure(mock: respx.MockRouter) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    mock.get(f"{BASE}/slow").mock(side_effect=hang)
    fn = Function("f", sources={"slow": api.get("/slow", timeout="50ms")})
    error = await failure(fn)
    assert isinstance(error, SourceError) and error.source == "slow"
    assert error.status == 502
    assert "timed out after 0.05s" in error.cause


async def test_source_timeout_with_a_fallback_degrades(mock: respx.MockRouter) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    mock.get(f"{BASE}/slow").mock(side_effect=hang)
    fn = Function(
        "f", sources={"slow": api.get("/slow", timeout="50ms", fallback=Fallback.value(0))}
    )
    result = await fn.invoke()
    assert result.data == {"slow": 0}
    assert result.meta.sources["slow"].outcome == "degraded"


async def test_function_timeout_is_a_504_naming_unfinished_sources(
    mock: respx.MockRouter,
) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    mock.get(f"{BASE}/slow").mock(side_effect=hang)
    mock.get(f"{BASE}/fast").respond(json={})
    fn = Function(
        "f",
        sources={
            "slow": api.get("/slow"),
            "fast": api.get("/fast"),
            "after": api.get("/after/{slow.id}"),
        },
        timeout="300ms",
    )
    error = await failure(fn)
    assert isinstance(error, DeadlineError)
    assert error.status == 504 and error.code == "deadline"
    assert "slow" in error.detail["unfinished"]
    assert "fast" not in error.detail["unfinished"]
    assert "unfinished: " in error.message
    assert error.meta is not None and error.meta.sources["fast"].outcome == "ok"


async def test_caller_timeout_below_the_function_timeout_is_a_504(
    mock: respx.MockRouter,
) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    mock.get(f"{BASE}/slow").mock(side_effect=hang)
    fn = Function("f", sources={"slow": api.get("/slow")}, timeout=30)
    error = await failure(fn, timeout=0.2)
    assert isinstance(error, DeadlineError)
    assert error.detail["unfinished"] == ["slow"]


async def test_size_cap_by_content_length_reads_no_body(mock: respx.MockRouter) -> None:
    body = Chunks(20)
    mock.get(f"{BASE}/big").mock(
        side_effect=lambda r: httpx.Response(
            200, headers={"content-length": str(20 * 1024)}, stream=body
        )
    )
    small = Backend("small", default=BASE, max_response_bytes=10_000, retry=Retry.none())
    error = await failure(Function("f", sources={"big": small.get("/big")}))
    assert isinstance(error, SourceError) and error.source == "big"
    assert "20480 bytes is over the 10000-byte cap" in error.cause
    assert body.pulled == 0


async def test_size_cap_on_a_streamed_body_stops_reading(mock: respx.MockRouter) -> None:
    body = Chunks(1000)
    mock.get(f"{BASE}/big").mock(side_effect=lambda r: httpx.Response(200, stream=body))
    small = Backend("small", default=BASE, max_response_bytes=10_000, retry=Retry.none())
    error = await failure(Function("f", sources={"big": small.get("/big")}))
    assert isinstance(error, SourceError)
    assert "over the 10000-byte cap" in error.cause
    assert body.pulled < 20


async def test_default_size_cap_is_ten_megabytes() -> None:
    assert Backend("b", default=BASE).max_response_bytes == 10 * 1024 * 1024


async def test_redirect_is_a_source_failure_by_default(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/old").respond(302, headers={"location": f"{BASE}/new"})
    target = mock.get(f"{BASE}/new").respond(json={"moved": True})
    error = await failure(Function("f", sources={"page": api.get("/old")}))
    assert isinstance(error, SourceError)
    assert error.upstream_status == 302
    assert target.call_count == 0


async def test_redirect_is_followed_when_the_backend_allows_it(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/old").respond(302, headers={"location": f"{BASE}/new"})
    mock.get(f"{BASE}/new").respond(json={"moved": True})
    follows = Backend("follows", default=BASE, follow_redirects=True)
    result = await Function("f", sources={"page": follows.get("/old")}).invoke()
    assert result.data == {"page": {"moved": True}}


async def test_backend_without_url_is_misconfigured_naming_the_env_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SFF_TEST_NOWHERE_API", raising=False)
    nowhere = Backend("nowhere", env="SFF_TEST_NOWHERE_API")
    error = await failure(Function("f", sources={"x": nowhere.get("/x")}))
    assert isinstance(error, ConfigError) and (error.status, error.code) == (500, "misconfigured")
    assert error.detail["variable"] == "SFF_TEST_NOWHERE_API"
    assert "$SFF_TEST_NOWHERE_API is not set" in error.message


async def test_an_unset_url_is_not_an_outage_even_with_a_fallback(
    mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SFF_TEST_PRICING_API", raising=False)
    pricing = Backend("pricing", env="SFF_TEST_PRICING_API")
    mock.get(f"{BASE}/p").respond(json={"id": 1})
    fn = Function(
        "f",
        sources={
            "product": api.get("/p"),
            "price": pricing.get("/price", fallback=Fallback.value({"amount": None})),
        },
    )
    error = await failure(fn)
    assert isinstance(error, ConfigError) and error.detail["source"] == "price"
    assert "SFF_TEST_PRICING_API" in error.message


async def test_a_url_variable_that_is_not_http_is_misconfigured_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFF_TEST_ODD_API", "localhost:8080")
    odd = Backend("odd", env="SFF_TEST_ODD_API")
    error = await failure(Function("f", sources={"x": odd.get("/x", fallback=Fallback.omit())}))
    assert isinstance(error, ConfigError)
    assert "$SFF_TEST_ODD_API is not an http(s) URL" in error.message
    assert "localhost:8080" not in error.message


async def test_backend_url_is_read_from_env_at_invocation(
    mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    route = mock.get("http://elsewhere.test/x").respond(json=1)
    envy = Backend("envy", env="SFF_TEST_ENVY_API", default=BASE)
    fn = Function("f", sources={"x": envy.get("/x")})
    monkeypatch.setenv("SFF_TEST_ENVY_API", "http://elsewhere.test/")
    await fn.invoke()
    assert route.call_count == 1


async def test_backend_url_that_is_not_http_says_where_it_came_from() -> None:
    ftp = Backend("ftp", default="ftp://files.test")
    error = await failure(Function("f", sources={"x": ftp.get("/x")}))
    assert isinstance(error, ConfigError)
    assert "backend 'ftp': default= is not an http(s) URL" in error.message


# -- what is sent ----------------------------------------------------------------------------


async def test_only_listed_incoming_headers_are_forwarded(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/me").respond(json={})
    fwd = Backend("fwd", default=BASE, forward_headers=("Authorization", "Accept-Language"))
    fn = Function("f", sources={"me": fwd.get("/me")})
    await fn.invoke(headers={"AUTHORIZATION": "Bearer t", "Cookie": "sid=1", "x-other": "1"})
    sent = route.calls.last.request.headers
    assert sent["authorization"] == "Bearer t"
    assert "cookie" not in sent and "x-other" not in sent
    assert "accept-language" not in sent


async def test_backend_static_headers_and_templated_headers_are_sent(
    mock: respx.MockRouter,
) -> None:
    route = mock.get(f"{BASE}/x").respond(json={})
    keyed = Backend("keyed", default=BASE, headers={"x-api-key": "k1"})
    fn = Function(
        "f",
        sources={"x": keyed.get("/x", headers={"x-user": "input.id", "x-none": "input.none"})},
    )
    await fn.invoke({"id": 5})
    sent = route.calls.last.request.headers
    assert sent["x-api-key"] == "k1"
    assert sent["x-user"] == "5"
    assert "x-none" not in sent


async def test_request_id_is_sent_to_every_backend(mock: respx.MockRouter) -> None:
    a = mock.get(f"{BASE}/a").respond(json={})
    b = mock.get(f"{BASE}/b").respond(json={})
    fn = Function("f", sources={"a": api.get("/a"), "b": api.get("/b")})
    result = await fn.invoke()
    rid = result.meta.request_id
    assert a.calls.last.request.headers["x-request-id"] == rid
    assert b.calls.last.request.headers["x-request-id"] == rid
    await fn.invoke(request_id="req-42")
    assert a.calls.last.request.headers["x-request-id"] == "req-42"


async def test_query_drops_nulls_and_repeats_lists(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").respond(json=[])
    fn = Function(
        "f",
        sources={
            "todos": api.get(
                "/todos",
                query={"user": "input.user", "gone": "input.gone", "tag": "input.tags", "n": 3},
            )
        },
    )
    await fn.invoke({"user": 1, "tags": ["a", None, "b c"]})
    url = route.calls.last.request.url
    assert url.params.multi_items() == [("user", "1"), ("tag", "a"), ("tag", "b c"), ("n", "3")]


async def test_query_booleans_are_json_text(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").respond(json=[])
    fn = Function("f", sources={"t": api.get("/todos", query={"done": "input.done"})})
    await fn.invoke({"done": False})
    assert route.calls.last.request.url.params["done"] == "false"


async def test_post_sends_a_json_body(mock: respx.MockRouter) -> None:
    route = mock.post(f"{BASE}/todos").respond(201, json={"id": 9})
    fn = Function(
        "f",
        sources={
            "new": api.post("/todos", body={"title": "input.title", "tags": ["'x'"], "n": None})
        },
        shape="new.id",
    )
    result = await fn.invoke({"title": "milk"})
    assert result.data == 9
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"title": "milk", "tags": ["x"], "n": None}


async def test_header_value_that_is_not_ascii_is_a_400_naming_header_and_source(
    mock: respx.MockRouter,
) -> None:
    route = mock.get(f"{BASE}/u").respond(json={})
    fn = Function("f", sources={"u": api.get("/u", headers={"x-name": "input.name"})})
    error = await failure(fn, {"name": "Zoë"})
    assert error.code == "invalid_input" and error.status == 400
    assert error.detail["source"] == "u" and error.detail["field"] == "header 'x-name'"
    assert "not ASCII" in error.message
    assert not route.called


async def test_object_in_a_path_placeholder_is_a_source_failure() -> None:
    fn = Function("f", sources={"u": api.get("/u/{input.who}")})
    error = await failure(fn, {"who": {"id": 1}})
    assert isinstance(error, SourceError)
    assert "must be a string or number, got dict" in error.cause


async def test_null_in_a_path_placeholder_is_a_source_failure() -> None:
    error = await failure(Function("f", sources={"u": api.get("/u/{input.who}")}), {})
    assert isinstance(error, SourceError) and "is null" in error.cause


# -- meta ------------------------------------------------------------------------------------


async def test_meta_records_status_attempts_and_offsets(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/users/1").respond(json={"team_id": 2})
    mock.get(f"{BASE}/teams/2").respond(201, json={})
    fn = Function(
        "f", sources={"user": api.get("/users/1"), "team": api.get("/teams/{user.team_id}")}
    )
    result = await fn.invoke()
    user, team = result.meta.sources["user"], result.meta.sources["team"]
    assert (user.status, user.attempts, user.outcome) == (200, 1, "ok")
    assert team.status == 201
    assert user.start_ms is not None and user.end_ms is not None
    assert team.start_ms is not None and team.end_ms is not None
    assert 0 <= user.start_ms <= user.end_ms <= team.start_ms <= team.end_ms
    assert result.meta.plan["stages"] == [["user"], ["team"]]
    assert result.meta.to_dict()["sources"]["team"]["status"] == 201
    timing = result.headers()["server-timing"]
    assert timing.startswith("user;dur=") and "team;dur=" in timing and "total;dur=" in timing


async def test_function_without_sources_or_shape_answers_empty() -> None:
    result = await Function("empty").invoke()
    assert result.data == {}
    assert result.status == 200


async def test_forwarded_header_that_is_not_ascii_is_a_400_before_any_backend_is_called(
    mock: respx.MockRouter,
) -> None:
    route = mock.get(f"{BASE}/me").respond(json={})
    fwd = Backend("fwd", default=BASE, forward_headers=("x-name",), retry=Retry.none())
    error = await failure(Function("f", sources={"me": fwd.get("/me")}), headers={"x-name": "Zoë"})
    assert error.code == "invalid_input" and error.detail["source"] == "me"
    assert error.detail["field"] == "header 'x-name'"
    assert not route.called


async def test_backend_env_url_that_is_not_http_names_the_env_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFF_TEST_FTP_API", "ftp://files.test")
    ftp = Backend("ftp", env="SFF_TEST_FTP_API", default=BASE)
    error = await failure(Function("f", sources={"x": ftp.get("/x")}))
    assert isinstance(error, ConfigError)
    assert error.message.endswith("backend 'ftp': $SFF_TEST_FTP_API is not an http(s) URL")


@respx.mock
def test_a_failed_source_reports_the_upstream_status_in_meta() -> None:
    api = Backend("status_api", default="http://status.test")
    fn = Function(
        "status_meta",
        sources={"gone": api.get("/gone", fallback=Fallback.value(None), retry=Retry.none())},
    )
    respx.get("http://status.test/gone").respond(404, json={"error": "not found"})
    result = fn.run({})
    assert result.meta.sources["gone"].status == 404
    assert result.meta.sources["gone"].outcome == "degraded"


async def test_a_shared_get_that_fails_names_each_source_that_waited_for_it(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"{BASE}/users/1").respond(500, json={"error": "boom"})
    fn = Function(
        "both",
        sources={
            "a": api.get("/users/1", fallback=Fallback.omit(), retry=Retry.none()),
            "b": api.get("/users/1", fallback=Fallback.omit(), retry=Retry.none()),
        },
    )
    result = await fn.invoke({})
    errors = {name: src.error or "" for name, src in result.meta.sources.items()}
    assert errors["a"].startswith("source 'a' failed") and "HTTP 500" in errors["a"]
    assert errors["b"].startswith("source 'b' failed") and "HTTP 500" in errors["b"]
    assert result.meta.sources["b"].status == 500
