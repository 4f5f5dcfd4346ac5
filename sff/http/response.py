"""What a backend's answer means: a 2xx status and a JSON body, or the source's failure."""

from __future__ import annotations

import json
import sys
from typing import Any

from sff.errors import SourceError
from sff.http._httpx import httpx
from sff.http.lean import LeanRequest
from sff.resilience import Retryable

EXCERPT_CHARS = 200


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # RFC 8259 has no NaN or Infinity


def _finite(text: str, float: type[float] = float) -> float:
    value = float(text)
    if value - value:  # only inf - inf is NaN (truthy); a finite value minus itself is 0.0
        raise ValueError(f"{text[:40]} is out of range for a number")
    return value


# NaN and Infinity from a backend are refused, so they can never be emitted as invalid JSON;
# so is a number that overflows to infinity (1e999). The float hook costs ~1.2x on a 1 MB
# body of 9,000 floats and nothing on one without floats; a regex pre-check to skip it
# scanned slower (3x) than the parse itself.
_DECODER = json.JSONDecoder(parse_constant=_refuse, parse_float=_finite)
Request = httpx.Request | LeanRequest


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


def parse_json(name: str, request: Request, status: int, body: bytes) -> Any:
    if status == 204 or request.method == "HEAD":
        return None
    if not body.strip():
        raise SourceError(
            name, f"{describe(request)}: empty body (HTTP {status}), expected JSON", status=status
        )
    try:
        return _DECODER.decode(body.decode(json.detect_encoding(body)))
    except RecursionError:  # a 100,000-deep body: the source failed, its fallback applies
        raise SourceError(
            name,
            f"{describe(request)}: JSON nested deeper than {sys.getrecursionlimit()} levels",
            status=status,
        ) from None
    except MemoryError:
        raise SourceError(
            name, f"{describe(request)}: out of memory parsing JSON", status=status
        ) from None
    except ValueError as exc:
        excerpt = body[:EXCERPT_CHARS].decode("utf-8", "replace")
        raise SourceError(
            name, f"{describe(request)}: invalid JSON ({exc})", status=status, excerpt=excerpt
        ) from None
