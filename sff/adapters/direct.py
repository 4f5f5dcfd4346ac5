"""Direct invocation: the event is the input itself (a dict, a JSON string or bytes).

The answer is ``{statusCode, headers, body}``, the same envelope as the HTTP adapters.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sff.adapters import _settings, runtime
from sff.adapters._context import new_request_id, platform_request_id, platform_timeout
from sff.adapters._detect import parse as parse_event
from sff.adapters._http import HttpResponse
from sff.adapters._serve import error_response, log, respond
from sff.errors import SffError

if TYPE_CHECKING:
    from sff.function import Function

__all__ = ["handle", "handle_event", "parse_event", "remaining_seconds"]


def remaining_seconds(context: Any) -> float | None:
    """The platform's time left, when its context says (Lambda or Function Compute)."""
    return platform_timeout(context, time.monotonic())


def handle(fn: Function, event: Any, context: Any) -> dict[str, Any]:
    try:
        data = parse_event(event)
    except SffError as exc:
        return error(exc, context)
    return handle_event(fn, data, context)


def handle_event(fn: Function, data: Any, context: Any) -> dict[str, Any]:
    """Invoke with an already parsed event as the input."""
    entered = time.monotonic()
    started = time.perf_counter()
    request_id = platform_request_id(context) or new_request_id()
    timeout = platform_timeout(context, entered)
    margin = _settings.current().deadline_margin_s
    response = runtime.run(
        lambda client: respond(fn, data, None, request_id, timeout, client, margin=margin)
    )
    log(fn.name, "invoke", response, started)
    return envelope(response)


def error(exc: SffError, context: Any) -> dict[str, Any]:
    """The answer to an event that never became an invocation."""
    response = error_response(exc, platform_request_id(context) or new_request_id())
    log("-", "invoke", response, time.perf_counter())
    return envelope(response)


def envelope(response: HttpResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "body": response.body.decode("utf-8", "replace"),
    }
