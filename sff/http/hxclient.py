"""The httpx half of sff's client, built only when a request needs httpx (`sff.http.client`).

Plain http over `StreamTransport` (on the same connections as the lean send), https over
httpcore, no cookie jar.
"""

from __future__ import annotations

from typing import Any

from sff.http._httpx import httpx
from sff.http.message import Headers
from sff.http.streams import Pool
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


class CookielessClient(httpx.AsyncClient):
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


def build(pool: Pool, max_connections: int, headers: Headers) -> CookielessClient:
    """httpx's client over ``pool``, sending ``headers`` (the lean send's defaults: httpx's
    own, so both paths send the same) before a request's."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    # The plain-http transport never does TLS, so it needs no CA bundle.
    return CookielessClient(
        transport=StreamTransport(limits, pool),
        mounts={"https://": LazyTLSTransport(limits)},
        follow_redirects=False,
        trust_env=False,
        headers=httpx.Headers(headers),
    )
