"""Plain-http connections per origin, on asyncio streams: the pool under both ways of sending.

Backends inside a VPC or on loopback speak plain HTTP/1.1; for them httpcore's general
machinery (anyio, h11, a pool that rescans every connection per request) cost ~10x the
CPU of the I/O itself and grew super-linearly with concurrent requests. This pool does
only what that case needs: one request per connection at a time, keep-alive reuse per
origin, a cap on connections per origin. `sff.http.lean` sends on it directly, without
httpx loaded; `sff.http.transport` puts httpx's Request/Response around it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping

from sff.http import faults
from sff.http.message import Message
from sff.http.wire import Connection, Origin, Stale, connect, send_head

_HTTPCORE_POOL = "httpcore._async.connection_pool"
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
KEEPALIVE_EXPIRY = 5.0  # httpx's default


class Pool:
    def __init__(
        self,
        max_connections: int | None,
        max_keepalive: int | None = None,
        keepalive_expiry: float | None = KEEPALIVE_EXPIRY,
    ) -> None:
        self._max = max_connections or 1_000_000
        self._keep = max_keepalive or self._max
        self._expiry = keepalive_expiry or KEEPALIVE_EXPIRY
        self._idle: dict[Origin, list[Connection]] = {}
        self._gates: dict[Origin, asyncio.Semaphore] = {}

    def gate(self, origin: Origin) -> asyncio.Semaphore:
        """The cap on connections to ``origin``: held from sending until the body is read."""
        gate = self._gates.get(origin)
        if gate is None:
            gate = self._gates[origin] = asyncio.Semaphore(self._max)
        return gate

    async def exchange(
        self,
        origin: Origin,
        method: str,
        close: bool,
        payload: bytes,
        timeouts: Mapping[str, float | None],
    ) -> tuple[Connection, Message]:
        """Sends ``payload`` (a whole HTTP/1.1 request) and reads the response head; a
        reused connection found closed is replaced once for an idempotent method."""
        conn = self._reuse(origin)
        fresh = conn is None
        while True:
            if conn is None:
                conn = await connect(origin, timeouts.get("connect"))
            try:
                return conn, await send_head(conn, method, close, payload, timeouts)
            except Stale:  # closed before answering: a reused one was closed while idle
                conn.close()
                if fresh or method not in _IDEMPOTENT:
                    raise faults.RemoteProtocolError(
                        "server disconnected without sending a response"
                    ) from None
                conn, fresh = None, True
            except BaseException:
                conn.close()
                raise

    def _reuse(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.usable(self._expiry):
                return conn
            conn.close()
        return None

    def release(self, origin: Origin, conn: Connection, reusable: bool) -> None:
        idle = self._idle.setdefault(origin, [])
        if reusable and len(idle) < self._keep:
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def httpcore_patched() -> bool:
    """True while something (respx, a tracer) has replaced httpcore's pool entry point."""
    module = sys.modules.get(_HTTPCORE_POOL)  # not imported: nothing can have patched it
    if module is None:
        return False
    send = module.AsyncConnectionPool.__dict__.get("handle_async_request")
    return getattr(send, "__module__", None) != _HTTPCORE_POOL
