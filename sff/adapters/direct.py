"""Direct invocation: the event is the input itself (a dict, a JSON string or bytes)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from sff.errors import InputError, SffError
from sff.result import error_body, response_headers

if TYPE_CHECKING:
    from sff.function import Function


def parse_event(event: Any) -> Any:
    if isinstance(event, bytes | bytearray):
        event = event.decode("utf-8", "replace")
    if isinstance(event, str):
        try:
            return json.loads(event) if event.strip() else {}
        except ValueError as exc:
            raise InputError(f"event is not valid JSON: {exc}", field="(body)") from None
    return event


def remaining_seconds(context: Any) -> float | None:
    """The platform's time left, when its context says (Lambda-style)."""
    get = getattr(context, "get_remaining_time_in_millis", None)
    return get() / 1000 if callable(get) else None


def handle(fn: Function, event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None) or getattr(context, "request_id", None)
    try:
        data = parse_event(event)
        result = asyncio.run(
            fn.invoke(data, timeout=remaining_seconds(context), request_id=request_id)
        )
    except SffError as exc:
        meta = exc.meta
        return {
            "statusCode": exc.status,
            "headers": response_headers(meta),
            "body": error_body(exc, meta.request_id if meta else request_id).decode(),
        }
    return {
        "statusCode": result.status,
        "headers": result.headers(),
        "body": result.body().decode(),
    }
