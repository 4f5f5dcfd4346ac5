"""`meta.X` in expressions: a source's outcome is data the shape (and later sources) can
use; an expression failing on an optional source is reason `expression`; each failed
`each` item is noted with its index and cause."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import BaseModel

from sff import Backend, ConfigError, ExpressionError, Fallback, Function, PlanError, call
from sff.cache import MemoryStore
from sff.waterfall import render_waterfall

BASE = "http://meta.test"
api = Backend("api", default=BASE)


@pytest.fixture
def mock() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as router:
        yield router


class Page(BaseModel):
    price: float | None
    price_is_live: bool
    stale_s: float | None


def priced() -> Function:
    return Function(
        "priced",
        sources={
            "pricing": api.get("/price", fallback=[Fallback.cache(max_stale="1h"), Fallback.omit()])
        },
        shape={
            "price": "pricing.amount",
            "price_is_live": "meta.pricing.outcome == 'ok'",
            "stale_s": "meta.pricing.stale_s",
        },
        contract=Page,
    )


async def test_the_shape_reads_whether_a_source_is_live(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/price").respond(json={"amount": 9.5})
    result = await priced().invoke(cache=MemoryStore())
    assert result.data == Page(price=9.5, price_is_live=True, stale_s=None)


async def test_a_stale_copy_is_not_called_live(mock: respx.MockRouter) -> None:
    store, fn = MemoryStore(), priced()
    mock.get(f"{BASE}/price").respond(json={"amount": 9.5})
    await fn.invoke(cache=store)
    mock.get(f"{BASE}/price").respond(503)
    result = await fn.invoke(cache=store)
    assert result.data.price == 9.5 and result.data.price_is_live is False
    assert result.data.stale_s is not None and result.data.stale_s >= 0


async def test_a_source_reading_meta_waits_for_that_source(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/price").respond(503)
    route = mock.get(f"{BASE}/banner").respond(json={"text": "prices may be old"})
    fn = Function(
        "f",
        sources={
            "pricing": api.get("/price", fallback=Fallback.omit()),
            "banner": api.get("/banner", when="meta.pricing.degraded"),
        },
        shape={"why": "meta.pricing.reason", "banner": "banner.text"},
    )
    assert fn.plan.nodes["banner"].deps == {"pricing"}
    result = await fn.invoke()
    assert result.data == {"why": "omit", "banner": "prices may be old"}
    assert route.call_count == 1


def test_a_negation_binding_tighter_than_the_path_is_caught() -> None:
    # JMESPath reads `!meta.pricing.degraded` as `(!meta).pricing.degraded`: always null.
    with pytest.raises(ExpressionError, match="'pricing' is read from a boolean"):
        Function("f", sources={"pricing": api.get("/p")}, shape={"x": "!meta.pricing.degraded"})


def test_a_parenthesised_negation_reads_the_outcome() -> None:
    with respx.mock() as router:
        router.get(f"{BASE}/p").respond(json={"x": 1})
        fn = Function(
            "f", sources={"pricing": api.get("/p")}, shape={"live": "!(meta.pricing.degraded)"}
        )
        assert fn.run().data == {"live": True}


def test_meta_of_no_such_source_is_a_declaration_error() -> None:
    with pytest.raises(PlanError, match=r"`meta\.pricng` names no source"):
        Function("f", sources={"pricing": api.get("/p")}, shape={"x": "meta.pricng.degraded"})


def test_meta_as_a_whole_in_a_source_would_wait_for_everything() -> None:
    with pytest.raises(PlanError, match="name the source"):
        Function("f", sources={"a": api.get("/a", query={"m": "meta"})})


def test_no_source_may_be_called_meta() -> None:
    with pytest.raises(PlanError, match="'meta' cannot name a source"):
        Function("f", sources={"meta": api.get("/a")})


def test_the_answer_without_a_shape_does_not_carry_meta() -> None:
    with respx.mock() as router:
        router.get(f"{BASE}/a").respond(json=1)
        assert Function("f", sources={"a": api.get("/a")}).run().data == {"a": 1}


async def test_an_expression_failing_on_an_optional_source_is_reason_expression(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"{BASE}/user").respond(json={"tags": None})
    fn = Function(
        "f",
        sources={
            "user": api.get("/user"),
            "related": api.get(
                "/related", query={"n": "length(user.tags)"}, fallback=Fallback.value([])
            ),
        },
        shape={"related": "related", "why": "meta.related.reason"},
    )
    result = await fn.invoke()
    assert result.data == {"related": [], "why": "expression"}
    assert "related;reason=expression" in result.headers()["x-sff-degraded"]
    assert "length(user.tags)" in (result.meta.sources["related"].error or "")
    drawn = render_waterfall(result.meta, fn.plan, color=False, status=200)
    assert "degraded (expression)" in drawn and "length(user.tags)" in drawn


async def test_each_failed_item_is_noted_with_its_index_and_cause(
    mock: respx.MockRouter,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(503 if n == 2 else 200, json={"n": n})

    mock.get(url__startswith=f"{BASE}/notes/").mock(side_effect=answer)
    fn = Function(
        "f",
        sources={
            "notes": api.get(
                "/notes/{item}", each="input.ids", item_fallback=Fallback.value({"n": None})
            )
        },
    )
    result = await fn.invoke({"ids": [1, 2, 3]})
    src = result.meta.sources["notes"]
    assert (src.failed_items, src.degraded) == (1, "items")
    assert src.item_errors is not None and src.item_errors[0]["index"] == 1
    assert "503" in src.item_errors[0]["cause"] and src.item_errors[0]["fallback"] == "value"
    assert "notes;reason=items" in result.headers()["x-sff-degraded"]
    drawn = render_waterfall(result.meta, fn.plan, color=False, status=200)
    assert "1 failed" in drawn and "item 1:" in drawn


async def test_a_called_functions_unset_variable_is_misconfigured_not_degraded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SFF_TEST_INNER_API", raising=False)
    inner_api = Backend("inner", env="SFF_TEST_INNER_API")
    inner = Function("inner", sources={"x": inner_api.get("/x")})
    outer = Function("outer", sources={"sub": call(inner, fallback=Fallback.omit())})
    with pytest.raises(ConfigError) as caught:
        await outer.invoke()
    assert caught.value.detail["variable"] == "SFF_TEST_INNER_API"
    assert "source 'sub (x)'" in caught.value.message
