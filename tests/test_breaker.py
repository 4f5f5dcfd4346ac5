"""The circuit breaker: opens after N failures in a window, fails fast (fallbacks apply),
lets one probe through after the cooldown, spans instances through the store, and lets
calls through when the store is down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import respx

from sff import Backend, Circuit, DeclarationError, Fallback, Function, Retry, SourceError
from sff.breaker import Breaker
from sff.cache import MemoryStore, SafeStore, open_store
from tests.redis_server import _free_port

BASE = "http://api.test"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def guarded(failures: int = 3, cooldown: str = "300ms") -> Backend:
    circuit = Circuit(failures=failures, window="10s", cooldown=cooldown)
    return Backend("api", default=BASE, retry=Retry.none(), circuit=circuit)


def fn_over(backend: Backend, *chain: Fallback) -> Function:
    return Function("f", sources={"x": backend.get("/x", fallback=list(chain))})


async def cause(fn: Function, store: SafeStore | MemoryStore) -> str:
    with pytest.raises(SourceError) as caught:
        await fn.invoke(cache=store)
    return caught.value.cause


async def test_the_circuit_opens_after_n_failures_and_fails_fast(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fn, store = fn_over(guarded()), MemoryStore()
    for _ in range(3):
        assert "HTTP 503" in await cause(fn, store)
    assert await cause(fn, store) == "circuit open"
    assert route.call_count == 3


async def test_an_open_circuit_is_a_failure_that_fallbacks_answer(
    mock: respx.MockRouter,
) -> None:
    mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fn, store = fn_over(guarded(failures=1), Fallback.value("spare")), MemoryStore()
    await fn.invoke(cache=store)
    result = await fn.invoke(cache=store)
    assert result.data == {"x": "spare"}
    assert result.meta.sources["x"].error == "source 'x' failed: circuit open"


async def test_client_errors_do_not_open_the_circuit(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(404))
    fn, store = fn_over(guarded(failures=2)), MemoryStore()
    for _ in range(4):
        assert "HTTP 404" in await cause(fn, store)
    assert route.call_count == 4


async def test_after_the_cooldown_a_good_probe_closes_the_circuit(
    mock: respx.MockRouter,
) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fn, store = fn_over(guarded(failures=2)), MemoryStore()
    for _ in range(2):
        await cause(fn, store)
    assert await cause(fn, store) == "circuit open"
    await asyncio.sleep(0.35)
    route.mock(return_value=httpx.Response(200, json=1))
    assert (await fn.invoke(cache=store)).data == {"x": 1}
    assert (await fn.invoke(cache=store)).data == {"x": 1}
    assert route.call_count == 4


async def test_a_failed_probe_opens_the_circuit_again(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fn, store = fn_over(guarded(failures=2)), MemoryStore()
    for _ in range(2):
        await cause(fn, store)
    await asyncio.sleep(0.35)
    assert "HTTP 503" in await cause(fn, store)  # the probe
    assert await cause(fn, store) == "circuit open"
    assert route.call_count == 3


async def test_only_one_caller_probes_a_half_open_circuit() -> None:
    backend = guarded(failures=1, cooldown="100ms")
    assert backend.circuit is not None
    store = SafeStore(MemoryStore(), label="memory")
    await Breaker(store, backend, backend.circuit).record(ok=False)
    await asyncio.sleep(0.15)
    first, second = (
        Breaker(store, backend, backend.circuit),
        Breaker(store, backend, backend.circuit),
    )
    await first.check("x")
    with pytest.raises(SourceError, match="probing"):
        await second.check("x")


async def test_the_circuit_spans_instances_through_redis(
    mock: respx.MockRouter, redis_url: str
) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fn = fn_over(guarded())
    instance_a, instance_b = open_store(redis_url), open_store(redis_url)
    try:
        for _ in range(3):
            await cause(fn, instance_a)
        assert await cause(fn, instance_b) == "circuit open"
    finally:
        await instance_a.close()
        await instance_b.close()
    assert route.call_count == 3


async def test_calls_go_through_when_the_store_is_down(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fn = fn_over(guarded(failures=1))
    for _ in range(3):
        dead = open_store(f"redis://127.0.0.1:{_free_port()}/0")
        assert "HTTP 503" in await cause(fn, dead)
    assert route.call_count == 3


def test_a_circuit_is_declared_with_durations() -> None:
    circuit = Circuit(failures=5, window="30s", cooldown="1m")
    assert (circuit.failures, circuit.window, circuit.cooldown) == (5, 30.0, 60.0)
    with pytest.raises(DeclarationError):
        Circuit(failures=0)
    with pytest.raises(DeclarationError):
        Circuit(cooldown=0)
