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
) -> tuple[int, bytes, dict[str, str], Any]:
    """`send_once` for a lean request: the same timeouts, caps and error mapping."""
    if seconds <= 0:
        raise SourceError(name, f"{describe(request)}: no time left before the deadline")
    timeout = asyncio.timeout(None)  # expired by the sender's one loop timer (`Expiry`)
    try:
        async with timeout:
            entry = _expiry(sender).add(seconds, timeout)
            try:
                status, found, body = await sender.send(name, request, backend.max_response_bytes)
            finally:
                entry[1] = None  # ended: nothing to expire
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
Entry = list[Any]  # [when, the attempt's Timeout, or None once the attempt ended]


class Expiry:
    """The lean attempts' timeouts on one loop, in the order they end, under one loop timer.

    ``asyncio.timeout(seconds)`` puts a timer on the loop's heap per attempt and takes it
    off again: with a hundred `each` items in flight each push is ~7 Python ``__lt__``
    calls, plus the cancelled handle's bookkeeping. The attempts of one source wait the
    same seconds, so they end in the order they began: a queue in that order, and one
    loop timer for its head, do the same job. An attempt that would end before the
    queue's last entry (a shorter timeout begun later) gets a timer of its own, as before.
    Each attempt still has its own ``asyncio.Timeout`` (entered without a deadline,
    rescheduled to now when its time is up), so the cancellation and the ``TimeoutError``
    are asyncio's own."""

    __slots__ = ("_queue", "_timer", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._queue: deque[Entry] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, seconds: float, timeout: asyncio.Timeout) -> Entry:
        """Expire ``timeout`` (entered, without a deadline) in ``seconds``; the caller
        clears the entry's timeout (``entry[1] = None``) when its attempt ends."""
        when = self.loop.time() + seconds
        queue = self._queue
        while queue and queue[0][1] is None:  # attempts that ended: nothing to expire
            queue.popleft()
        if queue and when < queue[-1][0]:
            timeout.reschedule(when)  # out of order: a timer of its own
            return [when, None]
        entry: Entry = [when, timeout]
        queue.append(entry)
        # the timer may stand for an entry that ended (a longer timeout): ours comes first
        timer = self._timer
        if timer is None or when < timer.when():
            if timer is not None:
                timer.cancel()
            self._timer = self.loop.call_at(when, self._fire)
        return entry

    def _fire(self) -> None:
        self._timer = None
        now = self.loop.time()
        due, queue = now + _RESOLUTION, self._queue
        while queue and (queue[0][1] is None or queue[0][0] < due):
            _, timeout = queue.popleft()
            if timeout is not None:
                timeout.reschedule(now)  # now: asyncio expires it
        if queue:
            self._timer = self.loop.call_at(queue[0][0], self._fire)


def _expiry(sender: LeanSender) -> Expiry:
    """The sender's `Expiry` on the running loop (a new loop, e.g. the next
    ``asyncio.run`` of a client kept across them, gets its own)."""
    loop = asyncio.get_running_loop()
    found = sender.expiry
    if found is None or found.loop is not loop:
        found = sender.expiry = Expiry(loop)
    return found
