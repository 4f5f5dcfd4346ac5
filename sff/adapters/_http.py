"""The platform-neutral HTTP request every adapter builds, and how it becomes an input.

Input = query parameters, then a JSON body object, then path parameters (later wins):
the route names the resource, the body carries the payload, the query the options.
A repeated query key becomes a list.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sff.adapters._errors import BadRequest, PayloadTooLarge

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})  # a body here has no defined meaning


@dataclass
class HttpRequest:
    method: str
    path: str = "/"
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None


@dataclass
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


def pairs_of(single: Mapping[str, Any] | None, multi: Mapping[str, Any] | None) -> list[Any]:
    """API Gateway REST / ALB style maps: the multi-value map when given, else the single."""
    if multi:
        return [(k, v) for k, values in multi.items() for v in (values or [])]
    return [(k, v) for k, v in (single or {}).items() if v is not None]


def decode_body(body: Any, base64_encoded: bool, limit: int) -> bytes:
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
    if not request.body.strip():
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/x-www-form-urlencoded":
            text = request.body.decode("utf-8")
            return query_fields(parse_qsl(text, keep_blank_values=True))
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        what = "form data" if kind == "application/x-www-form-urlencoded" else "JSON"
        raise BadRequest(f"body is not valid {what}: {exc}", field="(body)") from None


def mapping(event: dict[str, Any], key: str) -> dict[str, Any]:
    """An object member of an event ({} when absent); any other type is a malformed event."""
    value = event.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"malformed event: {key} is {type(value).__name__}, expected an object")
    return value


def text(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"malformed event: {key} is missing or not a string")
    return value


def strings(params: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in params.items() if v is not None}
