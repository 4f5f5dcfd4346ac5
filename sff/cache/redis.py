"""The store for many instances: one Redis that every host reaches over the network.

Timeouts are short and redis-py's own retries are off: a dead Redis must cost a
fraction of a second per invocation, and retrying is the resilience layer's decision.
"""

from __future__ import annotations

import asyncio
import math

from sff.cache.base import check_ttl

try:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
except ImportError as exc:  # the optional extra is not installed
    raise ImportError(
        "redis:// and rediss:// cache URLs need redis-py: "
        'pip install "serverless-for-frontend[redis]"'
    ) from exc

__all__ = ["RedisStore"]


def _ms(ttl_s: float) -> int:
    return max(1, math.ceil(ttl_s * 1000))


class RedisStore:
    """Keys and counters in Redis (`redis://host:port/db` or `rediss://...`)."""

    def __init__(
        self, url: str, *, connect_timeout_s: float = 0.25, socket_timeout_s: float = 0.25
    ) -> None:
        self._url = url
        self._connect_timeout_s = connect_timeout_s
        self._socket_timeout_s = socket_timeout_s
        self._client: aioredis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _redis(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        # Connections belong to the loop that opened them, and a resident instance may
        # run each invocation in a fresh loop: a client from a finished loop is dropped.
        if self._client is None or self._loop is not loop:
            self._client = aioredis.Redis.from_url(
                self._url,
                socket_connect_timeout=self._connect_timeout_s,
                socket_timeout=self._socket_timeout_s,
                retry=Retry(NoBackoff(), 0),
            )
            self._loop = loop
        return self._client

    async def get(self, key: str) -> bytes | None:
        value = await self._redis().get(key)
        if isinstance(value, str):  # only under decode_responses=True, which we never set
            return value.encode()
        return value

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        check_ttl(ttl_s)
        await self._redis().set(key, value, px=None if ttl_s is None else _ms(ttl_s))

    async def delete(self, key: str) -> None:
        await self._redis().delete(key)

    async def incr(self, key: str, ttl_s: float) -> int:
        check_ttl(ttl_s)
        # MULTI/EXEC: create the counter with its expiry only if absent, then INCR, which
        # keeps that expiry. Works on every Redis since 2.6, unlike EXPIRE ... NX (7.0).
        async with self._redis().pipeline(transaction=True) as pipe:
            pipe.set(key, 0, px=_ms(ttl_s), nx=True)
            pipe.incr(key)
            _, count = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()
