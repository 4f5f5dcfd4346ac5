"""An HTTP request as every front receives it, and how it becomes a function's input.

ONE parser for every front: the platform adapters (Lambda, Function Compute, GCP), the
ASGI app and the `sff serve` gateway all build an `HttpRequest` and call `to_input`, so a
request is read the same way wherever it arrives.

Input = query parameters, then the body (a JSON object, or a form), then path parameters
(later wins): the route names the resource, the body carries the payload, the query the
options. A repeated query or form key becomes a list. Hostile input is refused, never
passed on: a CR, LF or NUL in a header is a 400 (it could split a header forwarded to a
backend), a body over the size limit a 413, JSON nested deeper than `MAX_JSON_DEPTH` a 400.
Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import field
from typing import Any
from urllib.parse import parse_qsl

from sff import jsonsafe
from sff._record import record
from sff.errors import InputError, InvocationError

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})  # a body here has no defined meaning
FORM = "application/x-www-form-urlencoded"
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
# Deeper than any real payload; far below where json and pydantic would recurse to death.
MAX_JSON_DEPTH = 64


class BadRequest(InputError):
    """The request itself is malformed: bad base64, bad JSON body, a CR/LF in a header."""

    code = "bad_request"


class PayloadTooLarge(InvocationError):
    code = "payload_too_large"
    status = 413


@record
class HttpRequest:
    method: str
    path: str = "/"
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None


@record
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def text_body(self) -> tuple[str, bool]:
        """The body for a JSON-carried response: text, or base64 when it is not UTF-8."""
        try:
            return self.body.decode("utf-8"), False
        except UnicodeDecodeError:
            return base64.b64encode(self.body).decode("ascii"), True


def header_map(pairs: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    """Lower-cased names, repeats joined with ", "; a CR, LF or NUL in a value is a 400
    (it could split a header when the value is forwarded to a backend)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        if raw_value is None:
            continue
        name, value = str(raw_name).lower(), str(raw_value)
        if not TOKEN.fullmatch(name):
            raise BadRequest(f"header name {str(raw_name)[:60]!r} is not valid", header=name[:60])
        if any(c in value for c in "\r\n\0"):
            raise BadRequest(f"header {name!r} contains a CR, LF or NUL character", header=name)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def env_max_body() -> int:
    """The body limit every front applies: ``SFF_MAX_BODY_BYTES``, else 6 MB."""
    raw = os.environ.get("SFF_MAX_BODY_BYTES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_BODY_BYTES


def decode_body(body: Any, base64_encoded: bool, limit: int) -> bytes:
    """A body carried in a JSON event (text, or base64 when so marked), within the limit."""
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadRequest(f"malformed event: body is {type(body).__name__}, expected a string")
    if base64_encoded:
        if len(body) > limit * 4 // 3 + 4:
            raise too_large(len(body) * 3 // 4, limit)
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("body is marked isBase64Encoded but is not valid base64") from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > limit:
        raise too_large(len(raw), limit)
    return raw


def too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body of {size} bytes is over the {limit}-byte limit", limit=limit
    )


def to_input(request: HttpRequest) -> Any:
    fields = query_fields(request.query)
    body = None if request.method in BODYLESS else parse_body(request)
    if body is not None and not isinstance(body, dict):
        if fields or request.path_params:
            raise BadRequest(
                "the JSON body must be an object when the query or path also carries fields",
                field="(body)",
            )
        return body
    fields.update(body or {})
    fields.update(request.path_params)
    return fields


def query_fields(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key not in fields:
            fields[key] = value
        elif isinstance(fields[key], list):
            fields[key].append(value)
        else:
            fields[key] = [fields[key], value]
    return fields


def parse_body(request: HttpRequest) -> Any:
    if not request.body or request.body.isspace():  # strip() would copy the whole body
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == FORM:
            text = request.body.decode("utf-8")
            return query_fields(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
        return jsonsafe.loads(request.body, MAX_JSON_DEPTH, "surrogatepass")
    except jsonsafe.TooDeep:
        raise too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        what = "form data" if kind == FORM else "JSON"
        raise BadRequest(f"body is not valid {what}: {exc}", field="(body)") from None


def too_deep(limit: int = MAX_JSON_DEPTH) -> BadRequest:
    return BadRequest(f"body is nested deeper than {limit} levels", field="(body)", max_depth=limit)


async def read_body(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    headers: dict[str, str],
    limit: int,
) -> bytes:
    """An ASGI request body, refused with a 413 as soon as it is known to be too large
    (from Content-Length, or once the bytes received pass the limit)."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared), limit)
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(size, limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)
