"""Redirects a backend allows, followed by sff rather than by httpx, so they cannot leave it.

httpx follows a redirect anywhere, dropping only Authorization on the way; a backend's
static headers (an API key) and the headers it forwards would reach whatever host the
Location names. Here a redirect stays on the backend's origin unless the backend names
the other hosts it may follow to (``redirect_hosts=``), and a request that does leave the
origin carries none of the backend's static or forwarded headers, nor Authorization or
Cookie: only the client's defaults and the request id.
"""

from __future__ import annotations

from sff.errors import SourceError
from sff.http._httpx import httpx
from sff.spec import Backend

MAX_REDIRECTS = 20  # httpx's default
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NEVER_ACROSS = frozenset({"authorization", "proxy-authorization", "cookie"})


def is_redirect(response: httpx.Response) -> bool:
    return response.status_code in _REDIRECTS and "location" in response.headers


def follow(
    name: str, backend: Backend, origin: httpx.URL, request: httpx.Request, response: httpx.Response
) -> httpx.Request:
    """The next request of a redirect ``backend`` allows, or the source's failure;
    ``origin`` is the URL of the source's own request, on the backend's origin."""
    where = f"{request.method} {request.url.path}"
    try:
        url = request.url.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise SourceError(name, f"{where}: bad redirect Location ({exc})") from None
    same = url.scheme == origin.scheme and url.netloc == origin.netloc
    if not same and url.host not in backend.redirect_hosts:
        raise SourceError(
            name,
            f"{where}: redirect to another origin refused ({url.scheme}://{url.host}); "
            "list the host in redirect_hosts= to allow it",
        )
    if url.scheme not in ("http", "https"):
        raise SourceError(name, f"{where}: redirect to a {url.scheme!r} URL refused")
    method, content = request.method, request.content
    if (response.status_code == 303 and method != "HEAD") or (
        response.status_code in (301, 302) and method == "POST"
    ):
        method, content = "GET", b""  # as browsers and httpx do
    headers = httpx.Headers(request.headers)
    if not same:
        strip = _NEVER_ACROSS | {h.lower() for h in backend.headers} | set(backend.forward_headers)
        for header in strip:
            headers.pop(header, None)
    headers.pop("host", None)
    if method != request.method:
        for header in ("content-length", "content-type", "transfer-encoding"):
            headers.pop(header, None)
    return httpx.Request(
        method, url, headers=headers, content=content or None, extensions=request.extensions
    )
