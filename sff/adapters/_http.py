"""Adapter helpers for platform events (JSON objects) on top of `sff.inbound`, the one
request -> input parser every front shares (re-exported here for the adapters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sff.inbound import (
    BadRequest,
    HttpRequest,
    HttpResponse,
    PayloadTooLarge,
    decode_body,
    header_map,
    parse_body,
    query_fields,
    to_input,
    too_large,
)

__all__ = [
    "BadRequest",
    "HttpRequest",
    "HttpResponse",
    "PayloadTooLarge",
    "decode_body",
    "header_map",
    "mapping",
    "pairs_of",
    "parse_body",
    "query_fields",
    "strings",
    "text",
    "to_input",
    "too_large",
]


def pairs_of(single: Mapping[str, Any] | None, multi: Mapping[str, Any] | None) -> list[Any]:
    """API Gateway REST / ALB style maps: the multi-value map when given, else the single."""
    if multi:
        return [(k, v) for k, values in multi.items() for v in (values or [])]
    return [(k, v) for k, v in (single or {}).items() if v is not None]


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
