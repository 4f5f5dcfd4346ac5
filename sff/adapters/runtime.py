"""The two process models an invocation can run under.

*Use-and-destroy* (default): every invocation gets a fresh event loop and its own HTTP
client, and both are closed when it answers; nothing survives into the next one.

*Resident* (opt-in: ``SFF_RESIDENT=1``, `sff.adapters.resident`, or Function Compute's
initializer hook): one event loop in a background thread, one pooled HTTP client and the
opened fallback-cache store stay warm across invocations, so connections (and TLS
sessions, and the store's connection) are reused until `stop`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from sff.adapters import _settings

if TYPE_CHECKING:
    from sff.cache import SafeStore
    from sff.http.client import AnyClient, Client
    from sff.plan import Plan

T = TypeVar("T")
Work = Callable[["AnyClient | None"], Coroutine[Any, Any, T]]


class Resident:
    """A long-lived event loop in a daemon thread, holding one shared client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sff-resident")
        self.thread.daemon = True
        self.thread.start()
        self.client: AnyClient = self.submit(open_client)
        self.store: SafeStore | None = None  # opened by the first function that needs one

    def submit(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return asyncio.run_coroutine_threadsafe(work(), self.loop).result()

    def call(self, work: Work[T]) -> T:
        return self.submit(lambda: work(self.client))

    def cache_for(self, plan: Plan) -> SafeStore | None:
        """The warm store, for a plan with a cache fallback or a circuit breaker."""
        from sff.fallback import cache_url, needs_store

        if not needs_store(plan):
            return None
        if self.store is None:
            from sff.cache import open_store

            self.store = open_store(cache_url())
        return self.store

    def close(self) -> None:
        try:
            self.submit(self.client.aclose)
            if self.store is not None:
                self.submit(self.store.close)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
            self.loop.close()


async def open_client() -> Client:
    from sff.http.client import new_client

    return new_client()


_lock = threading.Lock()
_resident: Resident | None = None


def start() -> Resident:
    """Turn resident mode on and warm its loop and client (idempotent)."""
    _settings.configure(resident=True)
    return ensure()


def ensure() -> Resident:
    global _resident
    with _lock:
        if _resident is None:
            _resident = Resident()
        return _resident


def stop() -> None:
    """Close the resident client and loop; later invocations start them again if resident."""
    global _resident
    with _lock:
        current, _resident = _resident, None
    if current is not None:
        current.close()


def active() -> Resident | None:
    return _resident


def warm_store(plan: Plan) -> SafeStore | None:
    """The resident store when running resident, else None (the invocation opens its own)."""
    current = _resident if _settings.current().resident else None
    return current.cache_for(plan) if current is not None else None


def run(work: Work[T]) -> T:
    """Run one invocation's coroutine under the configured process model."""
    if _settings.current().resident:
        return ensure().call(work)
    return run_isolated(work(None))


def run_isolated(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A sync handler called from async code: its own loop, in a thread of its own.
    from concurrent.futures import ThreadPoolExecutor  # only then: a cold start skips it

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
