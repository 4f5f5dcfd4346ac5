"""The stored copy of a source's answer, consulted before calling: fresh, or revalidatable.

``Fallback.cache(fresh=DURATION)`` serves a copy younger than that; ``fresh="backend"``
serves it while the backend's ``Cache-Control`` said it is fresh, and otherwise asks the
backend with the copy's validators (``If-None-Match`` / ``If-Modified-Since``): a 304
answers with the stored copy, stored again as new (`Copy.refreshed`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sff.fallback import SourceCache, age_ok
from sff.freshness import Stored
from sff.spec import Fallback

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sff.cache import CacheEntry


class Copy:
    """Where a source's answer is kept, and the copy found there (if any). A plain class:
    a dataclass costs ~0.5 ms of every cold start to build."""

    __slots__ = ("cache", "entry", "key", "shared", "step")

    def __init__(self, cache: SourceCache, key: str, step: Fallback, shared: bool) -> None:
        self.cache, self.key, self.step, self.shared = cache, key, step, shared
        self.entry: CacheEntry | None = None  # found, stale, sent for revalidation

    async def consult(self, within: float) -> tuple[CacheEntry | None, dict[str, str]]:
        """(a copy fresh enough to serve, or None; the conditions to ask the backend)."""
        entry = await self.cache.read(self.key, within)
        if entry is None:
            return None, {}
        if not self.step.backend_fresh:
            return (entry if age_ok(entry, self.step.fresh) else None), {}
        stored = Stored.decode(entry.http)
        if stored.fresh(time.time()):
            return entry, {}
        conditions = stored.conditions()
        if conditions:
            self.entry = entry
        return None, conditions

    def remember(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.cache.remember(self.key, status, body, self.step, headers, shared=self.shared)

    def refreshed(self, headers: Mapping[str, str]) -> CacheEntry:
        """The copy a 304 confirmed, stored again with what the 304 said."""
        assert self.entry is not None
        self.cache.refresh(self.key, self.entry, headers, self.step, self.shared)
        return self.entry


def fresh_for(entry: CacheEntry) -> float | None:
    """Seconds a copy served as fresh stays so, as its backend declared (None: it did not)."""
    until = Stored.decode(entry.http).fresh_until
    return None if until is None else max(0.0, until - time.time())
