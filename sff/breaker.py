"""A circuit breaker per backend whose state lives in the cache store, so it spans
instances: every use-and-destroy instance sees the same open circuit.

- closed: calls go through; a failed call counts in a window (``incr`` with the window
  as TTL, fixed when the first failure of the window creates it). At ``failures`` the
  circuit opens: a state key holds the time it opened.
- open: for ``cooldown`` calls fail at once with "circuit open" (fallbacks apply).
- half-open: after the cooldown one caller is the probe (the one whose ``incr`` of the
  probe key returns 1); its success closes the circuit, its failure opens it again.

A store that is down makes every check "closed" and every count 0: calls go through.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sff.errors import SourceError

if TYPE_CHECKING:
    from sff.cache import SafeStore
    from sff.spec import Backend, Circuit

OPEN_CAUSE = "circuit open"


class Breaker:
    """One backend's circuit as one call sees it: `check` before, `record` after."""

    def __init__(self, store: SafeStore, backend: Backend, circuit: Circuit) -> None:
        self.store, self.circuit = store, circuit
        self._prefix = f"sff:circuit:v1:{backend.name}"
        self._probing = False

    async def check(self, source: str) -> None:
        """Raise `SourceError` ("circuit open") unless this call may go through."""
        opened = await self._opened_at()
        if opened is None:
            return
        if time.time() < opened + self.circuit.cooldown:
            raise SourceError(source, OPEN_CAUSE)
        probe = await self.store.incr(f"{self._prefix}:probe:{opened!r}", self._probe_ttl())
        if probe > 1:
            raise SourceError(source, f"{OPEN_CAUSE} (another call is probing)")
        self._probing = True  # 1: this call is the probe; 0: the store failed, fail open

    async def record(self, ok: bool) -> None:
        if ok:
            if self._probing:
                await self.store.delete(f"{self._prefix}:state")
                await self.store.delete(f"{self._prefix}:failures")
            return
        if self._probing:
            await self._open()
            return
        failures = await self.store.incr(f"{self._prefix}:failures", self.circuit.window)
        if failures >= self.circuit.failures:
            await self._open()

    async def _open(self) -> None:
        await self.store.delete(f"{self._prefix}:failures")
        now = repr(time.time()).encode()
        await self.store.set(f"{self._prefix}:state", now, self._state_ttl())

    async def _opened_at(self) -> float | None:
        raw = await self.store.get(f"{self._prefix}:state")
        try:
            return float(raw) if raw else None
        except ValueError:
            return None

    def _probe_ttl(self) -> float:
        # A probe that dies without recording frees the way after one more cooldown.
        return self.circuit.cooldown

    def _state_ttl(self) -> float:
        # Half-open lasts until a probe decides, or until this runs out (then closed).
        return self.circuit.cooldown * 2 + self.circuit.window


def is_backend_failure(error: SourceError, propagated: frozenset[int] = frozenset()) -> bool:
    """Failures that say the backend is unwell: transport errors, timeouts and 5xx
    (not a 4xx, which is the caller's problem, nor our own circuit refusing, nor a
    status the source propagates as its answer: a 429 declared so is not an outage)."""
    if error.cause.startswith(OPEN_CAUSE):
        return False
    status = error.upstream_status
    if status in propagated:
        return False
    return status is None or status >= 500 or status in (408, 429)
