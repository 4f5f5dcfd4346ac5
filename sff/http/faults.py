"""The transport failures of sff's own wire, raised without httpx loaded.

A plain-http invocation on the lean send never imports httpx (its import is ~20 ms of a
cold start: email, http.cookiejar, urllib.request come with it), so the wire cannot raise
httpx's exceptions. These mirror them, class for class and name for name: a source's
failure message (``GET /x: ConnectError: ...``) and the tracing attribute read from it
are the same on both paths. Where the wire serves httpx (`sff.http.transport`), each is
turned into the httpx exception of the same name (`as_httpx`), so an httpx caller still
catches what httpx documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class TransportError(Exception):
    """As ``httpx.TransportError``: the request may not have been answered."""


class TimeoutException(TransportError):
    pass


class ConnectTimeout(TimeoutException):
    pass


class WriteTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class NetworkError(TransportError):
    pass


class ConnectError(NetworkError):
    pass


class ReadError(NetworkError):
    pass


class RemoteProtocolError(TransportError):
    pass


def as_httpx(fault: TransportError, request: httpx.Request | None) -> httpx.TransportError:
    """The httpx exception ``fault`` stands for (the same class name), about ``request``."""
    from sff.http._httpx import httpx

    kind: type[httpx.TransportError] = getattr(httpx, type(fault).__name__)
    return kind(str(fault), request=request)
