"""An in-process store: for tests and for resident instances that keep their memory."""

from __future__ import annotations

import time

from sff.cache.base import check_ttl

__all__ = ["MemoryStore"]

_SWEEP_EVERY = 1024


class MemoryStore:
    """A dict with expiry. Nothing outlives the process, so it never fails."""

    def __init__(self) -> None:
        # key -> (value, monotonic deadline or None): monotonic, since only we compare it
        self._items: dict[str, tuple[bytes, float | None]] = {}
        self._writes = 0

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        item = self._items.get(key)
        if item is not None and item[1] is not None and item[1] <= time.monotonic():
            del self._items[key]
            return None
        return item

    @staticmethod
    def _deadline(ttl_s: float | None) -> float | None:
        check_ttl(ttl_s)
        return None if ttl_s is None else time.monotonic() + ttl_s

    async def get(self, key: str) -> bytes | None:
        item = self._live(key)
        return None if item is None else item[0]

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        self._items[key] = (bytes(value), self._deadline(ttl_s))
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._sweep()

    def _sweep(self) -> None:
        """Drop expired items nobody reads again, so a resident instance does not grow."""
        now = time.monotonic()
        for key in [k for k, (_, dl) in self._items.items() if dl is not None and dl <= now]:
            del self._items[key]

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def incr(self, key: str, ttl_s: float) -> int:
        item = self._live(key)
        if item is None:
            count, deadline = 1, self._deadline(ttl_s)
        else:
            count, deadline = int(item[0]) + 1, item[1]  # a non-number raises, as in Redis
        self._items[key] = (str(count).encode(), deadline)
        return count

    async def close(self) -> None:
        self._items.clear()
