"""Plain-http HTTP/1.1 for httpx, written on asyncio streams.

Backends inside a VPC or on loopback speak plain HTTP/1.1; for them httpcore's general
machinery (anyio, h11, a pool that rescans every connection per request) cost ~10x the
CPU of the I/O itself and grew super-linearly with concurrent requests. This transport
does only what that case needs: one request per connection at a time, keep-alive reuse
per origin, a cap on connections per origin, Content-Length / chunked / close-delimited
bodies, httpx's timeouts and exception types. https goes elsewhere (see `sff.http.client`).

When something has patched httpcore's pool (respx mocks, tracing), requests go through a
standard httpx transport instead, so whatever patched it still sees every request.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping

import httpx

from sff.http.framing import Body, Connection, Framing, Origin, Stale, connect, send_head, serialize

_HTTPCORE_POOL = "httpcore._async.connection_pool"
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class StreamTransport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._max = limits.max_connections or 1_000_000
        self._expiry = limits.keepalive_expiry or 5.0
        self._idle: dict[Origin, list[Connection]] = {}
        self._gates: dict[Origin, asyncio.Semaphore] = {}
        self._standard: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if httpcore_patched():
            return await self._patched_path(request)
        if request.url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"plain http only: {request.url.scheme}://")
        origin = (request.url.host, request.url.port or 80)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        gate = self.gate(origin)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await gate.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection free in time", request=request) from None
        try:
            payload = await serialize(request)
            close = request.headers.get("connection", "").lower() == "close"
            conn, status, headers, framing = await self.exchange(
                origin, request.method, close, payload, timeouts, request
            )
        except BaseException:
            gate.release()
            raise
        body = Body(self, origin, conn, gate, framing, timeouts.get("read"), request)
        return httpx.Response(
            status, headers=headers, stream=body, extensions={"http_version": b"HTTP/1.1"}
        )

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
        request: httpx.Request | None = None,
    ) -> tuple[Connection, int, list[tuple[bytes, bytes]], Framing]:
        """Sends ``payload`` (a whole HTTP/1.1 request) and reads the response head.

        Also the entry point of `sff.http.lean`, which has no httpx.Request: ``request`` only
        decorates the httpx exceptions raised here.
        """
        conn = self._reuse(origin)
        fresh = conn is None
        while True:
            if conn is None:
                conn = await connect(origin, request, timeouts.get("connect"))
            try:
                return conn, *await send_head(conn, method, close, payload, timeouts, request)
            except Stale:  # closed before answering: a reused one was closed while idle
                conn.close()
                if fresh or method not in _IDEMPOTENT:
                    raise httpx.RemoteProtocolError(
                        "server disconnected without sending a response", request=request
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
        if reusable and len(idle) < (self._limits.max_keepalive_connections or self._max):
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn.close()

    async def _patched_path(self, request: httpx.Request) -> httpx.Response:
        if self._standard is None:
            self._standard = httpx.AsyncHTTPTransport(verify=False, limits=self._limits)
        return await self._standard.handle_async_request(request)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()
        if self._standard is not None:
            await self._standard.aclose()


def httpcore_patched() -> bool:
    """True while something (respx, a tracer) has replaced httpcore's pool entry point."""
    module = sys.modules.get(_HTTPCORE_POOL)  # not imported: nothing can have patched it
    if module is None:
        return False
    send = module.AsyncConnectionPool.__dict__.get("handle_async_request")
    return getattr(send, "__module__", None) != _HTTPCORE_POOL
