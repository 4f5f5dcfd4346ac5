"""What a platform's context object says about the invocation: its id and time left.

Lambda: ``aws_request_id`` and ``get_remaining_time_in_millis()``. Function Compute 3.0:
``request_id`` and ``function.timeout`` (seconds); its deadline is the start plus the
timeout, so the time left is counted from when the handler was entered.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

SAFE_ID = re.compile(r"[A-Za-z0-9._:=/+-]{1,200}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: Any) -> str | None:
    """An id fit to log and to forward in ``x-request-id``; anything else is dropped."""
    return value if isinstance(value, str) and SAFE_ID.fullmatch(value) else None


def platform_request_id(context: Any) -> str | None:
    for name in ("aws_request_id", "request_id"):
        found = clean_request_id(getattr(context, name, None))
        if found:
            return found
    return None


def platform_timeout(context: Any, entered: float) -> float | None:
    """Seconds left for this invocation, or None when the context does not say.

    ``entered`` is `time.monotonic()` when the handler was entered."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        millis = remaining()
        if isinstance(millis, int | float) and not isinstance(millis, bool):
            return max(0.0, millis / 1000)
    limit = getattr(getattr(context, "function", None), "timeout", None)
    if isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0:
        return max(0.0, limit - (time.monotonic() - entered))
    return None
