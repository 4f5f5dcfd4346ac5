"""The spans of an invocation, with the OpenTelemetry semantic conventions.

- one SERVER span per invocation (FaaS conventions: ``faas.trigger``, ``faas.invocation_id``,
  ``faas.coldstart``, ``faas.name``, ``cloud.*`` where the platform says), continuing the
  W3C ``traceparent`` of the incoming request; a nested `call()` is an INTERNAL child;
- one CLIENT span per attempt (HTTP client conventions), named ``METHOD /template`` with the
  source's path template as ``url.template``, never the filled URL that may carry keys; its
  context is injected into the backend request;
- cache hits, fallbacks and breaker decisions as events, the shape step as an INTERNAL span.

Export: use-and-destroy invocations flush before answering, for at most `FLUSH_SLICE_S`
(``SFF_OTEL_FLUSH_MS``) and never past the platform's time left; resident ones leave the
spans to the batch processor. A collector that is down or slow costs at most that bound.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from sff.otel.platform import attributes as platform_attributes

T = TypeVar("T")
FLUSH_SLICE_S = 0.2
_TRANSPORT = re.compile(r": ([A-Z][A-Za-z]*(?:Error|Exception)): ")
_inside = contextvars.ContextVar("sff_invocation", default=False)
_cold = [True]  # the first invocation of this process is the cold start


def flush_slice() -> float:
    raw = os.environ.get("SFF_OTEL_FLUSH_MS", "")
    return int(raw) / 1000 if raw.isdigit() else FLUSH_SLICE_S


class Tracing:
    """Spans for sff over one tracer provider."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("sff")
        self.platform = platform_attributes()

    async def traced(
        self,
        fn: Any,
        headers: Mapping[str, str] | None,
        request_id: str,
        *,
        lent: bool,
        budget: float,
        run: Callable[[], Awaitable[T]],
    ) -> T:
        """Run one invocation under its span; flush afterwards unless resident (``lent``)."""
        started = time.monotonic()
        try:
            with self.invocation(fn, headers, request_id):
                return await run()
        finally:
            if not lent and not _inside.get():
                await self.flush(min(flush_slice(), budget - (time.monotonic() - started)))

    @contextmanager
    def invocation(
        self, fn: Any, headers: Mapping[str, str] | None, request_id: str
    ) -> Iterator[Span]:
        nested = _inside.get()
        parent = None if nested else propagate.extract(_lower(headers or {}))
        attrs = {
            **self.platform,
            "faas.trigger": "http" if headers is not None else "other",
            "faas.invocation_id": request_id,
            "faas.coldstart": _cold[0] and not nested,
            "sff.function": fn.name,
        }
        attrs.setdefault("faas.name", fn.name)
        _cold[0] = False
        if headers is not None:
            attrs.update({"http.request.method": fn.method, "http.route": fn.route})
        name = f"{fn.method} {fn.route}" if headers is not None else fn.name
        kind = SpanKind.INTERNAL if nested else SpanKind.SERVER
        token = _inside.set(True)
        try:
            with self.tracer.start_as_current_span(
                name,
                context=parent,
                kind=kind,
                attributes=attrs,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                try:
                    yield span
                except BaseException as exc:
                    _answered(span, getattr(exc, "status", 500), exc)
                    raise
                _answered(span, 200, None)
        finally:
            _inside.reset(token)

    @contextmanager
    def attempt(
        self, source: str, template: str, request: Any, resend: int
    ) -> Iterator[Callable[[int], None]]:
        """A CLIENT span around one attempt; its context goes into the request's headers.
        Yields a function to call with the status the backend answered."""
        url = request.url
        attrs: dict[str, Any] = {
            "http.request.method": request.method,
            "url.template": template,
            "server.address": url.host,
            "server.port": url.port or (443 if url.scheme == "https" else 80),
            "sff.source": source,
        }
        if resend:
            attrs["http.request.resend_count"] = resend
        name = f"{request.method} {template}"
        with self.tracer.start_as_current_span(
            name,
            kind=SpanKind.CLIENT,
            attributes=attrs,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            propagate.inject(request.headers)

            def status(code: int) -> None:
                span.set_attribute("http.response.status_code", code)
                if code >= 400:
                    span.set_attribute("error.type", str(code))
                    span.set_status(Status(StatusCode.ERROR))

            try:
                yield status
            except BaseException as exc:
                code = getattr(exc, "upstream_status", None)
                if code is not None:
                    status(code)
                else:
                    span.set_attribute("error.type", _error_type(exc))
                    span.set_status(Status(StatusCode.ERROR))
                raise

    @contextmanager
    def internal(self, name: str, attrs: Mapping[str, Any]) -> Iterator[Span]:
        with self.tracer.start_as_current_span(
            name, kind=SpanKind.INTERNAL, attributes=_clean(attrs)
        ) as span:
            yield span

    def event(self, name: str, attrs: Mapping[str, Any]) -> None:
        trace.get_current_span().add_event(name, _clean(attrs))

    async def flush(self, within: float) -> None:
        """Export what is buffered, waiting at most ``within`` seconds. The export runs in
        a daemon thread: past the bound it carries on alone, and an exporter failure is
        the SDK's to log, never the answer's."""
        if within <= 0:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def export() -> None:
            try:
                self.provider.force_flush(int(within * 1000))
            finally:
                with suppress(RuntimeError):  # the loop is gone: nobody waits any more
                    loop.call_soon_threadsafe(_settle, done)

        threading.Thread(target=export, name="sff-otel-flush", daemon=True).start()
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), within)


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def _answered(span: Span, status: int, error: BaseException | None) -> None:
    span.set_attribute("http.response.status_code", status)
    if error is None:
        return
    span.set_attribute("error.type", getattr(error, "code", None) or type(error).__name__)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR, str(getattr(error, "code", "error"))))


def _error_type(exc: BaseException) -> str:
    """``timeout``, the transport's exception name (``ConnectError``), or the class."""
    text = str(getattr(exc, "cause", "") or exc)
    if "timed out" in text or isinstance(exc, TimeoutError):
        return "timeout"
    named = _TRANSPORT.search(text)  # the send path names the transport error it caught
    return named.group(1) if named else type(exc).__name__


def _lower(headers: Mapping[str, str]) -> MutableMapping[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _clean(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values the SDK accepts: None dropped, floats rounded for reading."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        out[key] = round(value, 3) if isinstance(value, float) else value
    return out
