"""The Redis store against a real redis-server that dies, hangs and comes back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import TypeVar

import pytest
import redis.asyncio as aioredis

from sff.cache import SafeStore, open_store
from sff.cache.redis import RedisStore
from tests import redis_server as helper
from tests.redis_server import RedisServer

redis_server = helper.redis_server
redis_url = helper.redis_url
T = TypeVar("T")


def cache_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "sff.cache" and r.levelno == level]


async def timed(call: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    result = await call
    return result, time.monotonic() - started


async def test_a_killed_redis_gives_quick_misses_and_warns_once(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(redis_server.url, cooldown_s=0)  # no cool-down: every call tries
    await store.set("k", b"v")
    assert await store.get("k") == b"v"
    redis_server.kill()
    for _ in range(3):
        calls: list[tuple[Awaitable[object], object]] = [
            (store.get("k"), None),
            (store.set("k", b"secret-value"), None),
            (store.delete("k"), None),
            (store.incr("n", ttl_s=10), 0),
        ]
        for call, miss in calls:
            result, elapsed = await timed(call)
            assert result == miss
            assert elapsed < store.timeout_s + 0.05
    await store.close()
    warnings = cache_records(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()
    assert "secret-value" not in caplog.text


async def test_after_a_failure_the_store_is_skipped_for_the_cooldown(
    redis_server: RedisServer,
) -> None:
    store = open_store(redis_server.url, cooldown_s=5)
    redis_server.kill()
    assert await store.get("k") is None
    assert not store.available
    for _ in range(20):  # each would pay a failed connect if the store were still tried
        _, elapsed = await timed(store.get("k"))
        assert elapsed < 0.005


async def test_a_hung_redis_costs_no_more_than_the_call_timeout_then_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sff.cache")
    # Socket timeouts far above the call timeout: only SafeStore's own limit can help.
    inner = RedisStore(redis_server.url, connect_timeout_s=5, socket_timeout_s=5)
    store = SafeStore(inner, label="redis", timeout_s=0.2, cooldown_s=0.2)
    await store.set("k", b"v")
    redis_server.pause()
    try:
        result, elapsed = await timed(store.get("k"))
        assert result is None
        assert 0.15 < elapsed < 0.35
    finally:
        redis_server.resume()
    await asyncio.sleep(0.25)  # the cool-down passes; the store is tried again
    assert await store.get("k") == b"v"
    assert len(cache_records(caplog, logging.WARNING)) == 1
    assert any("answers again" in r.getMessage() for r in cache_records(caplog, logging.INFO))
    await store.close()


async def test_a_redis_password_never_reaches_the_log(
    unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(f"redis://user:hunter2@127.0.0.1:{unused_tcp_port}/0")
    assert await store.get("k") is None
    assert "hunter2" not in caplog.text
    assert f"redis://user:***@127.0.0.1:{unused_tcp_port}/0" in caplog.text


async def test_an_incr_counter_carries_its_expiry_in_redis(redis_url: str) -> None:
    store = RedisStore(redis_url)
    await store.incr("n", ttl_s=10)
    await store.incr("n", ttl_s=10)
    raw = aioredis.Redis.from_url(redis_url)
    assert 9000 < await raw.pttl("n") <= 10000
    await raw.aclose()
    await store.close()


def test_one_store_serves_successive_event_loops(redis_url: str) -> None:
    store = RedisStore(redis_url)
    asyncio.run(store.set("k", b"v"))  # a resident instance: one loop per invocation
    assert asyncio.run(store.get("k")) == b"v"
    asyncio.run(store.close())
