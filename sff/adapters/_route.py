"""Routing on triggers that do none: a Function Compute HTTP trigger, a Lambda Function URL
(or an HTTP API ``$default`` route), an ALB target and a Cloud Functions URL hand every
path to the one function behind them. The function's route is matched here, with the
matcher `sff serve` and the ASGI app use, and its parameters join the input, where the
input model types them (``/products/2`` gives ``product_id=2``)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from sff.adapters._errors import MethodNotAllowed, NotFound
from sff.adapters._http import HttpRequest
from sff.routes import match_route

if TYPE_CHECKING:
    from sff.function import Function


def path_params(fn: Function, raw_path: str, *, root_ok: bool = False) -> dict[str, str]:
    """The route's parameters in ``raw_path`` (still percent-encoded, so an encoded ``/``
    stays inside its segment), decoded; a path off the route is a 404 naming it.

    ``root_ok``: ``/`` also reaches a route without parameters (a Cloud Functions URL
    names the function itself)."""
    params = match_route(fn.route, raw_path or "/")
    if params is not None:
        return {name: unquote(value) for name, value in params.items()}
    if root_ok and raw_path in ("", "/") and "{" not in fn.route:
        return {}
    route = f"{fn.method.upper()} {fn.route}"
    raise NotFound(
        f"no function at {raw_path[:200]}: this function answers {route}", routes=[route]
    )


def check_method(fn: Function, method: str) -> None:
    """Only the function's method (and OPTIONS, for CORS preflights) reaches it; anything
    else is a 405 whose ``allow`` lists both."""
    wanted = fn.method.upper()
    if method not in (wanted, "OPTIONS") and not (method == "HEAD" and wanted == "GET"):
        allow = f"{wanted}, OPTIONS"
        raise MethodNotAllowed(f"{method} is not allowed at {fn.route}: use {wanted}", allow=allow)


def routed(
    fn: Function, request: HttpRequest, raw_path: str, *, root_ok: bool = False
) -> HttpRequest:
    """The request of a trigger that does no routing, checked against the function's
    method and route, with the route's parameters filled in."""
    check_method(fn, request.method)
    request.path_params = path_params(fn, raw_path, root_ok=root_ok)
    return request
