"""Errors that only the HTTP edge can raise: a request that never became an invocation."""

from __future__ import annotations

from sff.errors import InputError, InvocationError


class BadRequest(InputError):
    """The request itself is malformed: bad base64, bad JSON body, a CR/LF in a header."""

    code = "bad_request"


class UnsupportedEvent(InputError):
    """An event that is neither an HTTP request nor an input (SQS, EventBridge, ...)."""

    code = "unsupported_event"


class PayloadTooLarge(InvocationError):
    code = "payload_too_large"
    status = 413


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
