"""Errors that only the HTTP edge can raise: a request that never became an invocation."""

from __future__ import annotations

from sff.errors import InputError, InvocationError
from sff.inbound import BadRequest, PayloadTooLarge

__all__ = [
    "BadRequest",
    "InternalError",
    "MethodNotAllowed",
    "NotFound",
    "OriginNotAllowed",
    "PayloadTooLarge",
    "UnsupportedEvent",
]


class UnsupportedEvent(InputError):
    """An event that is neither an HTTP request nor an input (SQS, EventBridge, ...)."""

    code = "unsupported_event"


class NotFound(InvocationError):
    code = "not_found"
    status = 404


class MethodNotAllowed(InvocationError):
    code = "method_not_allowed"
    status = 405


class OriginNotAllowed(InvocationError):
    code = "origin_not_allowed"
    status = 403


class InternalError(InvocationError):
    """A defect inside sff or a user's code path that raised something unexpected."""

    code = "internal"
