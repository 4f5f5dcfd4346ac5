"""The behaviour every store shares, proved on memory, a SQLite file and a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sff.cache import CacheStore, MemoryStore
from sff.cache.redis import RedisStore
from sff.cache.sqlite import SqliteStore
from tests import redis_server

redis_url = redis_server.redis_url  # the fixture, for the "redis" parameter below

# Long enough to read a value back on a busy machine, short enough to keep tests fast.
TTL_S = 0.2


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CacheStore]:
    if request.param == "memory":
        opened: CacheStore = MemoryStore()
    elif request.param == "sqlite":
        opened = SqliteStore(tmp_path / "cache.sqlite3")
    else:
        opened = RedisStore(request.getfixturevalue("redis_url"))
    yield opened
    await opened.close()


async def test_a_key_never_set_is_a_miss(store: CacheStore) -> None:
    assert await store.get("absent") is None


async def test_set_then_get_returns_the_same_bytes(store: CacheStore) -> None:
    value = bytes(range(256)) * 64  # NULs and high bytes survive: values are opaque
    await store.set("k", value)
    assert await store.get("k") == value


async def test_keys_do_not_see_each_other(store: CacheStore) -> None:
    await store.set("a", b"1")
    await store.set("b", b"2")
    assert (await store.get("a"), await store.get("b")) == (b"1", b"2")


async def test_set_overwrites_the_value_and_its_ttl(store: CacheStore) -> None:
    await store.set("k", b"old", ttl_s=TTL_S)
    await store.set("k", b"new")  # no TTL now: it must outlive the first one
    await asyncio.sleep(TTL_S + 0.05)
    assert await store.get("k") == b"new"


async def test_a_value_expires_after_its_ttl(store: CacheStore) -> None:
    await store.set("k", b"v", ttl_s=TTL_S)
    assert await store.get("k") == b"v"
    await asyncio.sleep(TTL_S + 0.05)
    assert await store.get("k") is None


async def test_delete_removes_a_key_and_ignores_a_missing_one(store: CacheStore) -> None:
    await store.set("k", b"v")
    await store.delete("k")
    await store.delete("never-set")
    assert await store.get("k") is None


async def test_incr_counts_from_one_and_get_reads_the_count(store: CacheStore) -> None:
    assert [await store.incr("n", ttl_s=10) for _ in range(3)] == [1, 2, 3]
    assert await store.get("n") == b"3"


async def test_incr_counter_restarts_after_its_window(store: CacheStore) -> None:
    await store.incr("n", ttl_s=TTL_S)
    await store.incr("n", ttl_s=TTL_S)
    await asyncio.sleep(TTL_S + 0.05)
    assert await store.incr("n", ttl_s=TTL_S) == 1


async def test_incr_does_not_extend_the_window_it_started(store: CacheStore) -> None:
    await store.incr("n", ttl_s=TTL_S)
    await asyncio.sleep(TTL_S * 0.6)
    assert await store.incr("n", ttl_s=TTL_S) == 2  # same window, original expiry kept
    await asyncio.sleep(TTL_S * 0.6)
    assert await store.incr("n", ttl_s=TTL_S) == 1


async def test_concurrent_incr_loses_no_count(store: CacheStore) -> None:
    counts = await asyncio.gather(*(store.incr("n", ttl_s=10) for _ in range(25)))
    assert sorted(counts) == list(range(1, 26))


async def test_incr_of_a_non_number_raises(store: CacheStore) -> None:
    await store.set("k", b"not a number")
    with pytest.raises(Exception):  # noqa: B017 - each store raises its own error type
        await store.incr("k", ttl_s=10)


@pytest.mark.parametrize("ttl_s", [0, -1.0])
async def test_a_ttl_that_is_not_positive_is_rejected(store: CacheStore, ttl_s: float) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        await store.set("k", b"v", ttl_s=ttl_s)
    with pytest.raises(ValueError, match="ttl_s"):
        await store.incr("n", ttl_s=ttl_s)
