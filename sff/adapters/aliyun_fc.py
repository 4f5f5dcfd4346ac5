"""Alibaba Cloud Function Compute 3.0: the HTTP trigger, plain event invocation, and the
instance lifecycle hooks.

Handler: ``index.handler`` where ``handler = dashboard.handler``. FC hands the event over
as bytes; an HTTP-trigger event (``version: "v1"``) has a URL-encoded ``rawPath`` and
comma-joined repeated headers and query values, kept as the strings they arrive as.

Resident mode on FC: name the hooks in s.yaml (``instanceLifecycleConfig``)::

    initializer: {handler: index.initializer}   # index.py: from sff.adapters.aliyun_fc
    preStop: {handler: index.pre_stop}           #   import initializer, pre_stop
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sff.adapters import runtime
from sff.adapters._context import platform_request_id, platform_timeout
from sff.adapters._http import (
    HttpRequest,
    HttpResponse,
    decode_body,
    header_map,
    mapping,
    text,
)
from sff.adapters._route import routed
from sff.adapters._serve import handle_sync
from sff.adapters._settings import Settings

if TYPE_CHECKING:
    from sff.function import Function


def handle_event(fn: Function, event: dict[str, Any], context: Any) -> dict[str, Any]:
    entered = time.monotonic()
    response = handle_sync(
        fn,
        lambda settings: routed(fn, to_request(event, settings), raw_path(event)),
        timeout=platform_timeout(context, entered),
        request_id=platform_request_id(context),
    )
    return to_response(response)


def to_request(event: dict[str, Any], settings: Settings) -> HttpRequest:
    context = mapping(event, "requestContext")
    query: list[tuple[str, str]] = []
    for key, value in mapping(event, "queryParameters").items():
        for one in value if isinstance(value, list) else [value]:
            query.append((str(key), str(one)))
    return HttpRequest(
        method=text(mapping(context, "http"), "method").upper(),
        path=unquote(str(event.get("rawPath") or "/")),
        query=query,
        headers=header_map(mapping(event, "headers").items()),
        body=decode_body(
            event.get("body"), event.get("isBase64Encoded") is True, settings.max_body_bytes
        ),
        request_id=context.get("requestId"),
    )


def raw_path(event: dict[str, Any]) -> str:
    """The HTTP trigger's path as it arrived (URL-encoded): it routes nothing itself."""
    return str(event.get("rawPath") or "/")


def to_response(response: HttpResponse) -> dict[str, Any]:
    body, is_base64 = response.text_body()
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "isBase64Encoded": is_base64,
        "body": body,
    }


def initializer(context: Any = None) -> None:
    """FC's instance initializer: turn resident mode on and warm the loop and client pool."""
    runtime.start()


def pre_stop(context: Any = None) -> None:
    """FC's PreStop hook: close the shared client and loop before the instance goes."""
    runtime.stop()
