"""AWS Lambda behind API Gateway REST (v1 proxy), HTTP API (v2), a Function URL or an ALB.

Handler string: ``functions.dashboard.handler`` where ``handler = dashboard.handler``.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

from sff.adapters._context import platform_request_id, platform_timeout
from sff.adapters._http import (
    HttpRequest,
    HttpResponse,
    decode_body,
    header_map,
    mapping,
    pairs_of,
    strings,
    text,
)
from sff.adapters._route import routed
from sff.adapters._serve import handle_sync
from sff.adapters._settings import Settings
from sff.routes import PARAM

if TYPE_CHECKING:
    from sff.function import Function


def handle_event(fn: Function, event: dict[str, Any], context: Any) -> dict[str, Any]:
    entered = time.monotonic()
    kind = kind_of(event)
    response = handle_sync(
        fn,
        lambda settings: route(fn, kind, event, to_request(kind, event, settings)),
        timeout=platform_timeout(context, entered),
        request_id=platform_request_id(context),
    )
    return to_response(kind, event, response)


def kind_of(event: dict[str, Any]) -> str:
    context = event["requestContext"]
    return "alb" if "elb" in context else "v2" if "http" in context else "v1"


def to_request(kind: str, event: dict[str, Any], settings: Settings) -> HttpRequest:
    alb = kind == "alb"
    request = v2_request(event) if kind == "v2" else v1_request(event, url_encoded=alb)
    request.body = decode_body(
        event.get("body"), event.get("isBase64Encoded") is True, settings.max_body_bytes
    )
    request.request_id = mapping(event, "requestContext").get("requestId")
    return request


def route(fn: Function, kind: str, event: dict[str, Any], request: HttpRequest) -> HttpRequest:
    """API Gateway routes (and fills ``pathParameters``) itself; a Function URL, an HTTP
    API ``$default`` route, a ``{proxy+}`` route and an ALB do not, so sff does."""
    if kind == "alb":
        return routed(fn, request, request.path)
    context = mapping(event, "requestContext")
    key = str(context.get("routeKey", "$default") if kind == "v2" else event.get("resource"))
    filled = bool(request.path_params) and set(PARAM.findall(fn.route)) <= set(request.path_params)
    if filled or (key != "$default" and "{proxy+}" not in key):
        return request
    path = str(event.get("rawPath") or "/") if kind == "v2" else request.path
    return routed(fn, request, path)


def v2_request(event: dict[str, Any]) -> HttpRequest:
    http = mapping(mapping(event, "requestContext"), "http")
    raw_query = event.get("rawQueryString") or ""
    query = (
        parse_qsl(raw_query, keep_blank_values=True)
        if isinstance(raw_query, str) and raw_query
        else list(mapping(event, "queryStringParameters").items())
    )
    headers = header_map(mapping(event, "headers").items())
    cookies = event.get("cookies")
    if isinstance(cookies, list) and cookies:  # v2 moves Cookie out of the headers
        headers.update(header_map([("cookie", "; ".join(map(str, cookies)))]))
    return HttpRequest(
        method=text(http, "method").upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        query=[(str(k), str(v)) for k, v in query],
        headers=headers,
        path_params=strings(mapping(event, "pathParameters")),
    )


def v1_request(event: dict[str, Any], *, url_encoded: bool) -> HttpRequest:
    pairs = pairs_of(
        mapping(event, "queryStringParameters"), mapping(event, "multiValueQueryStringParameters")
    )
    # An ALB passes the query on as it came, still percent-encoded.
    decode = unquote_plus if url_encoded else str
    return HttpRequest(
        method=text(event, "httpMethod").upper(),
        path=str(event.get("path") or "/"),
        query=[(decode(str(k)), decode(str(v))) for k, v in pairs],
        headers=header_map(
            pairs_of(mapping(event, "headers"), mapping(event, "multiValueHeaders"))
        ),
        path_params=strings(mapping(event, "pathParameters")),
    )


def to_response(kind: str, event: dict[str, Any], response: HttpResponse) -> dict[str, Any]:
    body, is_base64 = response.text_body()
    answer: dict[str, Any] = {"statusCode": response.status}
    if kind == "alb":
        answer["statusDescription"] = status_line(response.status)
    if kind == "alb" and "multiValueHeaders" in event:  # the target group has them enabled
        answer["multiValueHeaders"] = {k: [v] for k, v in response.headers.items()}
    else:
        answer["headers"] = response.headers
    answer["body"] = body
    answer["isBase64Encoded"] = is_base64
    return answer


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)
