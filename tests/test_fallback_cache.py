"""The fallback cache: network-first, served only when the backend fails (or while fresh),
marked in meta and headers, never across identities, never storing bad responses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
import respx

from sff import Backend, Fallback, Function, Retry, SourceError
from sff.cache import MemoryStore

BASE = "http://api.test"
api = Backend("api", default=BASE, retry=Retry.none(), forward_headers=("authorization",))
DOWN = httpx.Response(503, json={"error": "down"})


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def todos_fn(*chain: Fallback, **options: object) -> Function:
    return Function(
        "todos",
        sources={"todos": api.get("/todos", fallback=list(chain), **options)},  # type: ignore[arg-type]
    )


async def test_backend_down_after_one_success_serves_the_stale_copy_marked(
    mock: respx.MockRouter,
) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[{"id": 1}]))
    fn, store = todos_fn(Fallback.cache(max_stale="1h")), MemoryStore()
    await fn.invoke(cache=store)
    route.mock(return_value=DOWN)
    result = await fn.invoke(cache=store)
    assert result.data == {"todos": [{"id": 1}]} and result.status == 200
    src = result.meta.sources["todos"]
    assert (src.outcome, src.degraded, src.cache) == ("degraded", "cache", "stale")
    assert src.stale_s is not None and 0 <= src.stale_s < 60
    assert "HTTP 503" in (src.error or "")
    headers = result.headers()
    assert headers["x-sff-degraded"] == f"todos;reason=cache;age={round(src.stale_s)}"
    assert "todos;dur=" in headers["server-timing"] and 'desc="stale"' in headers["server-timing"]


async def test_the_cache_is_not_read_while_the_backend_answers(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[1]))
    fn, store = todos_fn(Fallback.cache()), MemoryStore()
    await fn.invoke(cache=store)
    route.mock(return_value=httpx.Response(200, json=[2]))
    result = await fn.invoke(cache=store)
    assert result.data == {"todos": [2]} and result.meta.degraded == []


async def test_a_copy_older_than_max_stale_is_not_served_and_the_502_names_the_source(
    mock: respx.MockRouter,
) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[1]))
    fn, store = todos_fn(Fallback.cache(max_stale="100ms")), MemoryStore()
    await fn.invoke(cache=store)
    await asyncio.sleep(0.25)
    route.mock(return_value=DOWN)
    with pytest.raises(SourceError) as caught:
        await fn.invoke(cache=store)
    error = caught.value
    assert error.status == 502 and error.source == "todos"
    assert "HTTP 503" in error.message and "cache:" in error.message


async def test_a_stale_miss_falls_through_to_the_next_step(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/todos").mock(return_value=DOWN)
    fn = todos_fn(Fallback.cache(), Fallback.value([]))
    result = await fn.invoke(cache=MemoryStore())
    assert result.data == {"todos": []}
    assert result.meta.sources["todos"].degraded == "value"


async def test_fresh_serves_from_cache_without_calling(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[1]))
    fn, store = todos_fn(Fallback.cache(max_stale="1h", fresh="1m")), MemoryStore()
    await fn.invoke(cache=store)
    result = await fn.invoke(cache=store)
    assert route.call_count == 1 and result.data == {"todos": [1]}
    src = result.meta.sources["todos"]
    assert (src.outcome, src.cache) == ("ok", "fresh")
    assert "todos;dur=" in result.headers()["server-timing"]
    assert 'desc="fresh"' in result.headers()["server-timing"]
    assert result.meta.degraded == []


async def test_errors_are_never_stored(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(404, json=[9]))
    fn, store = todos_fn(Fallback.cache(), Fallback.value("spare")), MemoryStore()
    await fn.invoke(cache=store)
    route.mock(return_value=DOWN)
    assert (await fn.invoke(cache=store)).data == {"todos": "spare"}


async def test_bodies_that_are_not_json_are_never_stored(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, text='[{"id": 1'))
    fn, store = todos_fn(Fallback.cache(), Fallback.value("spare")), MemoryStore()
    await fn.invoke(cache=store)
    route.mock(return_value=DOWN)
    assert (await fn.invoke(cache=store)).data == {"todos": "spare"}


async def test_oversize_bodies_are_never_stored(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=["x" * 100]))
    fn = todos_fn(Fallback.cache(max_bytes=50), Fallback.value("spare"))
    store = MemoryStore()
    assert (await fn.invoke(cache=store)).data == {"todos": ["x" * 100]}
    route.mock(return_value=DOWN)
    assert (await fn.invoke(cache=store)).data == {"todos": "spare"}


async def test_a_personal_source_without_identity_is_never_cached(
    mock: respx.MockRouter,
) -> None:
    with pytest.warns(UserWarning, match="never cached"):
        fn = todos_fn(Fallback.cache(), Fallback.value("spare"), personal=True)
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[1]))
    store = MemoryStore()
    await fn.invoke(cache=store)
    route.mock(return_value=DOWN)
    assert (await fn.invoke(cache=store)).data == {"todos": "spare"}


async def test_two_identities_never_see_each_others_cached_data(
    mock: respx.MockRouter,
) -> None:
    fn = todos_fn(
        Fallback.cache(),
        Fallback.value("spare"),
        personal=True,
        identity='headers."x-user"',
    )
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=["A's"]))
    store = MemoryStore()
    await fn.invoke(headers={"X-User": "alice"}, cache=store)
    route.mock(return_value=DOWN)
    bob = await fn.invoke(headers={"X-User": "bob"}, cache=store)
    alice = await fn.invoke(headers={"X-User": "alice"}, cache=store)
    nobody = await fn.invoke(cache=store)
    assert bob.data == {"todos": "spare"} and nobody.data == {"todos": "spare"}
    assert alice.data == {"todos": ["A's"]}


async def test_a_forwarded_token_keys_the_copy_even_without_identity(
    mock: respx.MockRouter,
) -> None:
    fn = todos_fn(Fallback.cache(), Fallback.value("spare"))
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=["A's"]))
    store = MemoryStore()
    await fn.invoke(headers={"Authorization": "Bearer token-a"}, cache=store)
    route.mock(return_value=DOWN)
    other = await fn.invoke(headers={"Authorization": "Bearer token-b"}, cache=store)
    same = await fn.invoke(headers={"Authorization": "Bearer token-a"}, cache=store)
    assert other.data == {"todos": "spare"} and same.data == {"todos": ["A's"]}


async def test_backend_vary_headers_key_the_copy(mock: respx.MockRouter) -> None:
    localized = Backend("api", default=BASE, retry=Retry.none(), vary_headers=("Accept-Language",))
    fn = Function(
        "f",
        sources={
            "todos": localized.get(
                "/todos",
                headers={"accept-language": "input.lang"},
                fallback=[Fallback.cache(), Fallback.value("spare")],
            )
        },
    )
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=["de"]))
    store = MemoryStore()
    await fn.invoke({"lang": "de"}, cache=store)
    route.mock(return_value=DOWN)
    assert (await fn.invoke({"lang": "fr"}, cache=store)).data == {"todos": "spare"}
    assert (await fn.invoke({"lang": "de"}, cache=store)).data == {"todos": ["de"]}


async def test_the_query_order_does_not_split_the_cache(mock: respx.MockRouter) -> None:
    def fn(query: dict[str, str]) -> Function:
        source = api.get("/todos", query=query, fallback=Fallback.cache())
        return Function("f", sources={"todos": source})

    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[1]))
    store = MemoryStore()
    await fn({"a": "'1'", "b": "'2'"}).invoke(cache=store)
    route.mock(return_value=DOWN)
    assert (await fn({"b": "'2'", "a": "'1'"}).invoke(cache=store)).data == {"todos": [1]}


async def test_a_called_function_source_falls_back_to_its_cached_result() -> None:
    calls: list[int] = []

    async def weather(city: str) -> dict[str, object]:
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionError("service down")
        return {"city": city, "temp": 21}

    from sff import call

    fn = Function(
        "f", sources={"weather": call(weather, {"city": "'Oslo'"}, fallback=Fallback.cache())}
    )
    store = MemoryStore()
    await fn.invoke(cache=store)
    result = await fn.invoke(cache=store)
    assert result.data == {"weather": {"city": "Oslo", "temp": 21}}
    assert result.meta.sources["weather"].degraded == "cache"


class SlowStore(MemoryStore):
    """A store whose writes take a while, as a remote one's do."""

    def __init__(self) -> None:
        super().__init__()
        self.finished = 0

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        await asyncio.sleep(0.1)
        await super().set(key, value, ttl_s)
        self.finished += 1


async def test_writes_finish_before_the_invocation_returns(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[1]))
    store = SlowStore()
    await todos_fn(Fallback.cache()).invoke(cache=store)
    assert store.finished == 1


async def test_a_cached_copy_ages_with_the_clock(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/todos").mock(return_value=httpx.Response(200, json=[1]))
    fn, store = todos_fn(Fallback.cache()), MemoryStore()
    await fn.invoke(cache=store)
    before = time.monotonic()
    await asyncio.sleep(1.1)
    route.mock(return_value=DOWN)
    result = await fn.invoke(cache=store)
    stale = result.meta.sources["todos"].stale_s
    assert stale is not None and stale >= time.monotonic() - before - 0.1


async def test_posted_bodies_key_the_copy(mock: respx.MockRouter) -> None:
    source = api.post(
        "/search", body={"q": "input.q"}, fallback=[Fallback.cache(), Fallback.value("spare")]
    )
    fn = Function("f", sources={"hits": source})
    route = mock.post(f"{BASE}/search").mock(return_value=httpx.Response(200, json=["cats"]))
    store = MemoryStore()
    await fn.invoke({"q": "cats"}, cache=store)
    route.mock(return_value=DOWN)
    assert (await fn.invoke({"q": "dogs"}, cache=store)).data == {"hits": "spare"}
    assert (await fn.invoke({"q": "cats"}, cache=store)).data == {"hits": ["cats"]}
