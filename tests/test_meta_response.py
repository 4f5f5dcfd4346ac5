"""`meta.<source>.status` / `.headers."name"` (and `.items[*]` for `each`): a source's
response in expressions, through the kit's mocked backends. Secrets never show, names are
lower case, misspellings are declaration errors, and only sources read build the mapping."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel

from sff import Backend, ExpressionError, Fallback, Function, PlanError, call
from sff.testing import MockBackends, ainvoke

api = Backend("api", env="SFFT_META_API", secret_headers=("x-internal-route",))


class Page(BaseModel):
    items: list[int]
    total: int


def counted() -> Function:
    return Function(
        "counted",
        sources={"page": api.get("/items", query={"limit": 2})},
        shape={"items": "page", "total": 'to_number(meta.page.headers."x-total-count")'},
        contract=Page,
    )


async def test_the_shape_reads_a_response_header() -> None:
    fn = counted()
    with MockBackends([fn]) as backends:
        backends.api.get("/items").respond(json=[1, 2], headers={"X-Total-Count": "41"})
        result = await ainvoke(fn)

    assert result.data == Page(items=[1, 2], total=41)
    assert fn.plan.exposed == {"page"}


async def test_a_source_reading_another_ones_header_waits_for_it() -> None:
    fn = Function(
        "next",
        sources={
            "first": api.get("/items"),
            "second": api.get("/items", query={"cursor": 'meta.first.headers."x-next"'}),
        },
        shape={"a": "first", "b": "second", "status": "meta.second.status"},
    )
    assert fn.plan.nodes["second"].deps == {"first"}
    with MockBackends([fn]) as backends:
        route = backends.api.get("/items")
        route.sequence(httpx.Response(200, json=[1], headers={"x-next": "c2"}), [2])
        result = await ainvoke(fn)

    assert result.data == {"a": [1], "b": [2], "status": 200}
    assert route.calls[1].url.params["cursor"] == "c2"


async def test_secret_and_credential_headers_are_never_exposed() -> None:
    fn = Function(
        "all_headers",
        sources={"page": api.get("/items", headers={"authorization": "'Bearer s3cr3t-token'"})},
        shape={"headers": "meta.page.headers"},
    )
    answer = {
        "set-cookie": "sid=abc123",
        "www-authenticate": "Bearer realm=x",
        "x-api-key": "k-123456",
        "x-internal-route": "pod-7",  # the backend declares it secret
        "x-echo": "you sent s3cr3t-token",
        "x-total-count": "3",
    }
    with MockBackends([fn]) as backends:
        backends.api.get("/items").respond(json=[], headers=answer)
        result = await ainvoke(fn)

    headers = result.data["headers"]
    assert headers["x-total-count"] == "3"
    for hidden in ("set-cookie", "www-authenticate", "x-api-key", "x-internal-route"):
        assert hidden not in headers
    assert "s3cr3t-token" not in headers["x-echo"]  # a value the invocation sent is redacted


async def test_each_item_has_its_own_status_and_headers_in_item_order() -> None:
    fn = Function(
        "per_item",
        sources={
            "users": api.get("/users/{item}", each="[`1`, `2`, `3`]", tolerate=1, concurrency=3)
        },
        shape={
            "statuses": "meta.users.items[*].status",
            "etags": 'meta.users.items[*].headers."etag"',
        },
    )
    with MockBackends([fn]) as backends:
        backends.api.get("/users/1").slow(0.05).respond(json={"id": 1}, headers={"etag": "a"})
        backends.api.get("/users/2").fail(404)
        backends.api.get("/users/3").respond(json={"id": 3}, headers={"etag": "c"})
        result = await ainvoke(fn)

    assert result.data == {"statuses": [200, 404, 200], "etags": ["a", "c"]}


def test_an_upper_case_header_name_is_a_declaration_error_saying_lower_case() -> None:
    with pytest.raises(ExpressionError) as error:
        Function(
            "f",
            sources={"page": api.get("/items")},
            shape={"total": 'meta.page.headers."X-Total-Count"'},
        )
    text = str(error.value)
    assert 'write "x-total-count"' in text
    caret = text.splitlines()[-1]
    assert caret.index("^") == text.splitlines()[-2].index('"X-Total-Count"')


def test_a_misspelled_key_under_meta_is_a_declaration_error_with_a_caret() -> None:
    with pytest.raises(ExpressionError) as error:
        Function(
            "f",
            sources={"page": api.get("/items")},
            shape={"total": 'meta.page.header."x-total-count"'},
        )
    text = str(error.value)
    assert "did you mean 'headers'" in text
    lines = text.splitlines()
    assert lines[-1].index("^") == lines[-2].index("header.")


def test_items_exist_only_for_each_and_headers_only_for_http_sources() -> None:
    async def lookup() -> dict[str, int]:
        return {}

    with pytest.raises(ExpressionError, match="no field 'items'"):
        Function("f", sources={"page": api.get("/items")}, shape="meta.page.items")
    with pytest.raises(ExpressionError, match="no field 'headers'"):
        Function("f", sources={"svc": call(lookup)}, shape='meta.svc.headers."etag"')
    with pytest.raises(ExpressionError, match="no field 'headers'"):
        Function(
            "f",
            sources={"many": api.get("/x/{item}", each="[`1`]")},
            shape='meta.many.headers."etag"',
        )


def test_meta_of_an_unknown_source_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="names no source"):
        Function("f", sources={"page": api.get("/items")}, shape='meta.pages.headers."a"')


def test_only_sources_whose_response_is_read_build_headers() -> None:
    fn = Function(
        "f",
        sources={
            "a": api.get("/a", fallback=Fallback.omit()),
            "b": api.get("/b"),
            "c": api.get("/c", when="meta.a.degraded"),
        },
        shape={"a": "a", "b": "b", "c": "c", "status": "meta.b.status"},
    )
    assert fn.plan.exposed == frozenset()  # outcome and status need no headers
    whole = Function("g", sources={"a": api.get("/a"), "b": api.get("/b")}, shape="meta")
    assert whole.plan.exposed == {"a", "b"}  # `meta` whole: every response can be read


async def test_a_function_reading_no_headers_keeps_them_out_of_meta() -> None:
    fn = Function("plain", sources={"a": api.get("/a")}, shape={"s": "meta.a.status"})
    with MockBackends([fn]) as backends:
        backends.api.get("/a").respond(json={}, headers={"x-total-count": "1"})
        result = await ainvoke(fn)

    assert result.data == {"s": 200}
    assert "headers" not in result.meta.sources["a"].to_dict()


async def test_headers_of_a_failed_optional_source_are_empty_and_status_is_its_own() -> None:
    fn = Function(
        "f",
        sources={"a": api.get("/a", fallback=Fallback.value([]))},
        shape={"status": "meta.a.status", "count": 'meta.a.headers."x-total-count"'},
    )
    with MockBackends([fn]) as backends:
        backends.api.get("/a").fail(503)
        result = await ainvoke(fn)

    assert result.data == {"status": 503, "count": None}


async def test_over_loopback_each_item_status_and_a_header_from_the_demo_backend() -> None:
    from demo.backend import serve_in_thread

    demo = Backend("demo", env="SFFT_DEMO_API")
    fn = Function(
        "people",
        sources={
            "page": demo.get("/todos", query={"limit": 1}),
            "users": demo.get("/users/{item}", each="[`1`, `9999`, `2`]", tolerate=1),
        },
        shape={
            "total": 'to_number(meta.page.headers."x-total-count")',
            "statuses": "meta.users.items[*].status",
            "types": 'meta.users.items[*].headers."content-type"',
        },
    )
    with serve_in_thread() as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("SFFT_DEMO_API", url)
        result = await fn.invoke()

    assert result.data["total"] == 200
    assert result.data["statuses"] == [200, 404, 200]
    assert result.data["types"] == ["application/json"] * 2  # the failed item has none
