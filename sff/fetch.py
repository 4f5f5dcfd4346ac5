"""HTTP sources: build a request from templates, send it safely, read a bounded JSON body.

Safe by construction: the origin comes only from the Backend, a value placed in the path
is one percent-encoded segment, redirects are off unless the backend allows them, and the
body is read as a stream under a size cap.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from sff import secrets
from sff._httpx import httpx
from sff._lean import LeanRequest, LeanSender, Prefix, header, prefix
from sff._transport import StreamTransport, _httpcore_patched
from sff.breaker import Breaker, is_backend_failure
from sff.errors import SourceError
from sff.expr import Expr
from sff.fallback import SourceCache, age_ok, cache_step
from sff.plan import Node, Plan
from sff.resilience import Deadline, Retryable, with_retries
from sff.result import SourceMeta
from sff.spec import Backend, Fallback, HttpSource

EXCERPT_CHARS = 200
# method, base URL, path, query, headers, body: a source's request before it is built
Parts = tuple[str, str, str, list[tuple[str, str]], dict[str, str], bytes | None]
Request = httpx.Request | LeanRequest


class LazyTLSTransport(httpx.AsyncBaseTransport):
    """Loads the CA bundle (25-45 ms) only when an https backend is actually called."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._inner: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            from sff._pool import linear_transport  # httpcore loads only for https

            self._inner = linear_transport(self._limits, verify=True)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


class Cookieless(httpx.Cookies):
    """A jar that never fills: a backend's Set-Cookie is not sent on later requests."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class Client(httpx.AsyncClient):
    """An AsyncClient without a cookie jar. One client may serve many callers' invocations
    (resident mode), so a cookie one backend set must never ride along on another request;
    and httpx's cookie parsing of every response was ~15% of a request's CPU."""

    _cookieless: Cookieless | None = None

    @property
    def cookies(self) -> httpx.Cookies:
        if self._cookieless is None:
            self._cookieless = Cookieless()
        return self._cookieless

    @cookies.setter
    def cookies(self, _: Any) -> None:
        self._cookieless = Cookieless()


def new_client(max_connections: int = 100) -> httpx.AsyncClient:
    secrets.guard_loggers()  # httpx logs request URLs, httpcore response headers
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    # The plain-http transport never does TLS, so it needs no CA bundle.
    return Client(
        transport=StreamTransport(limits),
        mounts={"https://": LazyTLSTransport(limits)},
        follow_redirects=False,
        trust_env=False,
    )


class HttpFetcher:
    """Sends the HTTP sources of one invocation over one client; identical GETs go once."""

    def __init__(
        self,
        plan: Plan,
        client: httpx.AsyncClient | None,
        incoming_headers: Mapping[str, str],
        request_id: str,
        cache: SourceCache | None = None,
    ) -> None:
        self.cache = cache
        self.received_bytes = 0  # of response bodies: large data is shaped off the loop
        self._own_client = client is None
        self._client = client
        self._incoming = {k.lower(): v for k, v in incoming_headers.items()}
        self._request_id = request_id
        # identical GETs in flight: the shared work, and the meta of the source sending it
        self._inflight: dict[tuple[Any, ...], tuple[asyncio.Future[Any], SourceMeta]] = {}
        self._bases: dict[Backend, str] = {}
        self._prefixes: dict[Backend, Prefix | None] = {}
        self._lean_sender: LeanSender | bool | None = False  # False: not decided yet
        self._max_connections = max(
            (
                n.source.backend.max_connections
                for n in plan.nodes.values()
                if isinstance(n.source, HttpSource)
            ),
            default=100,
        )

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = new_client(self._max_connections)
        return self._client

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        # A shared GET whose every waiter was cancelled (deadline) must not outlive us.
        unfinished = [work for work, _ in self._inflight.values() if not work.done()]
        for work in unfinished:
            work.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if self._own_client and self._client is not None:
            await self._client.aclose()

    async def fetch(
        self,
        node: Node,
        context: Mapping[str, Any],
        src: SourceMeta,
        deadline: Deadline,
        timeout: float | None,
    ) -> Any:
        source = node.source
        assert isinstance(source, HttpSource)
        parts = self._parts(node, source, context)
        request: Request | None = self._lean(node.name, source.backend, parts)
        if request is None:
            request = self._request(node.name, parts)
        step = cache_step(node)
        stored = None
        if step is not None:  # the key is always made from the httpx request: one format
            built = request if isinstance(request, httpx.Request) else None
            stored = self._cache_key(node, built or self._request(node.name, parts))
        if stored is not None and step is not None and step.fresh is not None:
            hit, value = await self._fresh(node.name, request, stored, step.fresh, deadline)
            if hit:
                src.cache = "fresh"
                return value
        remember = (stored, step) if stored is not None and step is not None else None
        key = None
        if source.method in ("GET", "HEAD"):
            key = (source.method, *dedup_key(request))
            if key in self._inflight:
                return await self._shared(key, src)
        work = asyncio.ensure_future(
            self._send(node.name, source, request, src, deadline, timeout, remember)
        )
        if key is None:
            return await work
        # Retrieved here so a failure no waiter is left to see is not logged as lost.
        work.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._inflight[key] = (work, src)
        return await asyncio.shield(work)

    async def _shared(self, key: tuple[Any, ...], src: SourceMeta) -> Any:
        """Wait for an identical GET another source is sending: no request of our own
        (attempts stays 0), its status in our meta."""
        work, origin = self._inflight[key]
        try:
            return await asyncio.shield(work)
        except SourceError as exc:  # the failure is ours too: name this source in it
            raise SourceError(
                src.name, exc.cause, status=exc.upstream_status, excerpt=exc.excerpt
            ) from None
        finally:
            src.status = origin.status

    def cache_key(self, node: Node, context: Mapping[str, Any]) -> str | None:
        """The fallback cache key of the request this source makes in ``context``."""
        source = node.source
        assert isinstance(source, HttpSource)
        return self._cache_key(node, self.build(node, source, context))

    def _cache_key(self, node: Node, request: httpx.Request) -> str | None:
        return None if self.cache is None else self.cache.http_key(node, request)

    async def _fresh(
        self, name: str, request: Request, key: str, fresh: float, deadline: Deadline
    ) -> tuple[bool, Any]:
        assert self.cache is not None
        entry = await self.cache.read(key, deadline.remaining())
        if entry is None or not age_ok(entry, fresh):
            return False, None
        return True, parse_json(name, request, entry.status, entry.body)

    async def _send(
        self,
        name: str,
        source: HttpSource,
        request: Request,
        src: SourceMeta,
        deadline: Deadline,
        timeout: float | None,
        remember: tuple[str, Fallback] | None = None,
    ) -> Any:
        backend = source.backend
        policy = source.options.retry or backend.retry
        statuses = policy.statuses
        per_attempt = timeout or backend.timeout_s

        def count(_: int) -> None:
            src.attempts += 1

        async def attempt(time_left: float) -> Any:
            seconds = min(per_attempt, time_left)
            if isinstance(request, LeanRequest):
                status, body = await self._send_lean(name, backend, request, seconds, statuses)
            else:
                status, body = await self._send_once(name, backend, request, seconds, statuses)
            src.status = status
            self.received_bytes += len(body)
            value = parse_json(name, request, status, body)
            if remember is not None and self.cache is not None:
                self.cache.remember(remember[0], status, body, remember[1])
            return value

        breaker = self._breaker(backend)
        if breaker is not None:
            await breaker.check(name)
        try:
            value = await with_retries(
                policy if source.idempotent else None, deadline, attempt, count
            )
        except SourceError as exc:
            if breaker is not None and is_backend_failure(exc):
                await breaker.record(False)
            raise
        if breaker is not None:
            await breaker.record(True)
        return value

    def _breaker(self, backend: Backend) -> Breaker | None:
        if backend.circuit is None or self.cache is None:
            return None
        return Breaker(self.cache.store, backend, backend.circuit)

    async def _send_once(
        self,
        name: str,
        backend: Backend,
        request: httpx.Request,
        seconds: float,
        retry_statuses: frozenset[int],
    ) -> tuple[int, bytes]:
        where = f"{request.method} {request.url.path}"  # never the query: it may hold keys
        if seconds <= 0:
            raise SourceError(name, f"{where}: no time left before the deadline")
        request.extensions["timeout"] = httpx.Timeout(seconds).as_dict()
        try:
            async with asyncio.timeout(seconds):
                response = await self.client.send(
                    request, stream=True, follow_redirects=backend.follow_redirects
                )
                try:
                    body = await read_capped(name, response, backend.max_response_bytes)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise Retryable(name, f"{where}: timed out after {seconds:.3g}s") from None
        except httpx.TransportError as exc:
            raise Retryable(name, f"{where}: {type(exc).__name__}: {exc}") from None
        except httpx.HTTPError as exc:  # e.g. a body that does not decode: not worth a retry
            raise SourceError(name, f"{where}: {type(exc).__name__}: {exc}") from None
        retry_after = response.headers.get("retry-after")
        return judge(name, request, response.status_code, body, retry_after, retry_statuses)

    async def _send_lean(
        self,
        name: str,
        backend: Backend,
        request: LeanRequest,
        seconds: float,
        retry_statuses: frozenset[int],
    ) -> tuple[int, bytes]:
        """`_send_once` for a lean request: the same timeouts, caps and error mapping."""
        if seconds <= 0:
            raise SourceError(name, f"{describe(request)}: no time left before the deadline")
        sender = self._lean_sender
        assert isinstance(sender, LeanSender)
        try:
            async with asyncio.timeout(seconds):
                status, headers, body = await sender.send(name, request, backend.max_response_bytes)
        except (TimeoutError, httpx.TimeoutException):
            where = describe(request)
            raise Retryable(name, f"{where}: timed out after {seconds:.3g}s") from None
        except httpx.TransportError as exc:
            where = describe(request)
            raise Retryable(name, f"{where}: {type(exc).__name__}: {exc}") from None
        retry_after = header(headers, b"retry-after")
        return judge(name, request, status, body, retry_after, retry_statuses)

    def _lean(self, name: str, backend: Backend, parts: Parts) -> LeanRequest | None:
        """The request as a lean one, when nothing needs httpx's own machinery for it."""
        if backend.follow_redirects or _httpcore_patched():
            return None  # redirects: httpx follows them; patched: mocks and tracers see all
        sender = self._lean_sender
        if sender is False:
            sender = self._lean_sender = lean_sender(self.client)
        if not isinstance(sender, LeanSender) or self.client.is_closed:
            return None  # a closed client: httpx says so
        method, base_url, path, query, headers, content = parts
        if backend not in self._prefixes:
            self._prefixes[backend] = prefix(base_url)
        base = self._prefixes[backend]
        if base is None:
            return None
        return sender.render(base, method, path, query, headers, content)

    def build(self, node: Node, source: HttpSource, context: Mapping[str, Any]) -> httpx.Request:
        return self._request(node.name, self._parts(node, source, context))

    def _request(self, name: str, parts: Parts) -> httpx.Request:
        method, base, path, query, headers, content = parts
        try:
            # httpx refuses some values only here (e.g. a forwarded header that is not ASCII).
            return self.client.build_request(
                method, base + path, params=tuple(query), headers=headers, content=content
            )
        except (ValueError, httpx.InvalidURL) as exc:
            raise SourceError(name, str(exc)) from None

    def _parts(self, node: Node, source: HttpSource, context: Mapping[str, Any]) -> Parts:
        """The parts of the source's request in ``context``; httpx or `_lean` builds it."""
        assert node.request is not None
        try:
            path = node.request.path.render(context, encode_segment)
            query = query_params(node.request.query.render(context))
            headers = self.headers(source, node.request.headers.render(context))
            if node.request.idempotency_key is not None:
                key = node.request.idempotency_key.search(context)
                headers["idempotency-key"] = scalar_text(key, "idempotency_key")
            body = None if node.request.body is None else node.request.body.render(context)
            content = None
            if body is not None:
                content = json.dumps(body, separators=(",", ":")).encode()
                headers["content-type"] = "application/json"
            base = self.base_url(node.name, source.backend)
        except ValueError as exc:
            raise SourceError(node.name, str(exc)) from None
        secrets.note_request(source.backend, base, query, headers)
        return source.method, base, path, query, headers, content

    def base_url(self, name: str, backend: Backend) -> str:
        if backend not in self._bases:
            base = backend.base_url()
            if not base:
                raise SourceError(name, f"backend {backend.name!r} has no URL: set ${backend.env}")
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                given = f"${backend.env}" if backend.env and base != backend.default else "default="
                raise SourceError(name, f"backend {backend.name!r}: not an http(s) URL in {given}")
            self._bases[backend] = base.rstrip("/")
        return self._bases[backend]

    def headers(self, source: HttpSource, rendered: Mapping[str, Any]) -> dict[str, str]:
        backend = source.backend
        headers = dict(backend.headers)
        for name in backend.forward_headers:
            if name in self._incoming:
                headers[name] = self._incoming[name]
        for name, value in rendered.items():
            if value is not None:
                text = scalar_text(value, f"header {name!r}")
                if not text.isascii():
                    raise ValueError(f"header {name!r} is not ASCII text")
                headers[name] = text
        headers.setdefault("x-request-id", self._request_id)
        return headers


def encode_segment(expr: Expr, value: Any) -> str:
    """A path value becomes ONE segment: '/', '?', '#', '..' cannot leave it."""
    text = scalar_text(value, f"path placeholder {{{expr.text}}}")
    if text in ("", ".", ".."):
        if not text:
            raise ValueError(f"path placeholder {{{expr.text}}} is empty")
        return text.replace(".", "%2E")
    return quote(text, safe="")


def scalar_text(value: Any, what: str) -> str:
    if value is None:
        raise ValueError(f"{what} is null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"{what} must be a string or number, got {type(value).__name__}")


def query_params(rendered: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Null values are left out; arrays repeat the key."""
    params: list[tuple[str, str]] = []
    for key, value in rendered.items():
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                params.append((key, scalar_text(one, f"query {key!r}")))
    return params


async def read_capped(name: str, response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SourceError(name, f"response of {declared} bytes is over the {limit}-byte cap")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():  # decoded, so a compressed bomb is capped too
        size += len(chunk)
        if size > limit:
            raise SourceError(name, f"response is over the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def lean_sender(client: httpx.AsyncClient) -> LeanSender | None:
    """A lean sender for ``client``, or None when the client adds anything to a request
    that the lean path does not: auth, event hooks, default params, a base URL, proxies or
    other mounts for http://, a transport other than ours. Checked once per invocation."""
    transport = getattr(client, "_transport", None)
    mounts = getattr(client, "_mounts", None)
    if not (isinstance(client, Client) and isinstance(transport, StreamTransport)):
        return None
    if client.auth is not None or client.params or str(client.base_url) or mounts is None:
        return None
    if any(client.event_hooks.values()):
        return None
    if any(not getattr(p, "pattern", "").startswith("https://") for p in mounts):
        return None
    return LeanSender(transport, client.headers)


def dedup_key(request: Request) -> tuple[str, tuple[tuple[str, str], ...]]:
    if isinstance(request, LeanRequest):
        return request.url, request.headers_key
    return str(request.url), tuple(sorted(request.headers.multi_items()))


def describe(request: Request) -> str:
    """Method and path, for messages: never the query, which may hold keys."""
    path = request.path if isinstance(request, LeanRequest) else request.url.path
    return f"{request.method} {path}"


def judge(
    name: str,
    request: Request,
    status: int,
    body: bytes,
    retry_after: str | None,
    retry_statuses: frozenset[int],
) -> tuple[int, bytes]:
    """A 2xx answer's status and body; any other status is the source's failure."""
    if 200 <= status < 300:
        return status, body
    where = describe(request)
    excerpt = body[:EXCERPT_CHARS].decode("utf-8", "replace")
    if status in retry_statuses:
        raise Retryable(
            name,
            f"{where}: HTTP {status}",
            status=status,
            excerpt=excerpt,
            retry_after=retry_after,
        )
    raise SourceError(name, f"{where}: HTTP {status}", status=status, excerpt=excerpt)


def parse_json(name: str, request: Request, status: int, body: bytes) -> Any:
    if status == 204 or request.method == "HEAD":
        return None
    where = describe(request)
    if not body.strip():
        raise SourceError(
            name, f"{where}: empty body (HTTP {status}), expected JSON", status=status
        )
    try:
        return json.loads(body)
    except ValueError as exc:
        excerpt = body[:EXCERPT_CHARS].decode("utf-8", "replace")
        raise SourceError(
            name, f"{where}: invalid JSON ({exc})", status=status, excerpt=excerpt
        ) from None
