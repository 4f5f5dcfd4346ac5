"""The two process models: which instance serves a request, when one starts, when it ends.

A `Pool` holds one function's instances. ``destroy`` starts a fresh instance for every
request and lets it end after one invocation; ``resident`` hands a request to a warm idle
instance when there is one, starts another (cold) when all are busy, and reclaims any left
idle past the idle timeout. Both cap the live instances; a request that waits for one past
the queue limit, or finds the queue already full, is refused (the gateway answers 503
with Retry-After at once instead of letting callers pile up).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sff.serve.instance import Instance, Spec


class OverCapacity(Exception):
    """Every instance the pool may run is busy and none freed up in time."""


class Pool:
    def __init__(
        self, spec: Spec, *, resident: bool, max_instances: int, wait: float, queue: int
    ) -> None:
        self.spec = spec
        self.queue = queue
        self.waiting = 0
        self.resident = resident
        self.max_instances = max_instances
        self.wait = wait
        self.idle: list[Instance] = []
        self.live = 0  # busy + idle + starting
        self.closed = False  # replaced (reload) or shutting down: instances end when freed
        self.changed = asyncio.Condition()

    async def acquire(self) -> tuple[Instance, bool]:
        """An instance for one invocation, and whether it is a cold start."""
        async with self.changed:
            while True:
                await self._await_room()
                if not self.idle:
                    self.live += 1
                    break
                instance = self.idle.pop()  # the most recently used: the rest may idle out
                if instance.alive:
                    return instance, False
                self.live -= 1  # it died while idle
        try:
            return await Instance.start(self.spec, once=not self.resident), True
        except BaseException:
            await self._forget()
            raise

    async def _await_room(self) -> None:
        if self.idle or self.live < self.max_instances:
            return
        if self.waiting >= self.queue:
            raise OverCapacity(self.spec.name)
        self.waiting += 1
        try:
            await self._wait_for_room()
        finally:
            self.waiting -= 1

    async def _wait_for_room(self) -> None:
        deadline = time.monotonic() + self.wait
        while not self.idle and self.live >= self.max_instances:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OverCapacity(self.spec.name)
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                raise OverCapacity(self.spec.name) from None

    async def release(self, instance: Instance) -> None:
        """Back to the idle list when resident and healthy; otherwise the instance ends."""
        if self.resident and instance.alive and not self.closed:
            async with self.changed:
                self.idle.append(instance)
                self.changed.notify()
            return
        await self._forget()  # a destroyed instance runs nothing more, even while it exits
        await instance.stop()

    async def _forget(self) -> None:
        async with self.changed:
            self.live -= 1
            self.changed.notify()

    async def reclaim(self, idle_timeout: float, on_reclaim: Callable[[Instance], None]) -> None:
        """End the instances idle longer than ``idle_timeout``."""
        now = time.monotonic()
        async with self.changed:
            expired = [i for i in self.idle if now - i.last_used >= idle_timeout]
            self.idle = [i for i in self.idle if i not in expired]
        for instance in expired:
            await instance.stop()
            await self._forget()
            on_reclaim(instance)

    async def close(self) -> None:
        async with self.changed:
            self.closed = True
            idle, self.idle = self.idle, []
        await asyncio.gather(*(i.stop() for i in idle))
