"""The HTTP client sff sends with: plain http over `StreamTransport`, https over httpcore.

`lean_sender` decides, once per invocation, whether a client may take the lean send.
"""

from __future__ import annotations

from typing import Any

from sff import secrets
from sff.http._httpx import httpx
from sff.http.lean import LeanSender
from sff.http.transport import StreamTransport


class LazyTLSTransport(httpx.AsyncBaseTransport):
    """Loads the CA bundle (25-45 ms) only when an https backend is actually called."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._inner: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            from sff.http.pool import linear_transport  # httpcore loads only for https

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
