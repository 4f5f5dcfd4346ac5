"""HTTP sources: build a request from templates, send it safely, read a bounded JSON body.

Safe by construction: the origin comes only from the Backend, a value placed in the path
is one percent-encoded segment, redirects are off unless the backend allows them, and the
body is read as a stream under a size cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sff import jsonsafe, tracing
from sff.breaker import Breaker, is_backend_failure
from sff.errors import SourceError
from sff.fallback import SourceCache, cache_step
from sff.freshness import HEADERS as CACHING_HEADERS
from sff.http import client as http_client
from sff.http import coalesce
from sff.http.attempts import Attempts, Try, attempt_spans
from sff.http.cached import Copy, fresh_for
from sff.http.exposed import Seen
from sff.http.lean import LeanRequest, LeanSender, Prefix, prefix
from sff.http.render import Parts, Renderer
from sff.http.response import Request, dedup_key, parse_json
from sff.http.send import PAGE_HEADERS
from sff.http.streams import httpcore_patched
from sff.plan import Node, Plan
from sff.projection import Demand
from sff.resilience import Deadline, Retryable, retried
from sff.result import SourceMeta
from sff.spec import Backend, HttpSource

if TYPE_CHECKING:  # httpx is imported only by a request that needs it
    import httpx

    from sff.http.client import AnyClient


def _took(src: SourceMeta, origin: SourceMeta, seen: Seen | None) -> None:
    """A GET shared with ``origin``'s: its status, caching and headers are ours too."""
    src.status, src.cache_control = origin.status, origin.cache_control
    src.fresh_s, src.response_headers = origin.fresh_s, origin.response_headers
    if seen is not None:
        seen.status, seen.headers = origin.status, origin.response_headers


class HttpFetcher:
    """Sends the HTTP sources of one invocation over one client; identical GETs go once."""

    def __init__(
        self,
        plan: Plan,
        client: AnyClient | None,
        incoming_headers: Mapping[str, str],
        request_id: str,
        cache: SourceCache | None = None,
        reads: Mapping[str, Demand] | None = None,
    ) -> None:
        self.cache = cache
        self.started = time.perf_counter()  # the invocation's clock: Invocation sets it
        # what the function reads of each source's JSON: a large body is decoded into that
        self._reads: Mapping[str, Demand] = reads or {}
        self.received_bytes = 0  # of response bodies: large data is shaped off the loop
        self._depth = jsonsafe.max_depth()  # read once, not per body (per `each` item)
        self._own_client = client is None
        self._client = client
        self._render = Renderer(incoming_headers, request_id)
        self._render.preflight(
            (n.name, n.source.backend)
            for n in plan.nodes.values()
            if isinstance(n.source, HttpSource)
        )
        # identical GETs in flight: the shared work, and the meta of the source sending it
        self._inflight: dict[tuple[Any, ...], tuple[asyncio.Future[Any], SourceMeta]] = {}
        self._prefixes: dict[Backend, Prefix | None] = {}
        self._lean_sender: LeanSender | bool | None = False  # False: not decided yet
        self._loop: asyncio.AbstractEventLoop | None = None  # an invocation runs on one
        self._max_connections = max(
            (
                n.source.backend.max_connections
                for n in plan.nodes.values()
                if isinstance(n.source, HttpSource)
            ),
            default=100,
        )

    @property
    def client(self) -> AnyClient:
        if self._client is None:
            self._client = http_client.new_client(self._max_connections)
        return self._client

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The invocation's loop, asked for once: in CPython 3.11 each asking
        (``asyncio.get_running_loop``) is a ``getpid()`` system call, per `each` item."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        return loop

    @property
    def httpx_client(self) -> httpx.AsyncClient:
        """The httpx client to send with when the lean send cannot (sff's builds it now)."""
        client = self.client
        return client.httpx_client if isinstance(client, http_client.Client) else client

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        # A shared GET whose every waiter was cancelled (deadline) must not outlive us.
        unfinished = [work for work, _ in self._inflight.values() if not work.done()]
        for work in unfinished:
            work.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        self._inflight.clear()  # nothing joins now: their values are the context's alone
        if self._own_client and self._client is not None:
            await self._client.aclose()

    async def fetch(
        self,
        node: Node,
        context: Mapping[str, Any],
        src: SourceMeta,
        deadline: Deadline,
        timeout: float | None,
        seen: Seen | None = None,
    ) -> Any:
        """The source's JSON; ``seen`` (an `each` item's, when its response is read)
        gets the answer's status and raw headers."""
        source = node.source
        assert isinstance(source, HttpSource)
        parts = self._render.parts(node, source, context)
        copy, built = self._copy(node, parts)
        if copy is not None and built is not None and copy.step.consults_first:
            entry, conditions = await copy.consult(deadline.remaining())
            if entry is not None:
                src.cache, src.fresh_s = "fresh", fresh_for(entry)
                tracing.event("sff.cache", **{"sff.source": node.name, "sff.outcome": "fresh"})
                reads = self._reads.get(node.name)
                return parse_json(node.name, built, 200, entry.body, reads, self._depth)
            if conditions:  # a stale copy with validators: ask whether it still is good
                parts = (*parts[:4], {**parts[4], **conditions}, parts[5])
                built = None
        request = built or self._built(node.name, source.backend, parts)
        remember = copy
        key = shared = None
        if source.method in ("GET", "HEAD"):
            # what is read of the answer keys it too: a projected value serves only its like
            key = (source.method, *dedup_key(request), self._reads.get(node.name))
            if key in self._inflight:
                answered, value = await self._shared(key, src, seen)
                if answered:
                    return value
            shared = self._instance_key(node, request)
            flight = None if shared is None else coalesce.inflight(self.client).get(shared)
            if flight is not None:  # another invocation on this instance is sending it
                answered, value = await self._joined(flight, src, seen)
                if answered:
                    return value
        sending = self._send(node.name, source, request, src, deadline, timeout, remember, seen)
        if key is None:
            return await sending
        # Sent in this task, not a task of its own (one per `each` item cost ~15 us): the
        # future only tells those who share it how it ended.
        work = self.loop.create_future()
        self._inflight[key] = (work, src)
        if shared is not None:
            coalesce.register(self.client, shared, work, src)
        try:
            value = await sending
        except Exception as exc:
            work.set_exception(exc)
            work.exception()  # retrieved, so a failure nobody shared is not logged as lost
            raise
        except BaseException:  # cancelled (or the task torn down): not an answer to share
            work.cancel()  # whoever shares it sends their own (`_shared`, `coalesce.join`)
            raise
        work.set_result(value)
        return value

    async def fetch_page(
        self,
        node: Node,
        parts: Parts,
        src: SourceMeta,
        deadline: Deadline,
        timeout: float | None,
    ) -> tuple[Any, dict[str, str]]:
        """One page of a paginated source (`sff.pages` made its parts): retried like any
        call, never shared or cached on its own (the whole list is), with its headers."""
        source = node.source
        assert isinstance(source, HttpSource)
        request = self._built(node.name, source.backend, parts)
        headers: dict[str, str] = {}
        value = await self._send(
            node.name, source, request, src, deadline, timeout, None, page_headers=headers
        )
        return value, headers

    def parts(self, node: Node, context: Mapping[str, Any]) -> Parts:
        assert isinstance(node.source, HttpSource)
        return self._render.parts(node, node.source, context)

    def _instance_key(self, node: Node, request: Request) -> coalesce.Key | None:
        """The key a GET is shared under across invocations: only on a lent (resident)
        client, and only when whose data it is can be told (see `sff.http.coalesce`)."""
        if self._own_client:
            return None
        who = None
        if node.identity is not None or node.source.options.personal:
            if self.cache is None:
                return None
            ok, who = self.cache.identity(node)
            if not ok or who is None:
                return None
        return (*coalesce.key_of(request, who), self._reads.get(node.name))

    async def _joined(
        self, flight: coalesce.Flight, src: SourceMeta, seen: Seen | None
    ) -> tuple[bool, Any]:
        work, origin = flight
        answered, value = await coalesce.join(work)
        if answered:
            _took(src, origin, seen)
        return answered, value

    async def _shared(
        self, key: tuple[Any, ...], src: SourceMeta, seen: Seen | None
    ) -> tuple[bool, Any]:
        """Wait for an identical GET another source is sending: no request of our own
        (attempts stays 0), its status in our meta. (False, None) when its sender was
        cancelled and we were not: then we send our own."""
        work, origin = self._inflight[key]
        took = True
        try:
            return True, await asyncio.shield(work)
        except SourceError as exc:  # the failure is ours too: name this source in it
            raise SourceError(
                src.name, exc.cause, status=exc.upstream_status, excerpt=exc.excerpt
            ) from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if work.cancelled() and task is not None and not task.cancelling():
                took = False
                if self._inflight.get(key, (None,))[0] is work:
                    del self._inflight[key]  # ours takes its place
                return False, None
            raise
        finally:
            if took:
                _took(src, origin, seen)

    def cache_key(self, node: Node, context: Mapping[str, Any]) -> str | None:
        """The fallback cache key of the request this source makes in ``context``."""
        source = node.source
        assert isinstance(source, HttpSource)
        parts = self._render.parts(node, source, context)
        return self._cache_key(node, self._built(node.name, source.backend, parts))

    def _cache_key(self, node: Node, request: Request) -> str | None:
        return None if self.cache is None else self.cache.http_key(node, request)

    def _copy(self, node: Node, parts: Parts) -> tuple[Copy | None, Request | None]:
        """Where this request's answer is kept, for a source with a cache step, and the
        request its key was made from (lean or httpx's: the key is the same)."""
        if self.cache is None:
            return None, None
        step = cache_step(node)
        if step is None:
            return None, None
        assert isinstance(node.source, HttpSource)
        built = self._built(node.name, node.source.backend, parts)
        key = self._cache_key(node, built)
        if key is None:
            return None, built
        return Copy(self.cache, key, step, self.cache.shared(node, built)), built

    async def _send(
        self,
        name: str,
        source: HttpSource,
        request: Request,
        src: SourceMeta,
        deadline: Deadline,
        timeout: float | None,
        remember: Copy | None = None,
        seen: Seen | None = None,
        page_headers: dict[str, str] | None = None,
    ) -> Any:
        backend = source.backend
        policy = source.options.retry or backend.retry
        propagated = source.options.propagate  # an answer, not an outage: never retried
        statuses = policy.statuses - propagated if propagated else policy.statuses
        kept = CACHING_HEADERS if page_headers is None else PAGE_HEADERS
        per_attempt = timeout or backend.timeout_s
        retrying = policy if source.idempotent else None
        tries: list[Try] = []
        sender = self._lean_sender if isinstance(self._lean_sender, LeanSender) else None
        attempt = Attempts(
            name,
            source,
            request,
            src,
            (sender, self),
            (per_attempt, statuses, kept, self._reads.get(name), self._depth),
            remember,
            seen,
            page_headers,
            # only a retried request has spans
            tries if retrying is not None and retrying.retries > 0 else None,
        )
        breaker = self._breaker(backend)
        if breaker is not None:
            try:
                await breaker.check(name)
            except SourceError as exc:
                tracing.event(
                    "sff.breaker",
                    **{"sff.source": name, "sff.outcome": "open"},
                    **{"sff.reason": exc.cause},
                )
                raise
        attempt.count(1)
        try:
            # `with_retries`, its first attempt awaited here: one coroutine level fewer for
            # every request (each level is paid again on every resume of every `each` item)
            try:
                value = await attempt(deadline.remaining())
            except Retryable as exc:
                if retrying is None or retrying.retries <= 0:
                    raise
                value = await retried(retrying, deadline, attempt, attempt.count, exc)
        except SourceError as exc:
            if breaker is not None and is_backend_failure(exc, propagated):
                await breaker.record(False)
            raise
        finally:
            if len(tries) > 1:  # retried: each attempt's span, for the waterfall
                attempt_spans(src, tries, self.started)
        if breaker is not None:
            await breaker.record(True)
        return value

    def _breaker(self, backend: Backend) -> Breaker | None:
        if backend.circuit is None or self.cache is None:
            return None
        return Breaker(self.cache.store, backend, backend.circuit)

    def _lean(self, name: str, backend: Backend, parts: Parts) -> LeanRequest | None:
        """The request as a lean one, when nothing needs httpx's own machinery for it."""
        if backend.follow_redirects or httpcore_patched() or tracing.active() is not None:
            # redirects: httpx follows them; patched: mocks and tracers see all; traced: each
            # attempt carries its own span's traceparent, set on the httpx request
            return None
        sender = self._lean_sender
        if sender is False:
            sender = self._lean_sender = http_client.lean_sender(self.client)
        if not isinstance(sender, LeanSender) or self.client.is_closed:
            return None  # a closed client: httpx says so
        method, base_url, path, query, headers, content = parts
        if backend not in self._prefixes:
            self._prefixes[backend] = prefix(base_url)
        base = self._prefixes[backend]
        if base is None:
            return None
        return sender.render(base, method, path, query, headers, content)

    def _built(self, name: str, backend: Backend, parts: Parts) -> Request:
        """The request to send: a lean one when it can be, else httpx's."""
        return self._lean(name, backend, parts) or self._request(name, parts)

    def _request(self, name: str, parts: Parts) -> httpx.Request:
        client = self.httpx_client
        from sff.http._httpx import httpx  # loaded with the client: only its exceptions

        method, base, path, query, headers, content = parts
        try:
            # httpx refuses some values only here (e.g. a forwarded header that is not ASCII).
            return client.build_request(
                method, base + path, params=tuple(query), headers=headers, content=content
            )
        except (ValueError, httpx.InvalidURL) as exc:
            raise SourceError(name, str(exc)) from None
