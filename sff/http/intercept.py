"""In-process servers at the very bottom of the wire, for the testing kit's mocked backends.

The way Starlette's TestClient is an httpx transport, a mocked backend here is a server
on the other end of a real socket pair: sff renders the request, checks its headers,
writes the bytes, parses the answer with llhttp and reads it under the cap exactly as in
production; only the connect is replaced. Nothing is installed unless a test installs it,
and the check in `sff.http.wire.connect` is one look at an empty list.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from sff.http.channel import Channel, channel_on

Origin = tuple[str, int]
_Reader: TypeAlias = asyncio.StreamReader
_Writer: TypeAlias = asyncio.StreamWriter
Serve = Callable[[_Reader, _Writer, Channel], Awaitable[None]]
"""(server-side reader, server-side writer, the client's channel) -> served until closed.
The client's channel lets a server make the client's next read fail (a mocked timeout)."""
Answerer = Callable[[Origin], Serve | None]

answerers: list[Answerer] = []
_serving: set[asyncio.Task[None]] = set()  # a task the loop holds only weakly


def install(answerer: Answerer) -> None:
    answerers.append(answerer)


def remove(answerer: Answerer) -> None:
    if answerer in answerers:
        answerers.remove(answerer)


async def connect(origin: Origin, limit: int) -> Channel | None:
    """A channel to an installed server for ``origin``, or None when none answers for it."""
    for answerer in reversed(answerers):
        serve = answerer(origin)
        if serve is not None:
            return await _pair(serve, limit)
    return None


async def _pair(serve: Serve, limit: int) -> Channel:
    ours, theirs = socket.socketpair()
    channel = await channel_on(ours, limit)
    loop = asyncio.get_running_loop()
    server_reader = asyncio.StreamReader(limit=limit)
    protocol = asyncio.StreamReaderProtocol(server_reader)
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=theirs)
    server_writer = asyncio.StreamWriter(transport, protocol, server_reader, loop)
    task = loop.create_task(_closing(serve(server_reader, server_writer, channel), server_writer))
    _serving.add(task)
    task.add_done_callback(_serving.discard)
    return channel


async def _closing(serving: Awaitable[None], writer: asyncio.StreamWriter) -> None:
    try:
        await serving
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()
