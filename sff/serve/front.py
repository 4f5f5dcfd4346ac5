"""The gateway's HTTP front: uvicorn's h11 protocol with the limits a platform sets.

uvicorn closes idle keep-alive connections but has no timeout for a request head, so a
client that connects and sends nothing (or half a head, a byte at a time) would hold a
connection, and a file descriptor, forever (slowloris). `GuardedH11` adds that timeout,
answers protocol errors with a JSON body (uvicorn's own are plain text), and refuses
connections over the cap with a JSON 503 and Retry-After instead of uvicorn's bare 503,
so a full gateway keeps answering rather than leaving clients in the accept queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import signal
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from sff.serve.reading import HEAD_LIMIT_BYTES

if TYPE_CHECKING:
    from uvicorn import Config

    from sff.serve.options import Options

BACKLOG = 1024  # kernel accept queue (asyncio also accepts up to this many at a time)
PLATFORM_HEADROOM = 32  # connections kept for /_sff, /docs and the like
FDS_PER_INSTANCE = 4  # a worker's stdin/stdout pipes and their transports
FDS_RESERVED = 64  # logs, the SQLite cache, Redis, the reloader, Python itself


class RecordingConnection(h11.Connection):
    """An h11 connection that keeps the last protocol error, so the answer can name it."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


class GuardedH11(H11Protocol):
    head_timeout: float = 5.0  # set per server by `protocol`

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.conn: RecordingConnection = RecordingConnection(h11.SERVER, HEAD_LIMIT_BYTES)
        self.cap = config.limit_concurrency
        self.limit_concurrency = None  # the cap is applied per connection, in JSON
        self.head_timer: asyncio.TimerHandle | None = None
        self.waiting_since: float | None = None  # loop time the wait for a head began

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(Corked(transport, self.loop))  # type: ignore[arg-type]
        if self.cap is not None and len(self.connections) > self.cap:
            self._make_room()
        self._arm()

    def _make_room(self) -> None:
        """Over the cap, the connection waiting longest for a request head gives way (as
        nginx drains idle keep-alive connections), so idle and half-sent connections cannot
        lock real clients out; with none to evict, this one is answered 503."""
        waiting = [c for c in self.connections if isinstance(c, GuardedH11) and c.waiting_since]
        if waiting:
            min(waiting, key=lambda c: c.waiting_since or 0.0)._give_up_waiting()
        else:
            self.app = over_capacity

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the head is in: the app's own timeouts take over

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request's head gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self.waiting_since = self.loop.time()
        self.head_timer = self.loop.call_later(self.head_timeout, self._give_up_waiting)

    def _disarm(self) -> None:
        self.waiting_since = None
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _give_up_waiting(self) -> None:
        """Close a connection still without a complete request head: silently when it sent
        nothing (as after a keep-alive timeout), with a JSON 408 when it sent part of one."""
        self._disarm()
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0] and self.conn.our_state is h11.IDLE:
            message = f"the request head did not arrive within {self.head_timeout:g} s"
            self._answer(408, "request_timeout", message)
        self.connections.discard(self)  # gone now for the cap, not when the close completes
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        error = self.conn.last_error
        status = error.error_status_hint if error is not None else 400
        status = status if status in (400, 431, 501) else 400
        detail = str(error) if error is not None else msg
        if status == 431:
            detail = f"the request head is over the {HEAD_LIMIT_BYTES}-byte limit"
        self._answer(status, "bad_request", f"not a valid HTTP/1.1 request: {detail}"[:300])
        self.transport.close()

    def _answer(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        headers = [
            ("content-type", "application/json"),
            ("content-length", str(len(body))),
            ("connection", "close"),
        ]
        try:
            for event in (h11.Response(status_code=status, headers=headers),
                          h11.Data(data=body), h11.EndOfMessage()):  # fmt: skip
                self.transport.write(self.conn.send(event) or b"")
        except h11.LocalProtocolError:
            pass  # a response was already under way: closing is all that is left


class Corked:
    """The connection's transport, gathering the writes of one loop iteration into one send:
    uvicorn writes a response's head and body separately, and each send on loopback wakes the
    client (a context switch on a busy machine) for half a response."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if data:
            if not self.pending:
                self.loop.call_soon(self.flush)
            self.pending.append(data)

    def flush(self) -> None:
        if self.pending and not self.transport.is_closing():
            self.transport.write(b"".join(self.pending))
        self.pending.clear()

    def close(self) -> None:
        self.flush()  # a response written just before closing still goes out
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def no_delay(transport: asyncio.Transport) -> None:
    """Headers and body go out in two writes; without TCP_NODELAY the second waits for the
    client's delayed ACK (~40 ms). asyncio sets it only on sockets whose ``proto`` says TCP,
    which a socket from `socket.create_server` (proto 0) does not."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def over_capacity(scope: Any, receive: Any, send: Any) -> None:
    """The answer on a connection over the cap: come back shortly, on a new connection."""
    body = json.dumps(
        {"error": {"code": "over_capacity", "message": "the gateway is at its connection "
                   "limit; retry shortly"}}
    ).encode()  # fmt: skip
    headers = [(b"content-type", b"application/json"), (b"retry-after", b"1"),
               (b"connection", b"close"), (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def protocol(head_timeout: float) -> type[GuardedH11]:
    return type("GuardedH11", (GuardedH11,), {"head_timeout": head_timeout})


def backlog() -> int:
    """The accept queue, smaller when file descriptors are few: asyncio accepts up to this
    many connections in one go, before the cap can make room for any of them."""
    soft = _soft_file_limit()
    return BACKLOG if soft is None else max(16, min(BACKLOG, soft // 8))


def connection_cap(options: Options, functions: int) -> int:
    """Open connections at most: every instance busy and its queue full, plus headroom for
    the platform pages, within the file descriptors the process may open (less two accept
    batches in flight), so a flood is answered instead of stalling in accept on EMFILE."""
    wanted = max(1, functions) * (options.max_instances + options.queue_depth)
    wanted += PLATFORM_HEADROOM
    soft = _soft_file_limit()
    if soft is None:
        return wanted
    instances = max(1, functions) * options.max_instances * FDS_PER_INSTANCE
    return max(8, min(wanted, soft - FDS_RESERVED - instances - 2 * backlog()))


def _soft_file_limit() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host.strip("[]"), port), family=family, backlog=backlog())


def config(app: Any, options: Options, functions: int) -> Config:
    from uvicorn import Config

    return Config(
        app,
        http=protocol(options.head_timeout),
        lifespan="off",
        ws="none",  # an Upgrade request is answered as plain HTTP: no websocket is served
        log_config=None,
        access_log=False,
        log_level="warning",
        proxy_headers=False,  # nothing proxies a local platform: X-Forwarded-* is a lie
        server_header=False,
        date_header=False,
        backlog=backlog(),
        h11_max_incomplete_event_size=HEAD_LIMIT_BYTES,
        timeout_keep_alive=int(options.keep_alive),
        limit_concurrency=connection_cap(options, functions),
        timeout_graceful_shutdown=5,
    )


class Server(uvicorn.Server):
    """uvicorn's server, except that SIGINT/SIGTERM only stop it: uvicorn re-raises the
    signal once it has shut down, which would end the process before the gateway has
    stopped its instances and printed the summary."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
