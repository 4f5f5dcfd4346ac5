"""One HTTP request through one Function: input mapping, invocation, errors, CORS, log line.

Every platform adapter ends here, so a request is answered the same way everywhere and
only the envelope (the platform's event and response format) differs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sff import bounded, secrets
from sff.adapters import _cors, _settings, runtime
from sff.adapters._context import clean_request_id, new_request_id
from sff.adapters._errors import BadRequest, InternalError, PayloadTooLarge
from sff.adapters._http import HttpRequest, HttpResponse
from sff.adapters._settings import Settings
from sff.errors import SffError
from sff.result import error_body, response_headers

if TYPE_CHECKING:
    from sff.cache import SafeStore
    from sff.function import Function
    from sff.http.client import AnyClient

logger = secrets.logger("sff.adapters")  # tracebacks may quote secrets: redacted


def handle_sync(
    fn: Function,
    build: Callable[[Settings], HttpRequest],
    *,
    timeout: float | None,
    request_id: str | None,
) -> HttpResponse:
    """Build the request from a platform event and answer it under the process model.

    ``request_id`` is the platform context's; without one the event's id is used."""
    started = time.perf_counter()
    settings = _settings.current()
    try:
        request = build(settings)
    except SffError as exc:
        response = error_response(exc, request_id or new_request_id())
        log(fn.name, "-", response, started)
        return response
    except Exception as exc:  # an event shaped in a way no check foresaw: still an answer
        logger.exception("sff function=%s could not read the event", fn.name)
        malformed = BadRequest(f"malformed event ({type(exc).__name__})")
        response = error_response(malformed, request_id or new_request_id())
        log(fn.name, "-", response, started)
        return response
    request.request_id = request_id or clean_request_id(request.request_id) or new_request_id()
    return runtime.run(lambda client: serve(fn, request, settings, timeout=timeout, client=client))


async def serve(
    fn: Function,
    request: HttpRequest,
    settings: Settings,
    *,
    timeout: float | None = None,
    client: AnyClient | None = None,
    cache: SafeStore | None = None,
) -> HttpResponse:
    started = time.perf_counter()
    request_id = request.request_id or new_request_id()
    try:
        if request.method == "OPTIONS":
            response = _cors.options(fn.method, request, settings)
            response.headers["x-request-id"] = request_id
        else:
            if len(request.body) > fn.max_input_bytes:  # refused before parsing: see Function
                raise over_input_bytes(fn, len(request.body))
            data = await bounded.parsed_input(request)  # a large body: off the loop
            response = await respond(
                fn,
                data,
                request.headers,
                request_id,
                timeout,
                client,
                cache=cache,
                margin=settings.deadline_margin_s,
            )
    except SffError as exc:
        response = error_response(exc, request_id)
    _cors.decorate(response, request, settings)
    log(fn.name, f"{request.method} {request.path}", response, started)
    return response


async def respond(
    fn: Function,
    data: Any,
    headers: Mapping[str, str] | None,
    request_id: str,
    timeout: float | None,
    client: AnyClient | None,
    *,
    cache: SafeStore | None = None,
    margin: float = 0.0,
) -> HttpResponse:
    """Invoke and turn the Result, or the error, into an HTTP answer. Resident instances
    lend their warm client and cache store; use-and-destroy ones lend nothing. Of a
    platform's ``timeout``, ``margin`` seconds are kept back to answer."""
    if cache is None and client is not None:
        cache = runtime.warm_store(fn.plan)
    try:
        result = await fn.invoke(
            data,
            headers=headers,
            timeout=timeout,
            request_id=request_id,
            client=client,
            cache=cache,
            margin=margin if timeout is not None else 0.0,
        )
    except SffError as exc:
        return error_response(exc, request_id)
    except Exception:  # a defect, not the caller's fault: logged, answered without a traceback
        logger.exception("sff function=%s failed request_id=%s", fn.name, request_id)
        return error_response(InternalError("internal error"), request_id)
    from sff.answer import conditional

    return conditional(
        fn.method, headers, HttpResponse(result.status, result.headers(), result.body())
    )


def over_input_bytes(fn: Function, size: int) -> PayloadTooLarge:
    limit = fn.max_input_bytes
    return PayloadTooLarge(
        f"request body of {size} bytes is over max_input_bytes ({limit}) of function {fn.name!r}",
        limit=limit,
    )


def error_response(error: SffError, request_id: str) -> HttpResponse:
    meta = error.meta
    request_id = meta.request_id if meta is not None else request_id
    headers = response_headers(meta)
    headers["x-request-id"] = request_id
    allow = error.detail.get("allow") if error.status == 405 else None
    if isinstance(allow, str):  # a 405 says what would be allowed (RFC 9110)
        headers["allow"] = allow
    return HttpResponse(error.status, headers, error_body(error, request_id))


def log(function: str, what: str, response: HttpResponse, started: float) -> None:
    """One line per answer, carrying the request id (never the query: it may hold keys)."""
    level = logging.WARNING if response.status >= 500 else logging.INFO
    logger.log(
        level,
        "sff function=%s %s status=%d request_id=%s duration_ms=%.1f",
        function,
        what,
        response.status,
        response.headers.get("x-request-id", "-"),
        (time.perf_counter() - started) * 1000,
        extra={"request_id": response.headers.get("x-request-id")},
    )
