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


_OURS = {kind.__name__: kind for kind in (
    TransportError, TimeoutException, ConnectTimeout, WriteTimeout, ReadTimeout,
    NetworkError, ConnectError, ReadError, RemoteProtocolError,
)}  # fmt: skip


def from_httpx(exc: Exception) -> Exception:
    """The wire's fault for an httpx transport failure (the class of the same name, or of
    its nearest base that has one, e.g. PoolTimeout -> TimeoutException); anything else
    as it is. For a stand-in server that raises httpx's failures into the wire's reads."""
    if not type(exc).__module__.startswith("httpx"):
        return exc
    for base in type(exc).__mro__:
        if base.__name__ in _OURS:
            return _OURS[base.__name__](str(exc))
    return exc
