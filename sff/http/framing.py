"""One HTTP/1.1 exchange on an asyncio stream: connect, send, read the head, frame the body.

The wire half of `sff.http.transport`: the transport owns the pool (idle connections per
origin, the per-origin cap), this module what happens on one connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from sff.http.transport import StreamTransport

_HEAD_LIMIT = 64 * 1024
_CHUNK = 64 * 1024
Origin = tuple[str, int]


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = 0.0

    def usable(self, expiry: float) -> bool:
        return not (
            self.reader.at_eof()
            or self.writer.is_closing()
            or time.monotonic() - self.idle_since > expiry
        )

    def close(self) -> None:
        self.writer.close()


class Stale(Exception):
    """A connection closed before the first byte of the response."""


Framing = tuple[str, int, bool]  # (kind: fixed | chunked | eof, length, keep-alive)


async def connect(
    origin: Origin, request: httpx.Request | None, timeout: float | None
) -> Connection:
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*origin, limit=_HEAD_LIMIT)
    except TimeoutError:
        raise httpx.ConnectTimeout("timed out connecting", request=request) from None
    except OSError as exc:
        raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from None
    return Connection(reader, writer)


async def serialize(request: httpx.Request) -> bytes:
    lines = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in request.headers.raw]
    body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
    if body and request.headers.get("transfer-encoding", "").lower() == "chunked":
        body = b"%x\r\n%b\r\n0\r\n\r\n" % (len(body), body)
    elif request.headers.get("transfer-encoding", "").lower() == "chunked":
        body = b"0\r\n\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def send_head(
    conn: Connection,
    method: str,
    close: bool,
    payload: bytes,
    timeouts: Mapping[str, float | None],
    request: httpx.Request | None,
) -> tuple[int, list[tuple[bytes, bytes]], Framing]:
    try:
        async with asyncio.timeout(timeouts.get("write")):
            conn.writer.write(payload)
            await conn.writer.drain()
    except TimeoutError:
        conn.close()
        raise httpx.WriteTimeout("timed out sending the request", request=request) from None
    except OSError:
        raise Stale() from None
    first = True
    while True:
        try:
            async with asyncio.timeout(timeouts.get("read")):
                head = await conn.reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            conn.close()
            raise httpx.ReadTimeout("timed out waiting for the response", request=request) from None
        except asyncio.IncompleteReadError as exc:
            if first and not exc.partial:
                raise Stale() from None
            conn.close()
            raise httpx.RemoteProtocolError("incomplete response head", request=request) from None
        except asyncio.LimitOverrunError:
            conn.close()
            raise httpx.RemoteProtocolError("response head too large", request=request) from None
        except OSError as exc:
            if first:
                raise Stale() from None
            conn.close()
            raise httpx.ReadError(str(exc), request=request) from None
        first = False
        status, version, headers = _parse_head(head, request)
        if not 100 <= status < 200:
            return status, headers, _framing(method, close, status, version, headers, request)


def _parse_head(
    head: bytes, request: httpx.Request | None
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    lines = head[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if not (version.startswith(b"HTTP/1.") and code.isdigit()):
        raise httpx.RemoteProtocolError(f"bad status line {lines[0][:80]!r}", request=request)
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"bad header line {line[:80]!r}", request=request)
        headers.append((name, value.strip()))
    return int(code), version, headers


def _framing(
    method: str,
    close: bool,
    status: int,
    version: bytes,
    headers: list[tuple[bytes, bytes]],
    request: httpx.Request | None,
) -> Framing:
    fields: dict[bytes, bytes] = {}
    for name, value in headers:
        key = name.lower()
        fields[key] = fields[key] + b"," + value if key in fields else value
    tokens = {t.strip().lower() for t in fields.get(b"connection", b"").split(b",")}
    keep = b"close" not in tokens and (version == b"HTTP/1.1" or b"keep-alive" in tokens)
    keep = keep and not close
    if method == "HEAD" or status in (204, 304):
        return "fixed", 0, keep
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        return "chunked", 0, keep
    length = fields.get(b"content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise httpx.RemoteProtocolError(f"bad Content-Length {length[:40]!r}", request=request)
        return "fixed", int(length), keep
    return "eof", 0, False


class Body(httpx.AsyncByteStream):
    """The response body; the connection goes back to the pool once it is fully read."""

    def __init__(
        self,
        transport: StreamTransport,
        origin: Origin,
        conn: Connection,
        gate: asyncio.Semaphore,
        framing: Framing,
        read_timeout: float | None,
        request: httpx.Request | None,
    ) -> None:
        self._transport, self._origin, self._conn, self._gate = transport, origin, conn, gate
        self._kind, self._length, self._keep = framing
        self._timeout, self._request = read_timeout, request
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._chunks():
                yield chunk
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the body", request=self._request) from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body",
                request=self._request,
            ) from None
        except (OSError, ValueError, asyncio.LimitOverrunError) as exc:
            raise httpx.ReadError(str(exc), request=self._request) from None
        self._finish(self._keep)

    async def _chunks(self) -> AsyncIterator[bytes]:
        reader = self._conn.reader
        if self._kind == "fixed":
            left = self._length
            while left:
                data = await self._read(reader.read(min(left, _CHUNK)))
                if not data:
                    raise asyncio.IncompleteReadError(b"", left)
                left -= len(data)
                yield data
        elif self._kind == "chunked":
            while size := int((await self._read(reader.readuntil(b"\r\n"))).split(b";")[0], 16):
                yield await self._read(reader.readexactly(size))
                await self._read(reader.readexactly(2))
            while await self._read(reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
        else:
            while data := await self._read(reader.read(_CHUNK)):
                yield data

    async def _read(self, pending: Any) -> Any:
        async with asyncio.timeout(self._timeout):
            return await pending

    def _finish(self, reusable: bool) -> None:
        if not self._done:
            self._done = True
            self._transport.release(self._origin, self._conn, reusable)
            self._gate.release()

    async def aclose(self) -> None:
        self._finish(False)  # after a full read this is a no-op; otherwise drop the socket
