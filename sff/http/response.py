"""What a backend's answer means: a 2xx status and a JSON body, or the source's failure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from sff import jsonsafe
from sff.errors import SourceError
from sff.http.lean import LeanRequest
from sff.http.projected import MIN_BYTES, MISS, for_demand
from sff.projection import Demand
from sff.resilience import Retryable

if TYPE_CHECKING:  # httpx is loaded only by a request that needs it (see `sff.http.client`)
    import httpx

EXCERPT_CHARS = 200


Request: TypeAlias = "httpx.Request | LeanRequest"


def dedup_key(request: Request) -> tuple[str, tuple[tuple[str, str], ...]]:
    if isinstance(request, LeanRequest):
        return request.url, request.headers_key
    return str(request.url), tuple(sorted(request.headers.multi_items()))


def sent(request: Request) -> tuple[str, list[tuple[str, str]], bytes]:
    """The URL, the header fields (lower-cased names, in order) and the body a request
    sends, alike for both kinds: a cached copy's key is made of them, whichever path
    sends the request (the lean send's fields are httpx's, byte for byte)."""
    if isinstance(request, LeanRequest):
        fields = [(n.decode("ascii").lower(), v.decode("ascii")) for n, v in request.fields]
        return request.url, fields, request.content
    return str(request.url), request.headers.multi_items(), request.content


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
    """A 2xx answer's status and body (or a 304, for a revalidation to judge); any other
    status is the source's failure."""
    if 200 <= status < 300 or status == 304:
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


def parse_json(
    name: str,
    request: Request,
    status: int,
    body: bytes,
    reads: Demand | None = None,
    depth: int | None = None,
) -> Any:
    """The body's JSON; with ``reads`` (what the function reads of it, see
    `sff.projection`) a large body is decoded into only that (`sff.http.projected`).
    ``depth``: the nesting limit (`jsonsafe.max_depth`, read once by the caller)."""
    if status == 204 or request.method == "HEAD":
        return None
    if reads is not None and len(body) >= MIN_BYTES:
        project = for_demand(reads)
        value = MISS if project is None else project(body)
        if value is not MISS:
            return value
    # `not body.strip()` without its copy: strip copies a body that ends in a newline
    if not body or body.isspace():
        raise SourceError(
            name, f"{describe(request)}: empty body (HTTP {status}), expected JSON", status=status
        )
    try:
        return jsonsafe.loads(body, depth)
    except jsonsafe.TooDeep as exc:  # a 100,000-deep body: the source failed, its fallback applies
        raise SourceError(name, f"{describe(request)}: {exc}", status=status) from None
    except MemoryError:
        where = describe(request)
        raise SourceError(name, f"{where}: out of memory parsing JSON", status=status) from None
    except ValueError as exc:
        excerpt = body[:EXCERPT_CHARS].decode("utf-8", "replace")
        raise SourceError(
            name, f"{describe(request)}: invalid JSON ({exc})", status=status, excerpt=excerpt
        ) from None
