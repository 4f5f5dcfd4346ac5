"""Google Cloud Functions (and Cloud Run functions) through functions-framework.

``main.py``::

    from functions.dashboard import dashboard
    from sff.adapters.gcp import entry

    dashboard_http = entry(dashboard)   # deploy with --entry-point dashboard_http

The entry point takes the Flask request and returns a ``(body, status, headers)`` tuple,
which Flask turns into its response; nothing here imports Flask.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sff.adapters._http import HttpRequest, header_map, too_large
from sff.adapters._route import routed
from sff.adapters._serve import handle_sync
from sff.adapters._settings import Settings

if TYPE_CHECKING:
    from sff.function import Function

FlaskAnswer = tuple[bytes, int, dict[str, str]]
ID_HEADERS = ("function-execution-id", "x-request-id")


def entry(fn: Function) -> Callable[[Any], FlaskAnswer]:
    """A functions-framework HTTP entry point serving `fn`."""

    def serve(request: Any) -> FlaskAnswer:
        response = handle_sync(
            fn,
            lambda settings: routed(
                fn, to_request(request, settings), raw_path(request), root_ok=True
            ),
            timeout=platform_timeout(),
            request_id=None,
        )
        return response.body, response.status, response.headers

    serve.__name__ = serve.__qualname__ = f"{fn.name}_http"
    serve.__doc__ = f"functions-framework entry point for sff function {fn.name!r}"
    return serve


def to_request(request: Any, settings: Settings) -> HttpRequest:
    """A Flask/Werkzeug request as a platform-neutral one, reading at most the body cap."""
    headers = header_map(request.headers.items())
    limit = settings.max_body_bytes
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(declared, limit)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise too_large(len(body), limit)
    request_id = next((headers[h] for h in ID_HEADERS if h in headers), None)
    return HttpRequest(
        method=str(request.method).upper(),
        path=str(request.path),
        query=[(str(k), str(v)) for k, v in request.args.items(multi=True)],
        headers=headers,
        body=body,
        request_id=request_id,
    )


def raw_path(request: Any) -> str:
    """The path as sent, still percent-encoded when the server says (``RAW_URI``)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw.split("?", 1)[0]
    return str(request.path)


def platform_timeout() -> float | None:
    """1st gen runtimes state the function timeout in the environment; later ones do not."""
    raw = os.environ.get("FUNCTION_TIMEOUT_SEC", "")
    return float(raw) if raw.isdigit() and int(raw) > 0 else None


__all__ = ["entry"]
