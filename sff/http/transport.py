"""Plain-http HTTP/1.1 for httpx: httpx's Request and Response around `sff.http.streams`.

The pool, the wire and their framing are shared with the lean send (`sff.http.lean`),
which needs no httpx; this module is what an httpx client sends through: httpx's
timeouts and exception types (the wire's `sff.http.faults` become the httpx ones of the
same name). https goes elsewhere (see `sff.http.client`).

When something has patched httpcore's pool (respx mocks, tracing), requests go through a
standard httpx transport instead, so whatever patched it still sees every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from sff.http import faults, fields
from sff.http.streams import Pool, httpcore_patched
from sff.http.wire import Body


class StreamTransport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits, pool: Pool | None = None) -> None:
        self._limits = limits
        # one pool under this transport and a lean sender both: one cap, one keep-alive
        self.pool = pool or Pool(
            limits.max_connections, limits.max_keepalive_connections, limits.keepalive_expiry
        )
        self._standard: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if httpcore_patched():
            return await self._patched_path(request)
        if request.url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"plain http only: {request.url.scheme}://")
        origin = (request.url.host, request.url.port or 80)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        pool = self.pool
        gate = pool.gate(origin)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await gate.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection free in time", request=request) from None
        try:
            try:
                payload = await serialize(request)
            except ValueError as exc:  # a header or target that cannot be sent safely
                raise httpx.LocalProtocolError(str(exc), request=request) from None
            close = request.headers.get("connection", "").lower() == "close"
            conn, message = await pool.exchange(origin, request.method, close, payload, timeouts)
        except faults.TransportError as exc:
            gate.release()
            raise faults.as_httpx(exc, request) from None
        except BaseException:
            gate.release()
            raise
        body = Body(pool, origin, conn, gate, message, timeouts.get("read"))
        return httpx.Response(
            message.status,
            headers=message.headers,
            stream=_Stream(body, request),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def _patched_path(self, request: httpx.Request) -> httpx.Response:
        if self._standard is None:
            self._standard = httpx.AsyncHTTPTransport(verify=False, limits=self._limits)
        return await self._standard.handle_async_request(request)

    async def aclose(self) -> None:
        self.pool.close()
        if self._standard is not None:
            await self._standard.aclose()


class _Stream(httpx.AsyncByteStream):
    """The wire's body as httpx reads it: its failures as httpx's, about ``request``."""

    def __init__(self, body: Body, request: httpx.Request) -> None:
        self._body, self._request = body, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for piece in self._body:
                yield piece
        except faults.TransportError as exc:
            raise faults.as_httpx(exc, self._request) from None

    async def aclose(self) -> None:
        await self._body.aclose()


async def serialize(request: httpx.Request) -> bytes:
    """An httpx request as bytes: its head through `fields.head` (which refuses what httpx's
    Headers let through: CR, LF, NUL), its body read whole, so a chunked body is sent with
    a Content-Length in the Transfer-Encoding's place."""
    body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
    kept = [
        (b"Content-Length", b"%d" % len(body)) if n.lower() == b"transfer-encoding" else (n, v)
        for n, v in request.headers.raw
    ]
    return fields.head(request.method, request.url.raw_path.decode("ascii"), kept) + body


__all__ = ["StreamTransport", "httpcore_patched", "serialize"]
