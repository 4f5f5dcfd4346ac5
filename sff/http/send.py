"""One attempt at a source's request, on httpx or on the lean send: same timeouts, caps, errors.

Transport failures and timeouts are `Retryable`; `sff.resilience` decides whether to retry.
httpx is imported by `send_once` only: the lean send fails with `sff.http.faults`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from sff.errors import SourceError
from sff.freshness import HEADERS as CACHING_HEADERS
from sff.http import faults
from sff.http.decode import read
from sff.http.lean import LeanRequest, LeanSender
from sff.http.response import describe, judge
from sff.resilience import Retryable
from sff.spec import Backend

if TYPE_CHECKING:
    import httpx

# What a page's headers are read for: caching, and `Link` (its next page, `sff.pages`).
PAGE_HEADERS = (*CACHING_HEADERS, "link")


async def send_once(
    client: httpx.AsyncClient,
    name: str,
    backend: Backend,
    request: httpx.Request,
    seconds: float,
    retry_statuses: frozenset[int],
    kept: tuple[str, ...] = CACHING_HEADERS,
) -> tuple[int, bytes, dict[str, str], Any]:
    """Status, body, the ``kept`` headers (caching ones, unless a page asks for Link too),
    and the raw headers (`sff.http.exposed` reads them only for a source whose response an
    expression reads)."""
    from sff.http._httpx import httpx  # loaded already: the request is httpx's

    where = f"{request.method} {request.url.path}"  # never the query: it may hold keys
    if seconds <= 0:
        raise SourceError(name, f"{where}: no time left before the deadline")
    request.extensions["timeout"] = httpx.Timeout(seconds).as_dict()
    try:
        async with asyncio.timeout(seconds):
            response = await _send(client, name, backend, request)
            try:
                body = await read_capped(name, response, backend.max_response_bytes)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        raise Retryable(name, f"{where}: timed out after {seconds:.3g}s") from None
    except httpx.LocalProtocolError as exc:  # nothing was sent: retrying cannot help
        raise SourceError(name, f"{where}: {exc}") from None
    except httpx.TransportError as exc:
        raise Retryable(name, f"{where}: {type(exc).__name__}: {exc}") from None
    except httpx.HTTPError as exc:  # e.g. a body that does not decode: not worth a retry
        raise SourceError(name, f"{where}: {type(exc).__name__}: {exc}") from None
    retry_after = response.headers.get("retry-after")
    status, body = judge(name, request, response.status_code, body, retry_after, retry_statuses)
    caching = {h: response.headers[h] for h in kept if h in response.headers}
    return status, body, caching, response.headers


async def _send(
    client: httpx.AsyncClient, name: str, backend: Backend, request: httpx.Request
) -> httpx.Response:
    """The response, after the redirects the backend allows (`sff.http.redirect`)."""
    response = await client.send(request, stream=True, follow_redirects=False)
    if not backend.follow_redirects:
        return response
    from sff.http import redirect  # only backends that allow redirects need it

    hops, current = 0, request
    while redirect.is_redirect(response):
        await response.aclose()
        hops += 1
        if hops > redirect.MAX_REDIRECTS:
            raise SourceError(name, f"{describe(request)}: more than {hops - 1} redirects")
        current = redirect.follow(name, backend, request.url, current, response)
        response = await client.send(current, stream=True, follow_redirects=False)
    return response


async def send_lean(
    sender: LeanSender,
    name: str,
    backend: Backend,
    request: LeanRequest,
    seconds: float,
    retry_statuses: frozenset[int],
    kept: tuple[str, ...] = CACHING_HEADERS,
    loop: asyncio.AbstractEventLoop | None = None,
) -> tuple[int, bytes, dict[str, str], Any]:
    """`send_once` for a lean request: the same timeouts, caps and error mapping.
    ``loop``: the running one, when the caller knows it (asking is a getpid() call)."""
    if seconds <= 0:
        raise SourceError(name, f"{describe(request)}: no time left before the deadline")
    if loop is None:
        loop = asyncio.get_running_loop()
    task = asyncio.current_task(loop)
    assert task is not None
    try:
        with _expiry(sender, loop).limit(seconds, task):
            status, found, body = await sender.send(name, request, backend.max_response_bytes)
    except (TimeoutError, faults.TimeoutException):
        where = describe(request)
        raise Retryable(name, f"{where}: timed out after {seconds:.3g}s") from None
    except faults.TransportError as exc:
        where = describe(request)
        raise Retryable(name, f"{where}: {type(exc).__name__}: {exc}") from None
    status, body = judge(name, request, status, body, found.get("retry-after"), retry_statuses)
    # the answer's fields, joined by name in one pass (`sff.http.lean.joined`), stand as
    # its raw headers: `sff.http.exposed` reads a mapping as well as byte pairs
    return status, body, {h: found[h] for h in kept if h in found}, found


async def read_capped(name: str, response: httpx.Response, limit: int) -> bytes:
    """The body httpx received, decoded by `sff.http.decode` as on the lean path: streamed,
    bounded per step, counted against ``limit``, unknown codings refused."""
    where = describe_response(response)
    if response.is_stream_consumed:  # a custom transport read it already; httpx decoded it
        return await read(name, where, _once(response.content), {}, limit)
    return await read(name, where, response.aiter_raw(), response.headers, limit)


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


def describe_response(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path}"


_RESOLUTION = time.get_clock_info("monotonic").resolution  # as the loop runs its timers


class Limit:
    """One attempt's time limit: ``asyncio.timeout``'s behaviour (the task cancelled when
    the time is up, that cancellation ending the block as ``TimeoutError``, any other left
    alone), as a plain context manager: ``async with`` made two coroutines per request,
    and asking for the running loop twice (each a ``getpid()`` system call)."""

    __slots__ = ("_cancelling", "_expired", "handle", "task", "when")

    def __init__(self, when: float, task: asyncio.Task[Any]) -> None:
        self.when = when
        self.task: asyncio.Task[Any] | None = task  # None once the block ended
        self.handle: asyncio.TimerHandle | None = None  # a timer of its own, if it has one
        self._cancelling = task.cancelling()
        self._expired = False

    def expire(self) -> None:
        if self.task is not None and not self._expired:
            self._expired = True
            self.task.cancel()

    def __enter__(self) -> Limit:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        task, self.task = self.task, None  # ended: nothing left to expire
        if self.handle is not None:
            self.handle.cancel()
        assert task is not None
        # as asyncio.Timeout: only our own cancellation becomes a TimeoutError
        if self._expired and task.uncancel() <= self._cancelling and kind is asyncio.CancelledError:
            raise TimeoutError from exc


class Expiry:
    """The lean attempts' time limits on one loop, in the order they end, under one timer.

    ``asyncio.timeout(seconds)`` puts a timer on the loop's heap per attempt and takes it
    off again: with a hundred `each` items in flight each push is ~7 Python ``__lt__``
    calls, plus the cancelled handle's bookkeeping. The attempts of one source wait the
    same seconds, so they end in the order they began: a queue in that order, and one
    loop timer for its head, do the same job. A limit that would end before the queue's
    last entry (a shorter timeout begun later) gets a timer of its own, as before."""

    __slots__ = ("_queue", "_timer", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._queue: deque[Limit] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def limit(self, seconds: float, task: asyncio.Task[Any]) -> Limit:
        """A limit of ``seconds`` on the block it is entered for, in ``task``."""
        loop = self.loop
        when = loop.time() + seconds
        limit = Limit(when, task)
        queue = self._queue
        while queue and queue[0].task is None:  # attempts that ended: nothing to expire
            queue.popleft()
        if queue and when < queue[-1].when:
            limit.handle = loop.call_at(when, limit.expire)  # out of order: its own timer
            return limit
        queue.append(limit)
        # the timer may stand for an entry that ended (a longer timeout): ours comes first
        timer = self._timer
        if timer is None or when < timer.when():
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(when, self._fire)
        return limit

    def _fire(self) -> None:
        self._timer = None
        due, queue = self.loop.time() + _RESOLUTION, self._queue
        while queue and (queue[0].task is None or queue[0].when < due):
            queue.popleft().expire()  # an ended one: a no-op
        if queue:
            self._timer = self.loop.call_at(queue[0].when, self._fire)


def _expiry(sender: LeanSender, loop: asyncio.AbstractEventLoop) -> Expiry:
    """The sender's `Expiry` on ``loop`` (a new loop, e.g. the next ``asyncio.run`` of a
    client kept across them, gets its own)."""
    found = sender.expiry
    if found is None or found.loop is not loop:
        found = sender.expiry = Expiry(loop)
    return found
