"""A required source's own 4xx as the invocation's answer: ``propagate=(404, 410)``.

Without it any non-2xx of a required source is a 502 ``source_failed``, so a frontend
cannot tell "no such product" from "the catalog is down". A source declaring
``propagate=`` turns those statuses into the answer's status, with a code of their own
(`CODES`) and a fixed message that never echoes the backend's body. Such a status is an
answer, not an outage: it is not retried and does not count against the circuit breaker.

Only client errors (4xx) can be propagated: a 2xx or 3xx is not a failure, and a 5xx is
exactly what the 502 is for. And only from a required source: a fallback would hide it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sff.errors import DeclarationError, InvocationError

CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    410: "gone",
    411: "length_required",
    412: "precondition_failed",
    413: "content_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    417: "expectation_failed",
    421: "misdirected_request",
    422: "unprocessable_content",
    423: "locked",
    424: "failed_dependency",
    425: "too_early",
    426: "upgrade_required",
    428: "precondition_required",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    451: "unavailable_for_legal_reasons",
}
"""The error code of each status that may be propagated (407 is the proxy's, not ours)."""


def statuses(value: Any) -> frozenset[int]:
    """``propagate=`` as a set of statuses; anything but registered 4xx statuses is a
    declaration error saying which and why."""
    if value is None:
        return frozenset()
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise DeclarationError(f"propagate= must be a tuple of statuses, got {value!r}")
    found = set()
    for status in value:
        if not isinstance(status, int) or isinstance(status, bool):
            raise DeclarationError(f"propagate= lists {status!r}, which is not a status")
        if status not in CODES:
            raise DeclarationError(f"propagate= lists {status}: {_why(status)}")
        found.add(status)
    return frozenset(found)


def _why(status: int) -> str:
    if 200 <= status < 400:
        return f"a {status // 100}xx is not a failure, so there is nothing to propagate"
    if 500 <= status < 600:
        return (
            "a 5xx says the backend is down, which is what the 502 source_failed "
            "answer is for; only a client error (4xx) can be propagated"
        )
    return "not a client error status sff knows (4xx: " + ", ".join(map(str, CODES)) + ")"


class PropagatedError(InvocationError):
    """A required source answered a status it declares ``propagate=``: the answer."""

    code = "propagated"
    status = 400

    def __init__(self, source: str, status: int) -> None:
        words = CODES[status].replace("_", " ")
        super().__init__(
            f"{words}: source {source!r} answered HTTP {status}",
            source=source,
            upstream_status=status,
        )
        self.source = source


_CLASSES: dict[int, type[PropagatedError]] = {}


def error(source: str, status: int) -> PropagatedError:
    """The answer for ``status`` from ``source``: its own code and status (one class per
    status, so code and status stay class attributes as on every `SffError`)."""
    cls = _CLASSES.get(status)
    if cls is None:
        name = "Propagated" + "".join(p.title() for p in CODES[status].split("_"))
        attrs = {"code": CODES[status], "status": status}
        cls = _CLASSES[status] = type(name, (PropagatedError,), attrs)
    return cls(source, status)


def description(source: str, status: int) -> str:
    """For OpenAPI and docs: what such an answer means."""
    return f"`{CODES[status]}`: source {source!r} answered {status} (propagated)"
