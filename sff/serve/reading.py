"""An ASGI request at the gateway, read into the `HttpRequest` every front shares.

Everything a hostile client could abuse is settled here, before any instance is involved:
a Host outside the allowlist (421), CR/LF/NUL in a header (400), both Content-Length and
Transfer-Encoding (400: two framings are how requests are smuggled past a proxy), a body
over the limit (413) or one that trickles in slower than the body timeout (408).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from sff.errors import InvocationError
from sff.inbound import BODYLESS, BadRequest, HttpRequest, env_max_body, header_map, read_body
from sff.serve.hosts import allows

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
HEAD_LIMIT_BYTES = 16 * 1024  # request line and headers, as the front's h11 buffer


class MisdirectedHost(InvocationError):
    code = "host_not_allowed"
    status = 421


class HeadTooLarge(InvocationError):
    code = "head_too_large"
    status = 431


class BodyTimeout(InvocationError):
    code = "request_timeout"
    status = 408


async def read_request(
    scope: MutableMapping[str, Any],
    receive: Receive,
    *,
    hosts: frozenset[str],
    body_timeout: float,
    limit: int | None = None,
) -> HttpRequest:
    """The request, or the `SffError` that answers it; the body limit is the one every
    front applies (``SFF_MAX_BODY_BYTES``) unless given."""
    size = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
    if size > HEAD_LIMIT_BYTES:  # h11 bounds only a head still arriving, not a whole one
        raise HeadTooLarge(f"the request headers are over the {HEAD_LIMIT_BYTES}-byte limit")
    headers = header_map((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    host = headers.get("host")
    if not allows(hosts, host):
        shown = repr(host[:100]) if host else "(none)"
        raise MisdirectedHost(
            f"this gateway does not answer for Host {shown}; start it with --allow-host "
            "to add a name",
            host=(host or "")[:100],
        )
    if "content-length" in headers and "transfer-encoding" in headers:
        raise BadRequest("a request may carry Content-Length or Transfer-Encoding, not both")
    if not str(scope["path"]).startswith("/"):  # absolute-form or asterisk-form: no proxy here
        raise BadRequest("the request target must be a path starting with /")
    method = str(scope["method"]).upper()
    request = HttpRequest(method, str(scope["path"]), headers=headers)
    query = scope["query_string"].decode("latin-1")
    request.query = parse_qsl(query, keep_blank_values=True, errors="replace")
    if method not in BODYLESS:
        try:
            async with asyncio.timeout(body_timeout):
                request.body = await read_body(receive, headers, limit or env_max_body())
        except TimeoutError:
            raise BodyTimeout(
                f"the request body did not arrive within {body_timeout:g} s"
            ) from None
    return request
