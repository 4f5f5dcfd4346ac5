"""A broken cache never breaks a request.

`SafeStore` turns every failure of the store it wraps (refused, timed out, locked,
corrupt) into a miss or a no-op, warns once per kind of failure, and then leaves the
store alone for a cool-down so that a dead cache is not paid for on every call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sff import secrets
from sff.cache.base import CacheDecodeError, CacheEntry, CacheStore, check_ttl

__all__ = ["SafeStore"]

log = secrets.logger("sff.cache")  # a store error may quote a URL with its password
T = TypeVar("T")


class SafeStore:
    """Wraps a `CacheStore`; its calls never raise, time out or block for long.

    A failed `incr` returns 0, a value a real counter never has: "not counted".
    """

    def __init__(
        self,
        inner: CacheStore,
        *,
        label: str,
        timeout_s: float = 0.3,
        cooldown_s: float = 5.0,
    ) -> None:
        self.inner = inner
        self.label = label  # names the store in logs: never a password, never a value
        self.timeout_s = timeout_s
        self.cooldown_s = cooldown_s
        self._skip_until = 0.0
        self._failing = False
        self._warned: set[str] = set()

    @property
    def available(self) -> bool:
        """False while the store is skipped after a failure."""
        return time.monotonic() >= self._skip_until

    async def get(self, key: str) -> bytes | None:
        return await self._call(lambda: self.inner.get(key), None)

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        check_ttl(ttl_s)  # a wrong TTL is the caller's bug, not the store's failure
        await self._call(lambda: self.inner.set(key, value, ttl_s), None)

    async def delete(self, key: str) -> None:
        await self._call(lambda: self.inner.delete(key), None)

    async def incr(self, key: str, ttl_s: float) -> int:
        check_ttl(ttl_s)
        return await self._call(lambda: self.inner.incr(key, ttl_s), 0)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.inner.close(), self.timeout_s)
        except Exception as exc:
            self._warn_once("close", exc, "closing it")

    async def get_entry(self, key: str) -> CacheEntry | None:
        """The entry under `key`; a value that does not decode is a miss, not an error."""
        data = await self.get(key)
        if data is None:
            return None
        try:
            return CacheEntry.decode(data)
        except CacheDecodeError as exc:
            # One bad value, not a bad store: no cool-down, and the next set replaces it.
            self._warn_once("decode", exc, "treating the value as a miss")
            return None

    async def set_entry(self, key: str, entry: CacheEntry, ttl_s: float | None = None) -> None:
        await self.set(key, entry.encode(), ttl_s)

    async def _call(self, call: Callable[[], Awaitable[T]], default: T) -> T:
        if not self.available:
            return default
        try:
            result = await asyncio.wait_for(call(), self.timeout_s)
        except Exception as exc:
            self._skip_until = time.monotonic() + self.cooldown_s
            self._failing = True
            self._warn_once("call", exc, f"serving misses, retrying in {self.cooldown_s:g} s")
            return default
        if self._failing:
            self._failing = False
            log.info("cache %s answers again", self.label)
        return result

    def _warn_once(self, what: str, exc: Exception, consequence: str) -> None:
        kind = f"{what}:{type(exc).__module__}.{type(exc).__qualname__}"
        if kind in self._warned:
            log.debug("cache %s failed again (%s)", self.label, type(exc).__name__)
            return
        self._warned.add(kind)
        # The message of a store error names the failure, never a value; cap it anyway.
        reason = str(exc)[:200] or f"no answer within {self.timeout_s:g} s"
        log.warning(
            "cache %s failed (%s: %s); %s", self.label, type(exc).__name__, reason, consequence
        )
