"""One connection's bytes: the socket reads straight into a buffer of the wire's own.

asyncio's StreamReader is fed by a transport that allocates a new 256 KiB bytes object for
every ``recv()`` and copies what came into a growing bytearray. Over a 1 MiB body that left
about a quarter of the body in freed heap blocks glibc keeps resident (measured: peak RSS
growth 1.16-1.23x the body received through a StreamReader, 0.86-1.0x through this). Here
the transport calls ``recv_into`` on at most ``limit`` bytes of one buffer (asyncio's
``BufferedProtocol``), reading pauses while that buffer is full, and `Channel.read` hands
out a copy of what is in it, as StreamReader does. The buffer is let go once emptied, so
an idle pooled connection holds none.

Writes go to the transport, and `drain` waits while the transport's buffer is over its
high-water mark, as StreamWriter's does. Nothing here reads what the bytes mean: llhttp
does (`sff.http.wire`).
"""

from __future__ import annotations

import asyncio
from typing import Any


class Channel(asyncio.BufferedProtocol):
    """The reader and writer of one connection (the two halves StreamReader and
    StreamWriter were), for `sff.http.wire.Connection`."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._buffer: bytearray | None = None
        self._start = self._end = 0  # the unread bytes are _buffer[_start:_end]
        self._eof = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._reading_paused = False
        self._writing: asyncio.Future[None] | None = None  # while writing is paused
        self._lost = False

    # -- the transport's side ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._buffer is None:
            self._buffer = bytearray(self._limit)
        return memoryview(self._buffer)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self._end += nbytes
        if self._end == self._limit and self._transport is not None:
            self._transport.pause_reading()  # full: nothing more until `read` takes some
            self._reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # the transport closes itself, as for a StreamReader

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._eof = True
        if exc is not None and self._error is None:
            self._error = exc
        self._wake()
        if self._writing is not None and not self._writing.done():
            self._writing.set_result(None)  # `drain` then raises: the connection is gone

    def pause_writing(self) -> None:
        self._writing = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writing is not None and not self._writing.done():
            self._writing.set_result(None)
        self._writing = None

    # -- the wire's side ------------------------------------------------------------------

    async def read(self, n: int) -> bytes:
        """At most ``n`` bytes, b"" at the end; raises the connection's error, if any."""
        while self._start == self._end:
            if self._error is not None:
                raise self._error
            if self._eof:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._error is not None:
            raise self._error
        assert self._buffer is not None
        end = min(self._end, self._start + n)
        data = bytes(memoryview(self._buffer)[self._start : end])
        self._start = end
        if self._start == self._end:
            self._buffer, self._start, self._end = None, 0, 0
            if self._reading_paused and self._transport is not None and not self._lost:
                self._reading_paused = False
                self._transport.resume_reading()
        return data

    def buffered(self) -> bool:
        """Whether bytes arrived that nobody has read."""
        return self._start != self._end

    def at_eof(self) -> bool:
        return self._eof and not self.buffered()

    def set_exception(self, exc: BaseException) -> None:
        """The next `read` raises ``exc`` (the testing kit's mocked faults)."""
        self._error = exc
        self._wake()

    def write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    def must_drain(self) -> bool:
        """Whether `drain` has anything to wait for (writing is paused) or to report
        (an error, the connection lost)."""
        return self._error is not None or self._writing is not None or self._lost

    async def drain(self) -> None:
        if self._error is not None:
            raise self._error
        if self._writing is not None:
            await self._writing
        if self._lost:
            raise ConnectionResetError("Connection lost")

    def is_closing(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def get_extra_info(self, name: str) -> Any:
        return None if self._transport is None else self._transport.get_extra_info(name)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


async def open_channel(host: str, port: int, limit: int) -> Channel:
    """A connection to ``host:port`` (the name resolved by the loop, as for streams)."""
    loop = asyncio.get_running_loop()
    _, channel = await loop.create_connection(lambda: Channel(limit), host, port)
    return channel


async def channel_on(sock: Any, limit: int) -> Channel:
    """A channel over a socket already connected (the testing kit's socket pairs)."""
    loop = asyncio.get_running_loop()
    _, channel = await loop.create_connection(lambda: Channel(limit), sock=sock)
    return channel
