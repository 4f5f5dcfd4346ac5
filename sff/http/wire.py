"""One HTTP/1.1 exchange on a connection's channel (`sff.http.channel`): connect, send, read the
answer through llhttp.

The wire half of `sff.http.streams`: the pool owns idle connections per origin and the
per-origin cap, this module what happens on one connection. Failures are `sff.http.faults`
(httpx is not loaded on the lean send; `sff.http.transport` turns them into httpx's).
Every read is at most `_CHUNK` bytes and goes straight to the parser, so whatever the
framing (one huge chunk, a close-delimited body, a Content-Length that lies) no more than
one read is held beyond what the caller has taken; the caller counts what it takes
against its cap.

A connection goes back to the pool only when it is clean: the answer ended, no byte of
anything after it arrived, and the server asked for nothing else (Connection: close,
HTTP/1.0). `Connection.usable` checks again when it is taken from the pool: an idle
socket with bytes waiting (a `408` before closing, stray bytes) or at EOF is closed.
"""

from __future__ import annotations

import asyncio
import select
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httptools

from sff.http import faults, intercept
from sff.http.channel import Channel, open_channel
from sff.http.message import Headers, Message

if TYPE_CHECKING:
    from sff.http.streams import Pool

_HEAD_LIMIT = 256 * 1024  # a response head larger than this is refused
_CHUNK = 64 * 1024
Origin = tuple[str, int]
T = TypeVar("T")


class Connection:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.idle_since = 0.0
        self._message: Message | None = None
        sock = channel.get_extra_info("socket")  # asked once, not on every reuse
        # one poller per connection, its socket registered once: each reuse is one poll(0)
        self._poller: Any = None
        if sock is not None:  # none: the testing kit's in-memory connections
            self._poller = select.poll()
            self._poller.register(sock.fileno(), select.POLLIN)

    def message(self, head_only: bool) -> Message:
        """The parser state for this connection's next answer: one per connection (a
        parser and its bound callbacks per request were ~10 objects for the collector)."""
        if self._message is None:
            self._message = Message(head_only)
        else:
            self._message.reset(head_only)
        return self._message

    def usable(self, expiry: float) -> bool:
        if self.channel.at_eof() or self.channel.is_closing():
            return False
        if time.monotonic() - self.idle_since > expiry:
            return False
        # Bytes the channel already took in while idle, or bytes (or EOF) still in the kernel.
        if self.channel.buffered():
            return False
        return self._poller is None or not self._poller.poll(0)

    def close(self) -> None:
        self.channel.close()


def _within(timeout: float | None, pending: Awaitable[T]) -> Awaitable[T]:
    """``pending``, under ``timeout`` when there is one (the lean path's whole exchange has
    one outer timeout, so its writes and reads skip the extra timers, and the coroutine
    a timer needs: each level is paid again on every resume)."""
    return pending if timeout is None else _timed(timeout, pending)


async def _timed(timeout: float, pending: Awaitable[T]) -> T:
    async with asyncio.timeout(timeout):
        return await pending


class Stale(Exception):
    """A connection closed before the first byte of the response."""


async def connect(origin: Origin, timeout: float | None) -> Connection:
    if intercept.answerers:  # the testing kit's mocked backends, below all of the rest
        mocked = await intercept.connect(origin, _CHUNK)
        if mocked is not None:
            return Connection(mocked)
    try:
        async with asyncio.timeout(timeout):
            channel = await open_channel(*origin, limit=_CHUNK)
    except TimeoutError:
        raise faults.ConnectTimeout("timed out connecting") from None
    except OSError as exc:
        raise faults.ConnectError(str(exc) or type(exc).__name__) from None
    return Connection(channel)


async def send_head(
    conn: Connection,
    method: str,
    close: bool,
    payload: bytes,
    timeouts: Mapping[str, float | None],
) -> Message:
    """Writes ``payload`` and reads until the response head is parsed."""
    channel = conn.channel
    try:
        channel.write(payload)  # never blocks: the timeout is the drain's
        # A request usually leaves the channel with nothing to wait for or report; then
        # drain's coroutine (and its timer) is skipped, as it was paid per request.
        if channel.must_drain():
            await _within(timeouts.get("write"), channel.drain())
    except TimeoutError:
        conn.close()
        raise faults.WriteTimeout("timed out sending the request") from None
    except OSError:
        raise Stale() from None
    message, received = conn.message(method == "HEAD"), 0
    seen: list[bytes] = []  # not list[bytes](): that makes a generic alias first
    while not message.head_done:
        try:
            data = await _within(timeouts.get("read"), conn.channel.read(_CHUNK))
        except TimeoutError:
            conn.close()
            raise faults.ReadTimeout("timed out waiting for the response") from None
        except OSError as exc:
            if not received:
                raise Stale() from None
            conn.close()
            raise faults.ReadError(str(exc) or type(exc).__name__) from None
        if not data:
            if not received:
                raise Stale()
            conn.close()
            raise faults.RemoteProtocolError("incomplete response head")
        received += len(data)
        seen.append(data)
        message = _feed(conn, message, data, (method, seen))
        if not message.head_done and received > _HEAD_LIMIT:
            conn.close()
            raise faults.RemoteProtocolError("response head too large")
    message.keep = message.keep and not close
    return message


def _feed(
    conn: Connection,
    message: Message,
    data: bytes,
    head: tuple[str, list[bytes]] | None = None,
) -> Message:
    """``message`` fed ``data``; while its head is being read (``head``: the method and the
    bytes received so far), a head llhttp refuses is read again by h11 (see
    `sff.http.fallback_h11`), which then reads the rest of this response."""
    try:
        message.feed(data)
    except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
        if message.done:  # our answer ended; what follows is not ours: do not reuse
            message.extra = True
            return message
        if (
            head is not None
            and not message.head_done  # no body byte was delivered from llhttp
            and type(exc) is httptools.HttpParserError
            and type(message) is Message  # h11 refused it too: no third try
        ):
            from sff.http.fallback_h11 import reread  # h11 only for the rare refused head

            replacement = reread(head[0], b"".join(head[1]), _HEAD_LIMIT)
            if replacement is not None:
                return replacement
        conn.close()
        upgrade = isinstance(exc, httptools.HttpParserUpgrade)
        reason = "a protocol upgrade nobody asked for" if upgrade else str(exc) or "unparsable"
        raise faults.RemoteProtocolError(f"invalid response: {reason}") from None
    return message


class Body:
    """The response body; the connection goes back to the pool once it is fully read.
    httpx reads it through `sff.http.transport`, the lean send directly."""

    def __init__(
        self,
        pool: Pool,
        origin: Origin,
        conn: Connection,
        gate: asyncio.Semaphore,
        message: Message,
        read_timeout: float | None,
    ) -> None:
        self._pool, self._origin, self._conn, self._gate = pool, origin, conn, gate
        self._message, self._timeout = message, read_timeout
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        message = self._message
        for piece in message.take():
            yield piece
        try:
            while not message.done:
                data = await _within(self._timeout, self._conn.channel.read(_CHUNK))
                if not data:
                    self._eof()
                    break
                _feed(self._conn, message, data)
                for piece in message.take():
                    yield piece
        except TimeoutError:
            raise faults.ReadTimeout("timed out reading the body") from None
        except OSError as exc:
            reason = str(exc) or type(exc).__name__
            raise faults.ReadError(reason) from None
        self.finish(message.keep and not message.extra and message.done)

    def _eof(self) -> None:
        if self._message.close_delimited:
            self._message.keep = False
            return
        raise faults.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )

    def finish(self, reusable: bool) -> None:
        """The connection back to the pool (``reusable``) or closed; the gate released."""
        if not self._done:
            self._done = True
            self._pool.release(self._origin, self._conn, reusable)
            self._gate.release()

    async def aclose(self) -> None:
        self.finish(False)  # after a full read this is a no-op; otherwise drop the socket


__all__ = ["Body", "Connection", "Headers", "Origin", "Stale", "connect", "send_head"]
