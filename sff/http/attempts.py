"""One request's attempts: each sent and read, what its answer leaves on the source's
meta, and (for a retried request) when it began and ended, so a waterfall (the ``/_sff``
page of `sff serve`) can draw the attempts and the pauses between them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from sff import tracing
from sff.errors import SourceError
from sff.freshness import lifetime
from sff.http.lean import LeanRequest, LeanSender
from sff.http.response import Request, parse_json
from sff.http.send import send_lean, send_once

if TYPE_CHECKING:
    import asyncio

    import httpx

    from sff.http.cached import Copy
    from sff.http.exposed import Seen
    from sff.projection import Demand
    from sff.result import SourceMeta
    from sff.spec import HttpSource

Try = tuple[float, float, "int | None", "str | None"]  # began, ended (perf_counter), status, error


class Receiver(Protocol):
    """What counts the bytes received and holds the httpx client for what the lean send
    cannot send, built on first need (`sff.http.fetch.HttpFetcher`)."""

    received_bytes: int

    @property
    def httpx_client(self) -> httpx.AsyncClient: ...

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...


class Attempts:
    """One request's attempts, called by `with_retries` once per attempt with the time
    left. One object per request, where two closures over a dozen variables were made
    for every `each` item (their cells and frames were most of what the collector
    walked); ``tries``, when given, gets each attempt's clock readings and outcome."""

    __slots__ = (
        "_depth",
        "_kept",
        "_per_attempt",
        "_reads",
        "_receiver",
        "_remember",
        "_request",
        "_seen",
        "_sender",
        "_source",
        "_src",
        "_statuses",
        "made",
        "name",
        "page_headers",
        "tries",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        source: HttpSource,
        request: Request,
        src: SourceMeta,
        send: tuple[LeanSender | None, Receiver],
        rules: tuple[float, frozenset[int], tuple[str, ...], Demand | None, int],
        remember: Copy | None = None,
        seen: Seen | None = None,
        page_headers: dict[str, str] | None = None,
        tries: list[Try] | None = None,
    ) -> None:
        self.name, self._source, self._request, self._src = name, source, request, src
        self._sender, self._receiver = send
        self._per_attempt, self._statuses, self._kept, self._reads, self._depth = rules
        self._remember, self._seen, self.page_headers, self.tries = (
            remember,
            seen,
            page_headers,
            tries,
        )
        self.made = 0  # attempts of this request (src.attempts also counts other items')

    def count(self, number: int) -> None:
        self._src.attempts += 1
        self.made = number

    async def __call__(self, time_left: float) -> Any:
        """One attempt: sent, answered and read, in one coroutine (each level is paid
        again on every resume of every item's request)."""
        began = 0.0 if self.tries is None else time.perf_counter()
        name, request, backend = self.name, self._request, self._source.backend
        seconds = min(self._per_attempt, time_left)
        try:
            with tracing.attempt(name, self._source.path, request, self.made - 1) as traced:
                if isinstance(request, LeanRequest):
                    assert self._sender is not None
                    answer = await send_lean(
                        self._sender,
                        name,
                        backend,
                        request,
                        seconds,
                        self._statuses,
                        self._kept,
                        self._receiver.loop,
                    )
                else:
                    answer = await send_once(
                        self._receiver.httpx_client,
                        name,
                        backend,
                        request,
                        seconds,
                        self._statuses,
                        self._kept,
                    )
                if traced is not None:
                    traced(answer[0])
            value = self._settle(*answer)
        except SourceError as exc:
            if self.tries is not None:
                self.tries.append((began, time.perf_counter(), exc.upstream_status, exc.cause))
            raise
        if self.tries is not None:
            self.tries.append((began, time.perf_counter(), self._src.status, None))
        return value

    def _settle(self, status: int, body: bytes, caching: dict[str, str], raw: Any) -> Any:
        """The answer on the source's meta (and its item's), its copy kept; its JSON."""
        name, request, src = self.name, self._request, self._src
        src.status, src.response_headers = status, raw  # a reference: no copy made
        if self._seen is not None:
            self._seen.status, self._seen.headers = status, raw
        if self.page_headers is not None:
            self.page_headers.update(caching)
        self._receiver.received_bytes += len(body)
        src.cache_control = caching.get("cache-control")
        src.fresh_s = lifetime(caching, shared=False)
        remember = self._remember
        if status == 304 and remember is not None and remember.entry is not None:
            src.cache = "revalidated"
            tracing.event("sff.cache", **{"sff.source": name, "sff.outcome": "revalidated"})
            body = remember.refreshed(caching).body
            return parse_json(name, request, 200, body, self._reads, self._depth)
        value = parse_json(name, request, status, body, self._reads, self._depth)
        if remember is not None:
            remember.remember(status, body, caching)
        return value


MAX_SPANS = 20  # per source: an `each` of many retried items keeps the first ones


def attempt_spans(src: SourceMeta, tries: list[Try], origin: float) -> None:
    """Each attempt of a retried request, as invocation offsets (ms), on its source's meta."""
    spans = src.spans if src.spans is not None else []
    for began, ended, status, error in tries[: MAX_SPANS - len(spans)]:
        span: dict[str, Any] = {
            "start_ms": round((began - origin) * 1000, 2),
            "end_ms": round((ended - origin) * 1000, 2),
        }
        if status is not None:
            span["status"] = status
        if error is not None:
            span["error"] = error
        spans.append(span)
    src.spans = spans
