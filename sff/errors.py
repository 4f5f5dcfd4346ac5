"""One error tree for everything sff reports.

::

    SffError                      code            status
    ├── DeclarationError          declaration     500   raised when a function is declared/loaded
    │   ├── ExpressionError       bad_expression  500   a JMESPath syntax error, shown with a caret
    │   └── PlanError             bad_plan        500   unknown name, cycle, misuse of `item`
    └── InvocationError           invocation      500   raised while a function runs
        ├── ConfigError           misconfigured   500   a backend URL variable unset or not http(s)
        ├── InputError            invalid_input   400   the input does not fit the input model
        ├── SourceError           source_failed   502   a required source failed (names it and why)
        ├── DeadlineError         deadline        504   the invocation ran out of time
        └── ContractError         contract_mismatch 502 the shaped data does not fit the contract

Every error carries a stable ``code``, an HTTP ``status`` and a ``detail`` dict that is safe
to show a caller: no traceback, no secret. ``to_dict()`` is the JSON body of an error answer.
An `InvocationError`'s text passes through `sff.secrets.redact` when it is made, so no
secret value the invocation sent or received survives in it; a backend's error body
excerpt is kept apart (``SourceError.excerpt``) for the log and ``meta``, never the body.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SffError(Exception):
    """Base of every error sff raises on purpose."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = {k: v for k, v in detail.items() if v is not None}
        self.meta: Any = None  # the invocation's Meta, when one had started

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.detail}}


class DeclarationError(SffError):
    """A function is declared wrongly; raised at import, reported by `sff check`."""

    code = "declaration"
    location: tuple[str, int] | None = None  # (file, line) of the offending entry


class ExpressionError(DeclarationError):
    code = "bad_expression"

    def __init__(
        self, reason: str, *, function: str, where: str, expression: str, column: int | None
    ) -> None:
        super().__init__(
            f"function {function!r}, {where}: {reason}\n{pointed(expression, column)}",
            function=function,
            where=where,
            expression=expression,
            column=column,
        )


def pointed(expression: str, column: int | None) -> str:
    """The expression with a caret under ``column``; of a multi-line one (a shape), only
    the line the caret is on."""
    if column is None or "\n" not in expression:
        caret = "" if column is None else "\n    " + " " * column + "^"
        return f"    {expression}{caret}"
    start = expression.rfind("\n", 0, column) + 1
    end = expression.find("\n", column)
    line = expression[start : len(expression) if end == -1 else end]
    indent = len(line) - len(line.lstrip())
    return f"    {line.strip()}\n    {' ' * (column - start - indent)}^"


class PlanError(DeclarationError):
    code = "bad_plan"


class InvocationError(SffError):
    code = "invocation"

    # Detail taken from the declaration (expressions, field names): only known secret
    # values are taken out of them, never what merely looks like a secret.
    DECLARED: ClassVar[frozenset[str]] = frozenset(
        {"expression", "where", "function", "field", "contract", "expected", "source"}
    )

    def __init__(self, message: str, **detail: Any) -> None:
        from sff.secrets import redact, redact_data, redact_values

        declared = [v for k, v in detail.items() if k in self.DECLARED and isinstance(v, str)]
        clean = {
            k: redact_values(v) if k in self.DECLARED and isinstance(v, str) else redact_data(v)
            for k, v in detail.items()
        }
        super().__init__(redact(message, keep=declared), **clean)


class ConfigError(InvocationError):
    """The deployment is wrong (a backend's URL variable unset or not an http(s) URL):
    never passed off as an outage, so no fallback stands in for it."""

    code = "misconfigured"
    status = 500


class InputError(InvocationError):
    code = "invalid_input"
    status = 400


class SourceError(InvocationError):
    """A source failed. Required sources turn this into the invocation's answer."""

    code = "source_failed"
    status = 502

    def __init__(
        self, source: str, cause: str, *, status: int | None = None, excerpt: str | None = None
    ) -> None:
        from sff.secrets import redact

        super().__init__(
            f"source {source!r} failed: {cause}", source=source, cause=cause, upstream_status=status
        )
        self.source = source
        self.cause = self.detail["cause"]
        self.upstream_status = status
        # What the backend said: redacted, for the log and meta; a caller sees it only
        # when the function opts in (`Function(show_backend_errors=True)`).
        self.excerpt = None if excerpt is None else redact(excerpt)


class DeadlineError(InvocationError):
    code = "deadline"
    status = 504


class ContractError(InvocationError):
    code = "contract_mismatch"
    status = 502
