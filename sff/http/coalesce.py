"""Identical GETs in flight shared across the concurrent invocations of one resident instance.

An instance that lends its warm client to many invocations at once (resident mode: the
runtime's loop, the ASGI app, ``sff serve``) lets an invocation wait for a GET another one
is already sending instead of sending it again, when the two requests are the same in
everything that says whose they are: method, URL, every header sent (credentials and
forwarded headers included), and the source's declared ``identity``. Only the headers that
name the invocation itself (``x-request-id``, trace context) are left out of that
comparison. A personal source without an identity is never shared. Only requests still
in flight are shared: an answer is never kept here once it has been given, and a
failure is not shared (the joiner sends its own request instead).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from sff.http.response import Request, dedup_key
from sff.result import SourceMeta

# Headers that differ per invocation without changing what the backend answers.
PER_INVOCATION = frozenset({"x-request-id", "traceparent", "tracestate"})

Key = tuple[Any, ...]
Flight = tuple["asyncio.Future[Any]", SourceMeta]

_instances: weakref.WeakKeyDictionary[Any, dict[Key, Flight]] = weakref.WeakKeyDictionary()


def key_of(request: Request, who: str | None) -> Key:
    url, headers = dedup_key(request)
    kept = tuple((k.lower(), v) for k, v in headers if k.lower() not in PER_INVOCATION)
    return (request.method, url, kept, who)


def inflight(client: Any) -> dict[Key, Flight]:
    """The GETs in flight on the instance that owns ``client``."""
    found = _instances.get(client)
    if found is None:
        found = _instances[client] = {}
    return found


def register(client: Any, key: Key, work: asyncio.Future[Any], src: SourceMeta) -> None:
    """Share ``work`` with later identical GETs until it is done."""
    flights = inflight(client)
    flights[key] = (work, src)

    def landed(_: asyncio.Future[Any]) -> None:
        if flights.get(key, (None,))[0] is work:
            del flights[key]

    work.add_done_callback(landed)


async def join(work: asyncio.Future[Any]) -> tuple[bool, Any]:
    """(True, its value) once another invocation's GET answers; (False, None) when it
    failed or that invocation gave up on it (cancelled, or out of its own time): the
    failure may be the other invocation's deadline, so the caller sends its own, which
    is never more than it would have sent alone."""
    from sff._jmes_values import fresh
    from sff.errors import SffError

    try:  # a copy of its own: no invocation's result is another's to mutate
        return True, fresh(await asyncio.shield(work))
    except SffError:
        return False, None
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if work.cancelled() and task is not None and not task.cancelling():
            return False, None
        raise
