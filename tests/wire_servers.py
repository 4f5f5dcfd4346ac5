"""Loopback servers for the adversarial wire tests: they keep the exact bytes received and
answer with exactly the bytes a test scripts, well-formed or not.

Requests are delimited with httptools' request parser (never by splitting lines here), so
a smuggled second request shows up as a second request, and the raw bytes per connection
are kept as they arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httptools

Reply = Callable[["Conn", bytes], Awaitable[bool]]
"""(the connection, one request's bytes) -> False to hang up after answering."""


@dataclass
class Conn:
    writer: asyncio.StreamWriter
    received: bytearray = field(default_factory=bytearray)
    requests: list[bytes] = field(default_factory=list)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


class _Requests:
    """httptools callbacks: marks where each request ends in the received bytes."""

    def __init__(self) -> None:
        self.ends = 0

    def on_message_complete(self) -> None:
        self.ends += 1


class Recorder:
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.conns: list[Conn] = []
        self.closed = asyncio.Event()
        self.url = ""
        self._server: asyncio.Server | None = None

    @property
    def requests(self) -> list[bytes]:
        return [r for c in self.conns for r in c.requests]

    @property
    def received(self) -> bytes:
        return b"".join(bytes(c.received) for c in self.conns)

    async def __aenter__(self) -> Recorder:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for conn in self.conns:
            conn.writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(writer)
        self.conns.append(conn)
        marks = _Requests()
        parser = httptools.HttpRequestParser(marks)
        start = 0
        try:
            while data := await reader.read(65536):
                conn.received += data
                before = marks.ends
                try:
                    parser.feed_data(data)
                except httptools.HttpParserError:
                    conn.requests.append(bytes(conn.received[start:]))
                    return
                if marks.ends > before:  # one or more whole requests: answer the first
                    conn.requests.append(bytes(conn.received[start:]))
                    start = len(conn.received)
                    if not await self.reply(conn, conn.requests[-1]):
                        return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()
            self.closed.set()


def ok(body: bytes = b'{"ok":true}', *headers: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def always(data: bytes, keep: bool = True) -> Reply:
    async def reply(conn: Conn, request: bytes) -> bool:
        await conn.send(data)
        return keep

    return reply
