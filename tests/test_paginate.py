"""`paginate=`: pages followed in four styles, bounded, degraded for reason `pages`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import respx

from sff import (
    Backend,
    DeclarationError,
    ExpressionError,
    Fallback,
    Function,
    Paginate,
    Result,
    Retry,
    SourceError,
)
from sff.cache import MemoryStore
from sff.testing import MockBackends, invoke

feed = Backend("feed", env="SFFP_FEED_API", retry=Retry(retries=1, backoff=0))
BASE = "http://pages.test/api"
direct = Backend("direct", default=BASE, retry=Retry.none())


def listing(paginate: Paginate, backend: Backend = feed, **options: object) -> Function:
    return Function(
        "listing",
        sources={
            "events": backend.get("/events", query={"kind": "'c'"}, paginate=paginate, **options)
        },  # type: ignore[arg-type]
    )


def ok(answer: object) -> Result:
    assert isinstance(answer, Result), answer
    return answer


def params(route: object) -> list[dict[str, str]]:
    return [dict(c.url.params) for c in route.calls]  # type: ignore[attr-defined]


def test_page_numbers_until_a_short_page() -> None:
    fn = listing(Paginate.pages(size=2))
    with MockBackends([fn]) as backends:
        route = backends.feed.get("/events").sequence([1, 2], [3, 4], [5])
        result = ok(invoke(fn, {}))
    assert result.json()["events"] == [1, 2, 3, 4, 5]
    assert params(route) == [
        {"kind": "c", "page": "1", "per_page": "2"},
        {"kind": "c", "page": "2", "per_page": "2"},
        {"kind": "c", "page": "3", "per_page": "2"},
    ]
    meta = result.meta.sources["events"]
    assert (meta.outcome, meta.pages, meta.attempts) == ("ok", 3, 3)


def test_an_empty_page_ends_it_too_and_offsets_count_items() -> None:
    fn = listing(Paginate.offset(size=2, offset="skip", limit="take"))
    with MockBackends([fn]) as backends:
        route = backends.feed.get("/events").sequence([1, 2], [3, 4], [])
        result = ok(invoke(fn, {}))
    assert result.json()["events"] == [1, 2, 3, 4]
    assert [p["skip"] for p in params(route)] == ["0", "2", "4"]
    assert {p["take"] for p in params(route)} == {"2"}


def test_a_cursor_from_the_body_with_the_items_inside_it() -> None:
    fn = listing(Paginate.cursor("meta.next", items="data", param="after"))
    with MockBackends([fn]) as backends:
        route = backends.feed.get("/events").sequence(
            {"data": [1], "meta": {"next": "b"}},
            {"data": [2], "meta": {"next": 7}},
            {"data": [3], "meta": {"next": None}},
        )
        result = ok(invoke(fn, {}))
    assert result.json()["events"] == [1, 2, 3]
    assert [p.get("after") for p in params(route)] == [None, "b", "7"]


def test_a_cursor_given_twice_stops_with_reason_pages() -> None:
    fn = listing(Paginate.cursor("next", items="items"))
    with MockBackends([fn]) as backends:
        route = backends.feed.get("/events").sequence(
            {"items": [1], "next": "a"}, {"items": [2], "next": "b"}, {"items": [3], "next": "a"}
        )
        result = ok(invoke(fn, {}))
    assert route.call_count == 3 and result.json()["events"] == [1, 2, 3]
    meta = result.meta.sources["events"]
    assert (meta.outcome, meta.degraded) == ("degraded", "pages")
    assert "gave a cursor it gave before" in (meta.error or "")
    assert result.meta.degraded == ["events"]


def test_link_next_is_followed_relative_or_absolute_under_the_base_url() -> None:
    fn = listing(Paginate.link(), backend=direct)
    with respx.mock() as mock:
        route = mock.get(url__startswith=f"{BASE}/events").mock(
            side_effect=[
                httpx.Response(200, json=[1], headers={"link": '</api/events?p=2>; rel="next"'}),
                httpx.Response(
                    200,
                    json=[2],
                    headers={"link": f'<{BASE}/events?p=3>; rel="next", <x>; rel=last'},
                ),
                httpx.Response(200, json=[3]),
            ]
        )
        result = fn.run({})
    assert result.json()["events"] == [1, 2, 3]
    assert [str(c.request.url) for c in route.calls][1:] == [
        f"{BASE}/events?p=2",
        f"{BASE}/events?p=3",
    ]


@pytest.mark.parametrize(
    "link",
    [
        '<http://elsewhere.test/api/events?p=2>; rel="next"',
        '<https://pages.test/api/events?p=2>; rel="next"',
        '<http://pages.test:8080/api/events?p=2>; rel="next"',
        '</other/events?p=2>; rel="next"',
        '</api/events?kind=c>; rel="next"',  # the first page again
    ],
)
def test_a_link_off_the_backend_or_back_to_a_fetched_page_stops_with_reason_pages(
    link: str,
) -> None:
    fn = listing(Paginate.link(), backend=direct)
    with respx.mock() as mock:
        route = mock.get(url__startswith=f"{BASE}/events").mock(
            return_value=httpx.Response(200, json=[1], headers={"link": link})
        )
        result = fn.run({})
    assert route.call_count == 1 and result.json()["events"] == [1]
    meta = result.meta.sources["events"]
    assert (meta.outcome, meta.degraded, meta.pages) == ("degraded", "pages", 1)


def test_max_pages_reached_is_a_degradation_with_the_items_so_far() -> None:
    fn = listing(Paginate.pages(size=1, max_pages=3))
    with MockBackends([fn]) as backends:
        route = backends.feed.get("/events").sequence([1], [2], [3], [4])
        result = ok(invoke(fn, {}))
    assert route.call_count == 3 and result.json()["events"] == [1, 2, 3]
    meta = result.meta.sources["events"]
    assert (meta.degraded, meta.error) == (
        "pages",
        "pages: max_pages (3) reached before the last page",
    )


def test_complete_makes_a_bound_the_sources_failure() -> None:
    fn = listing(Paginate.pages(size=1, max_pages=2, complete=True), fallback=Fallback.value([]))
    required = listing(Paginate.pages(size=1, max_pages=2, complete=True))
    with MockBackends([fn, required]) as backends:
        backends.feed.get("/events").respond(json=[1])
        result = ok(invoke(fn, {}))
        answer = invoke(required, {})
    assert result.json()["events"] == [] and result.meta.sources["events"].degraded == "value"
    assert isinstance(answer, SourceError) and answer.status == 502
    assert "max_pages (2) reached" in answer.message and "must be complete" in answer.message


def test_a_later_page_failing_keeps_the_pages_before_it() -> None:
    fn = listing(Paginate.pages(size=1))
    with MockBackends([fn]) as backends:
        route = backends.feed.get("/events").sequence([1], 503, 503)
        result = ok(invoke(fn, {}))
    assert route.call_count == 3  # page 2 was retried once
    meta = result.meta.sources["events"]
    assert result.json()["events"] == [1]
    assert meta.degraded == "pages" and "page 2:" in (meta.error or "") and "503" in meta.error


def test_the_first_page_failing_is_the_source_failing() -> None:
    fn = listing(Paginate.pages(size=1), fallback=Fallback.value(["stand-in"]))
    with MockBackends([fn]) as backends:
        backends.feed.get("/events").fail(503)
        result = ok(invoke(fn, {}))
    assert result.json()["events"] == ["stand-in"]
    assert result.meta.sources["events"].degraded == "value"


def test_items_that_are_not_an_array_fail_the_first_page() -> None:
    fn = listing(Paginate.cursor("next", items="items"))
    with MockBackends([fn]) as backends:
        backends.feed.get("/events").respond(json={"items": {"a": 1}})
        answer = invoke(fn, {})
    assert isinstance(answer, SourceError) and "`items`) is not an array" in answer.message


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def test_the_deadline_stops_paging_with_the_items_so_far(mock: respx.MockRouter) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.15)
        return httpx.Response(200, json=[request.url.params["page"]])

    mock.get(url__startswith=f"{BASE}/events").mock(side_effect=slow)
    fn = Function(
        "slow",
        sources={"events": direct.get("/events", paginate=Paginate.pages(size=1, max_pages=50))},
        timeout=0.5,
    )
    result = fn.run({})
    events = result.json()["events"]
    assert 1 <= len(events) < 50 and events == [str(i) for i in range(1, len(events) + 1)]
    meta = result.meta.sources["events"]
    assert meta.degraded == "pages" and result.status == 200


async def test_the_cache_keeps_the_whole_list(mock: respx.MockRouter) -> None:
    route = mock.get(url__startswith=f"{BASE}/events").mock(
        side_effect=[
            httpx.Response(200, json=[1]),
            httpx.Response(200, json=[]),
            httpx.Response(503),
        ]
    )
    fn = listing(Paginate.pages(size=1), backend=direct, fallback=Fallback.cache())
    store = MemoryStore()
    first = await fn.invoke({}, cache=store)
    second = await fn.invoke({}, cache=store)
    assert route.call_count == 3
    assert first.json()["events"] == second.json()["events"] == [1]
    assert second.meta.sources["events"].degraded == "cache"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            lambda: direct.get("/e", each="input.ids", paginate=Paginate.link()),
            "cannot be combined",
        ),
        (
            lambda: direct.get("/e", paginate=Paginate.link(), fallback=Fallback.cache(fresh="1m")),
            "fresh=",
        ),
        (lambda: direct.get("/e", paginate=5), "paginate= takes Paginate"),
    ],
)
def test_paginate_is_checked_at_declaration(make: object, said: str) -> None:
    with pytest.raises(DeclarationError, match=said):
        Function("bad", sources={"events": make()})  # type: ignore[operator]


def test_a_bad_cursor_expression_is_refused_at_declaration_with_a_caret() -> None:
    with pytest.raises(ExpressionError) as caught:
        listing(Paginate.cursor("meta.[next"))
    text = str(caught.value)
    assert "paginate next" in text and "meta.[next" in text


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Paginate.pages(size=0),
        lambda: Paginate.pages(max_pages=0),
        lambda: Paginate.offset(offset=""),
        lambda: Paginate.cursor("n", size=5),
    ],
)
def test_paginate_arguments_are_checked(bad: object) -> None:
    with pytest.raises(DeclarationError):
        bad()  # type: ignore[operator]
