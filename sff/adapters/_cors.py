"""CORS: answer preflights and mark answers for allowed origins (env ``SFF_CORS_ORIGINS``)."""

from __future__ import annotations

from sff.adapters._errors import OriginNotAllowed
from sff.adapters._http import HttpRequest, HttpResponse
from sff.adapters._settings import Settings

# The frontend may read these: they say which sources are degraded and how long each took.
EXPOSE = "x-request-id, server-timing, x-sff-degraded"
MAX_AGE_S = "600"


def options(method: str, request: HttpRequest, settings: Settings) -> HttpResponse:
    """A preflight (Origin + Access-Control-Request-Method) or a plain OPTIONS."""
    allow = f"{method}, OPTIONS"
    origin = request.headers.get("origin")
    if origin is None or "access-control-request-method" not in request.headers:
        return HttpResponse(204, {"allow": allow}, b"")
    if not settings.origin_allowed(origin):
        raise OriginNotAllowed(f"origin {origin[:100]!r} is not allowed", origin=origin[:100])
    headers = {"access-control-allow-methods": allow, "access-control-max-age": MAX_AGE_S}
    wanted = request.headers.get("access-control-request-headers")
    if wanted:
        headers["access-control-allow-headers"] = wanted
    return HttpResponse(204, headers, b"")


def decorate(response: HttpResponse, request: HttpRequest, settings: Settings) -> None:
    if not settings.cors_origins:
        return
    origin = request.headers.get("origin")
    wildcard = "*" in settings.cors_origins
    if not wildcard:
        vary = response.headers.get("vary")
        response.headers["vary"] = f"{vary}, origin" if vary else "origin"
    if settings.origin_allowed(origin):
        response.headers["access-control-allow-origin"] = "*" if wildcard else str(origin)
        response.headers["access-control-expose-headers"] = EXPOSE
