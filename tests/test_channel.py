"""`sff.http.channel`: a connection's bytes read straight into one bounded buffer, over real
loopback sockets (a server that floods, closes, resets, or never reads)."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from sff.http.channel import Channel, channel_on, open_channel

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
LIMIT = 4096


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[int]:
    done: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        done.append(task)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield listening.sockets[0].getsockname()[1]
    finally:
        listening.close()
        for task in done:
            task.cancel()


async def read_all(channel: Channel) -> bytes:
    pieces = []
    while piece := await channel.read(LIMIT):
        assert len(piece) <= LIMIT
        pieces.append(piece)
    return b"".join(pieces)


async def test_a_body_many_times_the_buffer_arrives_whole_and_in_order() -> None:
    body = bytes(range(256)) * 4000  # 1 MB, 250 buffers' worth

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(body)
        await writer.drain()

    async with server(flood) as port:
        channel = await open_channel("127.0.0.1", port, LIMIT)
        assert await read_all(channel) == body
        assert channel.at_eof() and not channel.buffered()


async def test_reading_pauses_while_the_buffer_is_full_and_resumes_once_read() -> None:
    """A reader that does not read holds at most one buffer: the rest waits in the kernel."""
    sent = asyncio.Event()

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"x" * (64 * LIMIT))
        await writer.drain()
        sent.set()

    async with server(flood) as port:
        channel = await open_channel("127.0.0.1", port, LIMIT)
        await asyncio.sleep(0.2)
        assert channel.buffered()
        assert channel._end == LIMIT and channel._reading_paused  # one buffer, no more
        assert len(await read_all(channel)) == 64 * LIMIT
        assert sent.is_set()


async def test_an_idle_channel_holds_no_buffer() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(4))
        await writer.drain()
        await reader.read()  # until the client closes

    async with server(once) as port:
        channel = await open_channel("127.0.0.1", port, LIMIT)
        channel.write(b"ping")
        await channel.drain()
        assert await channel.read(LIMIT) == b"ping"
        assert channel._buffer is None and not channel.at_eof()
        channel.close()


async def test_a_reset_is_the_next_reads_error_even_after_bytes_arrived() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"partial")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    async with server(reset) as port:
        channel = await open_channel("127.0.0.1", port, LIMIT)
        with pytest.raises(ConnectionResetError):
            while await channel.read(LIMIT):
                await asyncio.sleep(0.05)
        with pytest.raises(ConnectionResetError):
            await channel.drain()


async def test_set_exception_fails_the_read_waiting_now() -> None:
    ours, theirs = socket.socketpair()
    try:
        channel = await channel_on(ours, LIMIT)
        reading = asyncio.ensure_future(channel.read(LIMIT))
        await asyncio.sleep(0)
        channel.set_exception(TimeoutError("mocked"))
        with pytest.raises(TimeoutError, match="mocked"):
            await reading
        channel.close()
    finally:
        theirs.close()


async def test_drain_waits_for_a_peer_that_reads_slowly() -> None:
    """Writing far past the transport's high-water mark: drain returns only once the peer
    has read most of it (flow control), and every byte arrives."""
    received = bytearray()
    payload = b"y" * (4 * 1024 * 1024)

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while len(received) < len(payload):
            received.extend(await reader.read(65536))
            await asyncio.sleep(0.001)

    async with server(slow) as port:
        channel = await open_channel("127.0.0.1", port, LIMIT)
        channel.write(payload)
        assert channel._writing is not None  # over the high-water mark: paused
        await channel.drain()
        assert channel._writing is None
        for _ in range(200):
            if len(received) == len(payload):
                break
            await asyncio.sleep(0.01)
        assert bytes(received) == payload
        channel.close()
