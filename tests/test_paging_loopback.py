"""`batch=` and `paginate=` through real HTTP: the demo backend (its request log counts
what arrived) and a third-party-style Starlette app under uvicorn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.backend import DemoBackend, serve_in_thread
from functions.activity_feed import activity_feed
from functions.todo_detail import todo_detail
from sff import Backend, Batch, Fallback, Function, Paginate, Result, SourceError
from tests import paged_server
from tests.echo_server import EchoServer

EVENTS = Path(__file__).parent / "events"
CROWDED = 37  # the todo given 100 commenters


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, DemoBackend]]:
    backend = DemoBackend()
    backend.data.crowd(CROWDED, 100)
    with serve_in_thread(backend=backend) as url:
        yield url, backend


@pytest.fixture
def demo_env(demo: tuple[str, DemoBackend], monkeypatch: pytest.MonkeyPatch) -> DemoBackend:
    url, backend = demo
    for name in ("USERS_API", "TODOS_API", "SFFL_API"):
        monkeypatch.setenv(name, url)
    backend.reset()
    return backend


def per_item_detail() -> Function:
    """todo_detail's authors as they were before batch=: one GET /users/{id} per author."""
    users = Backend("users", env="USERS_API", timeout="2s")
    return Function(
        "per_item",
        input=todo_detail.input,
        sources={
            **todo_detail.sources,
            "authors": users.get(
                "/users/{item}",
                each="keys(index_by(comments, 'user_id'))",
                concurrency=8,
                fallback=Fallback.value([]),
            ),
        },
        shape="join_on(comments, authors, 'user_id', 'id', 'author')[*].author.name",
    )


def test_100_comment_authors_take_two_batch_requests_instead_of_100(demo_env: DemoBackend) -> None:
    batched = todo_detail.run({"todo_id": CROWDED})
    batched_log = demo_env.stats()["by_path"]
    demo_env.reset()
    one_each = per_item_detail().run({"todo_id": CROWDED})
    per_item_log = demo_env.stats()["by_path"]

    names = [c["author"]["name"] for c in batched.json()["comments"]]
    assert names == one_each.json() and len(set(names)) == 100
    assert batched_log["/users"] == 2  # 100 ids, 50 per request
    owner = f"/users/{todo_detail.run({'todo_id': CROWDED}).json()['owner']['id']}"
    assert sum(n for p, n in batched_log.items() if p.startswith("/users/")) == 1  # the owner
    assert sum(n for p, n in per_item_log.items() if p.startswith("/users/")) == 100
    assert owner in batched_log
    meta = batched.meta.sources["authors"]
    assert (meta.outcome, meta.items, meta.attempts) == ("ok", 100, 2)


def test_a_batch_by_post_answered_as_an_object_keyed_by_id(demo_env: DemoBackend) -> None:
    api = Backend("api", env="SFFL_API")
    fn = Function(
        "lookup",
        sources={
            "people": api.post(
                "/users/lookup",
                body={"ids": "item"},
                each="input.ids",
                batch=Batch(size=3),
                item_fallback=Fallback.value(None),
                tolerate=1,
            )
        },
        shape="people[*].name",
    )
    result = fn.run({"ids": [5, 2, 999, 1, 2]})
    seed = demo_env.data.users_by_id
    assert result.json() == [seed[5]["name"], seed[2]["name"], seed[1]["name"], seed[2]["name"]]
    assert demo_env.stats()["by_path"] == {"/users/lookup": 2}  # 4 distinct ids, 3 per request
    meta = result.meta.sources["people"]
    assert meta.outcome == "degraded" and meta.item_errors is not None
    assert meta.item_errors[0]["index"] == 2 and "999" in meta.item_errors[0]["cause"]


def paged(paginate: Paginate, path: str, **query: Any) -> Function:
    api = Backend("api", env="SFFL_API")
    return Function("paged", sources={"events": api.get(path, query=query, paginate=paginate)})


@pytest.mark.parametrize(
    ("paginate", "path", "query"),
    [
        (Paginate.pages(size=7), "/activity", {}),
        (
            Paginate.cursor("next_cursor", items="items", size=7, size_param="limit"),
            "/activity/cursor",
            {},
        ),
        (Paginate.link(), "/activity/linked", {"per_page": 7}),
    ],
    ids=["page-number", "cursor", "link"],
)
def test_every_page_style_gets_the_whole_list_from_the_demo(
    demo_env: DemoBackend, paginate: Paginate, path: str, query: dict[str, Any]
) -> None:
    expected = [e for e in demo_env.data.activity if e["user_id"] == 3]
    result = paged(paginate, path, userId=3, **query).run({})
    assert result.json()["events"] == expected
    pages = -(-len(expected) // 7) + (len(expected) % 7 == 0 and path == "/activity")
    meta = result.meta.sources["events"]
    assert (meta.outcome, meta.pages) == ("ok", pages)
    assert demo_env.stats()["by_path"] == {path: pages}


@pytest.mark.parametrize(
    ("paginate", "path"),
    [
        (Paginate.pages(size=20, max_pages=3), "/activity"),
        (Paginate.cursor("next_cursor", items="items", max_pages=3), "/activity/cursor"),
        (Paginate.link(max_pages=3), "/activity/linked"),
    ],
    ids=["page-number", "cursor", "link"],
)
def test_max_pages_hit_degrades_with_the_items_so_far(
    demo_env: DemoBackend, paginate: Paginate, path: str
) -> None:
    result = paged(paginate, path).run({})
    assert result.json()["events"] == demo_env.data.activity[:60]
    meta = result.meta.sources["events"]
    assert (meta.outcome, meta.degraded, meta.pages) == ("degraded", "pages", 3)
    assert result.meta.degraded == ["events"]
    assert demo_env.stats()["by_path"] == {path: 3}


def test_the_example_activity_feed_says_when_it_is_cut_short(demo_env: DemoBackend) -> None:
    whole = activity_feed.run({"user_id": 3}).json()
    cut = activity_feed.run({}).json()
    assert (whole["complete"], whole["reason"], whole["count"]) == (True, None, 26)
    assert (cut["complete"], cut["reason"], cut["count"]) == (False, "pages", 100)


@pytest.fixture(scope="module")
def third_party() -> Iterator[str]:
    server = EchoServer(paged_server.app)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def api(third_party: str, monkeypatch: pytest.MonkeyPatch) -> Backend:
    monkeypatch.setenv("SFFL_THIRD", third_party)
    paged_server.log.clear()
    return Backend("third", env="SFFL_THIRD")


def test_a_third_party_batch_with_string_ids_and_left_out_items(api: Backend) -> None:
    fn = Function(
        "people",
        sources={
            "people": api.post(
                "/v1/people:batch",
                body={"ids": "item"},
                each="input.ids",
                batch=Batch(size=4, key="id"),
                item_fallback=Fallback.value({"id": None, "name": "unknown"}),
            )
        },
        shape="people[*].name",
    )
    result = fn.run({"ids": list(range(1, 11))})
    names = ["unknown" if i == 7 else f"person {i}" for i in range(1, 11)]
    assert result.json() == names
    assert len(paged_server.log) == 3  # 10 ids, 4 per request
    assert result.meta.sources["people"].failed_items == 1


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"x": "'1'"}, "no entry with id '1' in the batch response"),
        ({}, "batch response item 0 has no key 'id'"),
    ],
)
def test_a_third_party_batch_answer_that_is_not_items_by_key_fails_cleanly(
    api: Backend, query: dict[str, Any], said: str
) -> None:
    fn = Function(
        "bad",
        sources={
            "people": api.get(
                "/v1/people/bad",
                query={"id": "item", **query},
                each="input.ids",
                batch=Batch(),
            )
        },
    )
    with pytest.raises(SourceError) as failure:
        fn.run({"ids": [1, 2]})
    assert failure.value.status == 502 and failure.value.source == "people"
    assert said in failure.value.message and "Traceback" not in failure.value.message


def run_paged(api: Backend, path: str, paginate: Paginate, **query: Any) -> Result:
    fn = Function("p", sources={"items": api.get(path, query=query, paginate=paginate)})
    return fn.run({})


def test_absolute_link_headers_with_a_last_link_are_followed(api: Backend) -> None:
    result = run_paged(api, "/v1/items", Paginate.link(), limit=10)
    assert result.json()["items"] == paged_server.ITEMS
    assert [line.split("?")[1] for line in paged_server.log] == [
        "limit=10",
        "page=2&limit=10",
        "page=3&limit=10",
    ]


def test_a_link_to_another_origin_is_not_followed(api: Backend) -> None:
    result = run_paged(api, "/v1/items/away", Paginate.link())
    assert result.json()["items"] == paged_server.ITEMS[:10] and len(paged_server.log) == 1
    meta = result.meta.sources["items"]
    assert meta.degraded == "pages" and "leaves the backend's base URL" in (meta.error or "")


def test_a_cursor_body_and_a_cursor_given_twice(api: Backend) -> None:
    cursor = Paginate.cursor("paging.next", items="results", param="after")
    whole = run_paged(api, "/v1/feed", cursor)
    assert whole.json()["items"] == paged_server.ITEMS
    paged_server.log.clear()
    looping = run_paged(api, "/v1/feed", cursor, loop="'1'")
    assert len(paged_server.log) == 2 and looping.json()["items"] == paged_server.ITEMS[:20]
    assert looping.meta.sources["items"].degraded == "pages"


def test_a_failing_page_two_keeps_page_one_unless_the_list_must_be_complete(api: Backend) -> None:
    partial = run_paged(api, "/v1/flaky", Paginate.pages(size=10, per_page="limit"))
    assert partial.json()["items"] == paged_server.ITEMS[:10]
    meta = partial.meta.sources["items"]
    assert meta.degraded == "pages" and "page 2:" in (meta.error or "") and meta.attempts == 4
    with pytest.raises(SourceError) as failure:
        run_paged(api, "/v1/flaky", Paginate.pages(size=10, per_page="limit", complete=True))
    assert failure.value.status == 502 and "must be complete" in failure.value.message


def test_the_lambda_adapter_answers_a_cut_short_feed_as_200_marked_pages(
    demo_env: DemoBackend,
) -> None:
    event = json.loads((EVENTS / "aws_lambdaFunctionUrlEvent.json").read_text())
    event["rawPath"] = "/activity_feed"
    answer = activity_feed.handler(event, None)
    assert answer["statusCode"] == 200
    headers = {k.lower(): v for k, v in answer["headers"].items()}
    assert headers["x-sff-degraded"] == "events;reason=pages"
    assert json.loads(answer["body"])["reason"] == "pages"
