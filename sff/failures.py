"""What a failed source shows its caller, and what it leaves in the log.

A caller gets the source, the upstream status and a cause; what the backend said (its error
body) and the full text of an exception raised by a ``call()`` target go to the log and to
``meta`` only, redacted, because either may echo a credential or a connection string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sff import secrets
from sff.errors import SffError, SourceError

if TYPE_CHECKING:
    from sff.function import Function
    from sff.result import SourceMeta

log = secrets.logger("sff.run")


def call_failed(source: str, exc: Exception, request_id: str) -> SourceError:
    """A ``call()`` target raised: its type for the caller, its full text for the log."""
    kind = type(exc).__name__
    log.warning(
        "sff source=%s raised %s request_id=%s",
        source,
        kind,
        request_id,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id},
    )
    return SourceError(source, f"{kind} raised (the log has its text)")


def noted(src: SourceMeta, error: SffError, request_id: str) -> None:
    """Keep what the backend said in meta and the log, never in the error's body."""
    if not isinstance(error, SourceError) or error.excerpt is None:
        return
    src.excerpt = error.excerpt
    log.info(
        "sff source=%s failed: %s; backend said: %s request_id=%s",
        src.name,
        error.cause,
        error.excerpt,
        request_id,
        extra={"request_id": request_id},
    )


def expose(fn: Function, error: SffError) -> None:
    """Put the backend's (redacted) excerpt in the error body when the function opts in."""
    opted = getattr(fn, "show_backend_errors", False)
    if opted and isinstance(error, SourceError) and error.excerpt is not None:
        error.detail["excerpt"] = error.excerpt
