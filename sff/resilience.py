"""Retry decisions, always inside the invocation deadline. The only tenacity user.

Only idempotent calls are retried, only on transport errors and the policy's statuses,
with jittered exponential backoff; a `Retry-After` is honoured but never past the deadline.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from sff.errors import SourceError
from sff.spec import Retry

T = TypeVar("T")


@dataclass
class Deadline:
    """A point on the monotonic clock by which the invocation must answer."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


class Retryable(SourceError):
    """A failed attempt that the policy may try again (transport error or listed status)."""

    def __init__(
        self,
        source: str,
        cause: str,
        *,
        status: int | None = None,
        excerpt: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(source, cause, status=status, excerpt=excerpt)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def with_retries(
    policy: Retry | None,
    deadline: Deadline,
    attempt: Callable[[float], Awaitable[T]],
    on_attempt: Callable[[int], None],
) -> T:
    """Call ``attempt(time_left)`` until it succeeds, the policy gives up, or time runs out.

    ``attempt`` raises `Retryable` for failures worth another try; anything else ends it.
    """
    retries = policy.retries if policy else 0
    backoff = wait_random_exponential(
        multiplier=policy.backoff if policy else 0, max=policy.max_backoff if policy else 0
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc.retry_after) if isinstance(exc, Retryable) else None
        pause = hinted if hinted is not None else backoff(state)
        if pause >= deadline.remaining():
            raise exc if exc else SourceError("?", "deadline")  # no time left to wait
        return pause

    retrying = AsyncRetrying(
        stop=stop_after_attempt(1 + retries),
        wait=wait,
        retry=retry_if_exception(lambda e: isinstance(e, Retryable) and deadline.remaining() > 0),
        reraise=True,
    )
    async for state in retrying:
        with state:
            on_attempt(state.retry_state.attempt_number)
            return await attempt(deadline.remaining())
    raise AssertionError("unreachable: tenacity either returns or reraises")
