"""Each attempt of a retried request, kept on its source's meta so a waterfall (the
``/_sff`` page of `sff serve`) can draw the attempts and the pauses between them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sff.errors import SourceError

if TYPE_CHECKING:
    from sff.result import SourceMeta

Try = tuple[float, float, "int | None", "str | None"]  # began, ended (perf_counter), status, error


def timed(
    attempt: Callable[[float], Awaitable[Any]], src: SourceMeta, tries: list[Try]
) -> Callable[[float], Awaitable[Any]]:
    """``attempt``, noting when each call began and ended, and how (two clock reads)."""

    async def timed_attempt(time_left: float) -> Any:
        began = time.perf_counter()
        try:
            value = await attempt(time_left)
        except SourceError as exc:
            tries.append((began, time.perf_counter(), exc.upstream_status, exc.cause))
            raise
        tries.append((began, time.perf_counter(), src.status, None))
        return value

    return timed_attempt


MAX_SPANS = 20  # per source: an `each` of many retried items keeps the first ones


def attempt_spans(src: SourceMeta, tries: list[Try], origin: float) -> None:
    """Each attempt of a retried request, as invocation offsets (ms), on its source's meta."""
    spans = src.spans if src.spans is not None else []
    for began, ended, status, error in tries[: MAX_SPANS - len(spans)]:
        span: dict[str, Any] = {
            "start_ms": round((began - origin) * 1000, 2),
            "end_ms": round((ended - origin) * 1000, 2),
        }
        if status is not None:
            span["status"] = status
        if error is not None:
            span["error"] = error
        spans.append(span)
    src.spans = spans
