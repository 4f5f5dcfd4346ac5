"""`each` sources: a failed item tries its own fallback; failures beyond `tolerate` fail
the source as a whole, which then tries the source's chain."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from sff import Backend, DeclarationError, Fallback, Function, Retry, SourceError
from sff.cache import MemoryStore

BASE = "http://api.test"
api = Backend("api", default=BASE, retry=Retry.none())


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def notes_fn(**options: object) -> Function:
    return Function(
        "f",
        input=None,
        sources={"notes": api.get("/notes/{item}", each="input.ids", **options)},  # type: ignore[arg-type]
    )


def serve(mock: respx.MockRouter, failing: set[int]) -> respx.Route:
    def answer(request: httpx.Request) -> httpx.Response:
        item = int(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(503) if item in failing else httpx.Response(200, json={"n": item})

    return mock.get(url__startswith=f"{BASE}/notes/").mock(side_effect=answer)


async def test_a_failed_item_uses_the_item_fallback(mock: respx.MockRouter) -> None:
    serve(mock, failing={2})
    result = await notes_fn(item_fallback=Fallback.value({"n": None})).invoke({"ids": [1, 2, 3]})
    assert result.data == {"notes": [{"n": 1}, {"n": None}, {"n": 3}]}
    src = result.meta.sources["notes"]
    assert (src.outcome, src.degraded, src.failed_items) == ("degraded", "items", 1)
    assert src.item_errors is not None and len(src.item_errors) == 1
    assert (src.item_errors[0]["index"], src.item_errors[0]["fallback"]) == (1, "value")
    assert "503" in src.item_errors[0]["cause"]


async def test_a_failed_item_uses_its_own_cached_copy(mock: respx.MockRouter) -> None:
    failing: set[int] = set()
    serve(mock, failing)
    fn, store = notes_fn(fallback=Fallback.cache()), MemoryStore()
    await fn.invoke({"ids": [1, 2, 3]}, cache=store)
    failing.add(3)
    result = await fn.invoke({"ids": [1, 2, 3]}, cache=store)
    assert result.data == {"notes": [{"n": 1}, {"n": 2}, {"n": 3}]}
    src = result.meta.sources["notes"]
    assert (src.degraded, src.cache) == ("cache", "stale") and src.stale_s is not None


async def test_failures_within_tolerate_become_null_items(mock: respx.MockRouter) -> None:
    serve(mock, failing={2})
    result = await notes_fn(tolerate=1).invoke({"ids": [1, 2, 3]})
    assert result.data == {"notes": [{"n": 1}, None, {"n": 3}]}
    src = result.meta.sources["notes"]
    assert (src.outcome, src.degraded, src.failed_items) == ("degraded", "items", 1)
    assert "notes;reason=items" in result.headers()["x-sff-degraded"]


async def test_failures_beyond_tolerate_fail_a_required_source(mock: respx.MockRouter) -> None:
    serve(mock, failing={1, 2})
    with pytest.raises(SourceError) as caught:
        await notes_fn(tolerate=1).invoke({"ids": [1, 2, 3]})
    assert caught.value.source == "notes"
    assert "2 of 3 items failed" in caught.value.message


async def test_a_tolerated_ratio_counts_against_the_number_of_items(
    mock: respx.MockRouter,
) -> None:
    serve(mock, failing={1, 2})
    fn = notes_fn(tolerate=0.5)
    assert (await fn.invoke({"ids": [1, 2, 3, 4]})).data["notes"][2:] == [{"n": 3}, {"n": 4}]
    with pytest.raises(SourceError):
        await fn.invoke({"ids": [1, 2, 3]})


async def test_beyond_tolerate_the_source_chain_stands_in(mock: respx.MockRouter) -> None:
    serve(mock, failing={1, 2, 3})
    result = await notes_fn(tolerate=1, fallback=Fallback.value([])).invoke({"ids": [1, 2, 3]})
    assert result.data == {"notes": []}
    assert result.meta.sources["notes"].degraded == "value"


async def test_without_tolerate_one_failed_item_fails_the_source(mock: respx.MockRouter) -> None:
    serve(mock, failing={3})
    with pytest.raises(SourceError):
        await notes_fn().invoke({"ids": [1, 2, 3]})


def test_item_fallback_needs_each() -> None:
    with pytest.raises(DeclarationError, match="needs each"):
        api.get("/x", item_fallback=Fallback.omit())
