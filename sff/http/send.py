"""One attempt at a source's request, on httpx or on the lean send: same timeouts, caps, errors.

Transport failures and timeouts are `Retryable`; `sff.resilience` decides whether to retry.
"""

from __future__ import annotations

import asyncio

from sff.errors import SourceError
from sff.freshness import HEADERS as CACHING_HEADERS
from sff.http._httpx import httpx
from sff.http.lean import LeanRequest, LeanSender, header
from sff.http.response import describe, judge
from sff.resilience import Retryable
from sff.spec import Backend


async def send_once(
    client: httpx.AsyncClient,
    name: str,
    backend: Backend,
    request: httpx.Request,
    seconds: float,
    retry_statuses: frozenset[int],
) -> tuple[int, bytes, dict[str, str]]:
    where = f"{request.method} {request.url.path}"  # never the query: it may hold keys
    if seconds <= 0:
        raise SourceError(name, f"{where}: no time left before the deadline")
    request.extensions["timeout"] = httpx.Timeout(seconds).as_dict()
    try:
        async with asyncio.timeout(seconds):
            response = await client.send(
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
    status, body = judge(name, request, response.status_code, body, retry_after, retry_statuses)
    caching = {h: response.headers[h] for h in CACHING_HEADERS if h in response.headers}
    return status, body, caching


async def send_lean(
    sender: LeanSender,
    name: str,
    backend: Backend,
    request: LeanRequest,
    seconds: float,
    retry_statuses: frozenset[int],
) -> tuple[int, bytes, dict[str, str]]:
    """`_send_once` for a lean request: the same timeouts, caps and error mapping."""
    if seconds <= 0:
        raise SourceError(name, f"{describe(request)}: no time left before the deadline")
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
    status, body = judge(name, request, status, body, retry_after, retry_statuses)
    found = ((h, header(headers, h.encode())) for h in CACHING_HEADERS)
    return status, body, {h: v for h, v in found if v is not None}


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
