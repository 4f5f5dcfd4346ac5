"""`batch=Batch(...)`: an `each` source's ids go in chunks, answers split back by key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from sff import (
    Backend,
    Batch,
    DeclarationError,
    Fallback,
    Function,
    Result,
    Retry,
    SourceError,
    call,
)
from sff.cache import MemoryStore
from sff.testing import MockBackends, invoke

users = Backend("users", env="SFFB_USERS_API", retry=Retry(retries=1, backoff=0))
BASE = "http://batch.test"
direct = Backend("direct", default=BASE, retry=Retry.none())


def authors(size: int = 2, concurrency: int = 1, **options: object) -> Function:
    return Function(
        "authors",
        sources={
            "people": users.get(
                "/users",
                query={"id": "item"},
                each="input.ids",
                batch=Batch(size=size, key="id"),
                concurrency=concurrency,
                **options,  # type: ignore[arg-type]
            )
        },
    )


def person(i: int) -> dict[str, object]:
    return {"id": i, "name": f"user {i}"}


def ok(answer: object) -> Result:
    assert isinstance(answer, Result), answer
    return answer


def asked(request: httpx.Request) -> list[str]:
    return request.url.params.get_list("id")


def test_items_go_in_chunks_as_a_repeated_query_key_and_come_back_in_item_order() -> None:
    fn = authors(size=2)
    with MockBackends([fn]) as backends:
        route = backends.users.get("/users").sequence(
            [person(3), person(1)], [person(2), person(4)], [person(5)]
        )
        result = ok(invoke(fn, {"ids": [1, 3, 2, 4, 5, 1]}))
    assert [asked(r) for r in route.calls] == [["1", "3"], ["2", "4"], ["5"]]
    assert [p["id"] for p in result.json()["people"]] == [1, 3, 2, 4, 5, 1]  # a repeat asked once
    meta = result.meta.sources["people"]
    assert (meta.outcome, meta.items, meta.attempts) == ("ok", 6, 3)


def test_an_object_keyed_by_id_in_a_post_body_and_string_ids_meet_numbers() -> None:
    fn = Function(
        "lookup",
        sources={
            "people": direct.post(
                "/users/lookup",
                body={"ids": "item"},
                each="input.ids",
                batch=Batch(size=10, key="id"),
            )
        },
    )
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/users/lookup").mock(
            return_value=httpx.Response(200, json={"1": person(1), "7": {"id": "7", "name": "s"}})
        )
        result = fn.run({"ids": [7, "1", 1.0]})
    assert json.loads(route.calls[0].request.content) == {"ids": [7, "1"]}  # 1.0 is "1" again
    assert result.json()["people"] == [{"id": "7", "name": "s"}, person(1), person(1)]


def test_an_item_missing_from_the_response_takes_the_item_fallback() -> None:
    fn = authors(size=5, item_fallback=Fallback.value({"id": None, "name": "unknown"}))
    with MockBackends([fn]) as backends:
        backends.users.get("/users").respond(json=[person(1)])
        result = ok(invoke(fn, {"ids": [1, 2]}))
    assert result.json()["people"] == [person(1), {"id": None, "name": "unknown"}]
    meta = result.meta.sources["people"]
    assert meta.outcome == "degraded" and meta.failed_items == 1
    assert meta.item_errors is not None
    assert "no entry with id '2'" in meta.item_errors[0]["cause"]
    assert meta.item_errors[0]["fallback"] == "value"


def test_missing_items_beyond_tolerate_fail_the_source_and_its_fallback_applies() -> None:
    fn = authors(size=5, tolerate=1, fallback=Fallback.value([]))
    with MockBackends([fn]) as backends:
        backends.users.get("/users").respond(json=[person(1)])
        one_missing = ok(invoke(fn, {"ids": [1, 2]}))
        two_missing = ok(invoke(fn, {"ids": [1, 2, 3]}))
    assert one_missing.json()["people"] == [person(1), None]
    assert two_missing.json()["people"] == []
    meta = two_missing.meta.sources["people"]
    assert meta.outcome == "degraded" and "2 of 3 items failed" in (meta.error or "")


def test_a_failing_chunk_fails_only_its_items_after_its_retries() -> None:
    fn = authors(size=2, tolerate=2)
    with MockBackends([fn]) as backends:
        route = backends.users.get("/users").sequence([person(1), person(2)], 503, 503, [person(5)])
        result = ok(invoke(fn, {"ids": [1, 2, 3, 4, 5]}))
    assert [asked(r) for r in route.calls] == [["1", "2"], ["3", "4"], ["3", "4"], ["5"]]
    assert result.json()["people"] == [person(1), person(2), None, None, person(5)]
    meta = result.meta.sources["people"]
    assert meta.attempts == 4 and meta.failed_items == 2
    assert [e["index"] for e in meta.item_errors or []] == [2, 3]


def test_a_chunk_retried_after_a_503_succeeds() -> None:
    fn = authors(size=2)
    with MockBackends([fn]) as backends:
        backends.users.get("/users").sequence(503, [person(1), person(2)])
        result = ok(invoke(fn, {"ids": [1, 2]}))
    meta = result.meta.sources["people"]
    assert (meta.outcome, meta.attempts) == ("ok", 2)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("oops", "batch response is a string; expected an array of objects carrying 'id'"),
        ([person(1), {"name": "no id"}], "batch response item 1 has no key 'id'"),
        ([{"id": [1]}], "batch response item 0 has a bad key 'id'"),
        ([3], "batch response item 0 has no key 'id'"),
    ],
)
def test_a_response_that_is_not_items_keyed_by_key_is_a_clean_source_failure(
    body: object, said: str
) -> None:
    fn = authors(size=5)
    with MockBackends([fn]) as backends:
        backends.users.get("/users").respond(json=body)
        answer = invoke(fn, {"ids": [1]})
    assert isinstance(answer, SourceError) and answer.status == 502
    assert answer.source == "people" and said in answer.message


def test_an_item_that_is_not_an_id_is_a_source_failure_before_any_call() -> None:
    fn = authors()
    with MockBackends([fn]) as backends:
        route = backends.users.get("/users")
        answer = invoke(fn, {"ids": [1, {"id": 2}]})
    assert isinstance(answer, SourceError) and "item 1 is an object" in answer.message
    assert not route.called


def test_chunks_run_under_the_sources_concurrency(mock: respx.MockRouter) -> None:
    running, most = [0], [0]

    async def answer(request: httpx.Request) -> httpx.Response:
        running[0] += 1
        most[0] = max(most[0], running[0])
        await asyncio.sleep(0.02)
        running[0] -= 1
        return httpx.Response(200, json=[person(int(i)) for i in asked(request)])

    mock.get(f"{BASE}/users").mock(side_effect=answer)
    fn = Function(
        "c",
        sources={
            "people": direct.get(
                "/users", query={"id": "item"}, each="input.ids", batch=Batch(size=2), concurrency=2
            )
        },
    )
    result = fn.run({"ids": list(range(1, 11))})
    assert [p["id"] for p in result.json()["people"]] == list(range(1, 11))
    assert most[0] == 2 and mock.calls.call_count == 5


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


async def test_a_failed_chunk_falls_back_to_its_own_cached_copy(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/users").mock(
        side_effect=[httpx.Response(200, json=[person(1), person(2)]), httpx.Response(503)]
    )
    fn = Function(
        "cached",
        sources={
            "people": direct.get(
                "/users",
                query={"id": "item"},
                each="input.ids",
                batch=Batch(size=2),
                fallback=Fallback.cache(),
            )
        },
    )
    store = MemoryStore()
    await fn.invoke({"ids": [1, 2]}, cache=store)
    result = await fn.invoke({"ids": [1, 2]}, cache=store)
    assert route.call_count == 2
    assert result.json()["people"] == [person(1), person(2)]
    meta = result.meta.sources["people"]
    assert (meta.outcome, meta.degraded, meta.cache) == ("degraded", "cache", "stale")


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({}, "batch= needs each="),
        ({"each": "input.ids", "path": "/users/{item}"}, "`item` cannot be in the path"),
        ({"each": "input.ids", "query": {"x": 1}}, "needs `item` (the chunk of ids)"),
    ],
)
def test_batch_is_checked_at_declaration(options: dict[str, object], said: str) -> None:
    path = str(options.pop("path", "/users"))
    with pytest.raises(DeclarationError, match=said.replace("(", r"\(").replace(")", r"\)")):
        Function(
            "bad",
            sources={"people": direct.get(path, batch=Batch(), **options)},  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("bad", [{"size": 0}, {"size": 1.5}, {"key": ""}])
def test_batch_arguments_are_checked(bad: dict[str, object]) -> None:
    with pytest.raises(DeclarationError):
        Batch(**bad)  # type: ignore[arg-type]


def test_a_call_source_gets_the_chunk_as_its_argument() -> None:
    seen: list[list[int]] = []

    async def lookup(ids: list[int]) -> dict[str, object]:
        seen.append(ids)
        return {str(i): person(i) for i in ids}

    fn = Function(
        "sdk",
        sources={"people": call(lookup, {"ids": "item"}, each="input.ids", batch=Batch(size=2))},
    )
    result = fn.run({"ids": [4, 5, 6]})
    assert seen == [[4, 5], [6]]
    assert result.json()["people"] == [person(4), person(5), person(6)]
