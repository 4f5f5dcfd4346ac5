"""Retry decisions, always inside the invocation deadline. The only tenacity user.

Only idempotent calls are retried, only on transport errors and the policy's statuses,
with jittered exponential backoff; a `Retry-After` is honoured, but a pause that would
end past the deadline is never taken: the last failure stands and fallbacks apply.

The first attempt runs before tenacity is involved: most calls succeed at once, and
tenacity's per-call set-up was ~4% of a request's CPU, and its import part of every
cold start. It is imported, and handed the first failure, only when a retry may follow.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from sff._record import record
from sff.errors import SourceError
from sff.spec import Retry

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")

RESERVE_MAX_S = 0.1  # kept back from the budget: half for fallbacks, half for shaping
RESERVE_RATIO = 0.2  # ... or this share of a small budget


@record
class Deadline:
    """Points on the monotonic clock: sources must be done by `at`; fallbacks and pending
    cache writes may use the time up to `end`, which leaves shaping and serialising theirs."""

    at: float
    end: float | None = None
    budget: str = ""  # which budget this is, for the 504: "its timeout (5s)"

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @classmethod
    def for_budget(cls, budget: float, why: str = "") -> Deadline:
        """The deadline of an invocation that must answer within ``budget`` seconds."""
        reserve = min(RESERVE_MAX_S, max(0.0, budget) * RESERVE_RATIO)
        now = time.monotonic()
        return cls(now + max(0.0, budget - reserve), now + max(0.0, budget - reserve / 2), why)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def left_to_answer(self) -> float:
        """Time left for fallbacks and cache writes, past `at` too."""
        return max(0.0, (self.at if self.end is None else self.end) - time.monotonic())


def budget_of(own: float, given: float | None, margin: float = 0.0) -> tuple[float, str]:
    """The invocation's budget and what it is: the function's own timeout, or the time the
    caller gave (a platform's remaining time, less ``margin`` kept back to answer before
    the platform ends the instance), whichever is shorter."""
    if given is None or own <= given - margin:
        return own, f"its timeout ({own:g}s)"
    usable = max(0.0, given - margin)
    if margin:
        return usable, (
            f"the platform's remaining time ({given:.3g}s, less the {margin:g}s kept "
            "to answer before the platform ends the instance)"
        )
    return usable, f"the time it was given ({given:.3g}s)"


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
    """``Retry-After`` as seconds: a number, or an HTTP date (a past date is 0)."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        return number if number >= 0 else None  # also refuses nan
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
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
    A pause (backoff, or the server's `Retry-After`) that would not end before the
    deadline is not taken: the last failure is raised at once.
    """
    on_attempt(1)
    try:
        return await attempt(deadline.remaining())
    except Retryable as exc:
        if policy is None or policy.retries <= 0:
            raise
        first = exc
    return await retried(policy, deadline, attempt, on_attempt, first)


async def retried(
    policy: Retry,
    deadline: Deadline,
    attempt: Callable[[float], Awaitable[T]],
    on_attempt: Callable[[int], None],
    first: Retryable,
) -> T:
    """The attempts after a first failure, paced by tenacity as if it had made them all."""
    from tenacity import AsyncRetrying, retry_if_exception
    from tenacity.wait import wait_random_exponential

    retries = policy.retries
    backoff = wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc.retry_after) if isinstance(exc, Retryable) else None
        return hinted if hinted is not None else float(backoff(state))

    def stop(state: RetryCallState) -> bool:
        """Out of attempts, or the coming pause would not end before the deadline."""
        out = state.attempt_number >= 1 + retries
        return out or (state.upcoming_sleep or 0.0) >= deadline.remaining()

    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(lambda e: isinstance(e, Retryable)),
        reraise=True,
    )
    async for state in retrying:
        with state:
            number = state.retry_state.attempt_number
            if number == 1:
                raise first  # made above already: tenacity only decides what follows it
            on_attempt(number)
            return await attempt(deadline.remaining())
    raise AssertionError("unreachable: tenacity either returns or reraises")
