"""The two process models: use-and-destroy keeps nothing; resident keeps one warm client."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import sff.adapters
import sff.http.client
from sff import Backend, Fallback, Function
from sff.adapters import _settings, runtime

EVENT = json.loads(
    (Path(__file__).parent / "events" / "aws_apiGatewayProxyV2Event_GET.json").read_text()
)
BASE = "http://users.test"
users = Backend("users", default=BASE)
hello = Function("hello", sources={"user": users.get("/users/1")}, shape="user")


@pytest.fixture(autouse=True)
def clean_settings() -> Iterator[None]:
    yield
    _settings.reset()
    runtime.stop()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref[httpx.AsyncClient]]:
    """Weak references to every client sff creates."""
    refs: list[weakref.ref[httpx.AsyncClient]] = []
    real = sff.http.client.new_client

    def tracking(*args: Any, **kwargs: Any) -> httpx.AsyncClient:
        client = real(*args, **kwargs)
        refs.append(weakref.ref(client))
        return client

    monkeypatch.setattr(sff.http.client, "new_client", tracking)
    return refs


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/users/1").respond(json={"id": 1})
        yield mock


def census() -> set[int]:
    """Ids of every live HTTP client and every open event loop."""
    gc.collect()
    return {
        id(o)
        for o in gc.get_objects()
        if isinstance(o, httpx.AsyncClient)
        or (isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed())
    }


def module_state() -> dict[str, Any]:
    """Every sff module global: its identity, and its size when it is a container."""
    state: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if name == "sff" or name.startswith("sff."):
            for attr, value in vars(module).items():
                size = len(value) if isinstance(value, dict | list | set) else None
                state[f"{name}.{attr}"] = (id(value), size)
    return state


def test_use_and_destroy_keeps_no_client_loop_or_module_state_between_invocations(
    made: list[weakref.ref[httpx.AsyncClient]],
    backend: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SFF_RESIDENT", raising=False)
    before = census()

    first = hello.handler(EVENT, None)
    gc.collect()
    assert len(made) == 1 and made[0]() is None  # invocation 1's client is gone
    state = module_state()

    second = hello.handler(EVENT, None)

    assert first["statusCode"] == second["statusCode"] == 200
    assert len(made) == 2  # invocation 2 built its own client...
    assert made[1]() is None  # ...and dropped it too
    assert census() - before == set()  # no client, no open loop left behind
    assert module_state() == state
    assert runtime.active() is None


def test_resident_mode_reuses_one_client_across_invocations(
    made: list[weakref.ref[httpx.AsyncClient]], backend: respx.MockRouter
) -> None:
    sff.adapters.resident(True)

    first = hello.handler(EVENT, None)
    second = hello.handler(EVENT, None)

    assert first["statusCode"] == second["statusCode"] == 200
    assert len(backend.calls) == 2
    assert len(made) == 1
    resident = runtime.active()
    assert resident is not None and resident.client is made[0]()
    assert resident.thread.is_alive()

    sff.adapters.resident(False)

    client = made[0]()
    assert client is None or client.is_closed
    assert not resident.thread.is_alive() and resident.loop.is_closed()
    hello.handler(EVENT, None)
    assert len(made) == 2 and runtime.active() is None  # back to use-and-destroy


def test_sff_resident_env_turns_resident_mode_on(
    made: list[weakref.ref[httpx.AsyncClient]],
    backend: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFF_RESIDENT", "1")

    hello.handler(EVENT, None)
    hello.handler(EVENT, None)

    assert len(made) == 1
    assert runtime.active() is not None


cached = Function(
    "cached",
    sources={"user": users.get("/users/1", fallback=Fallback.cache(max_stale="1h"))},
    shape="user",
)


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every cache store sff opens, in order."""
    import sff.cache

    opened: list[Any] = []
    real = sff.cache.open_store

    def tracking(*args: Any, **kwargs: Any) -> Any:
        store = real(*args, **kwargs)
        opened.append(store)
        return store

    monkeypatch.setattr(sff.cache, "open_store", tracking)
    monkeypatch.setenv("SFF_CACHE_URL", "memory://")
    return opened


def test_resident_mode_keeps_one_cache_store_warm_and_closes_it_on_stop(
    stores: list[Any], backend: respx.MockRouter
) -> None:
    sff.adapters.resident(True)
    hello.handler(EVENT, None)  # a function without a cache fallback opens no store
    assert stores == []

    cached.handler(EVENT, None)
    backend.get("/users/1").respond(503)
    degraded = cached.handler(EVENT, None)  # served from the copy the warm store kept

    assert len(stores) == 1
    assert degraded["statusCode"] == 200 and "x-sff-degraded" in degraded["headers"]
    resident = runtime.active()
    assert resident is not None and resident.store is stores[0]
    sff.adapters.resident(False)
    assert runtime.active() is None


def test_use_and_destroy_opens_a_store_per_invocation(
    stores: list[Any], backend: respx.MockRouter
) -> None:
    cached.handler(EVENT, None)
    cached.handler(EVENT, None)
    assert len(stores) == 2  # nothing of the first invocation served the second
