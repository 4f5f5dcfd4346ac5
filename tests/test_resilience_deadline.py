"""The invocation deadline over a real loopback backend: hanging sources are cut off in
time, optional ones fall back, required ones make a 504 before the platform would kill us."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from demo.backend import serve_in_thread
from sff import Backend, DeadlineError, Fallback, Function, Retry
from sff.cache import MemoryStore


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serve_in_thread() as url:
        yield url


def todos(base: str, forward: tuple[str, ...] = ()) -> Backend:
    # A forwarded hang header declared shared does not split the cached copy (a templated
    # or unshared header that differs would key a copy of its own).
    return Backend(
        "todos",
        default=base,
        timeout=30,
        retry=Retry(retries=2, backoff=0.01),
        forward_headers=forward,
        shared_headers=forward,
    )


def dashboard(base: str, **hang_source: object) -> Function:
    api = todos(base)
    return Function(
        "dashboard",
        sources={
            "user": api.get("/users/1"),
            "todos": todos(base, ("x-demo-hang",)).get(
                "/todos",
                query={"userId": "user.id"},
                headers={"x-demo-hang": "input.hang"},
                **hang_source,  # type: ignore[arg-type]
            ),
            "count": api.get("/users/{todos[0].userId}", fallback=Fallback.omit()),
        },
        shape="{name: user.name, todos: todos, owner: count.name}",
        timeout=1,
    )


async def test_a_hanging_source_with_a_fallback_answers_within_the_timeout(base: str) -> None:
    fn = dashboard(base, fallback=Fallback.value([]))
    started = time.monotonic()
    result = await fn.invoke({"hang": "1"})
    elapsed = time.monotonic() - started
    assert elapsed < 1.2
    assert result.data["todos"] == [] and result.data["name"]
    meta = result.meta.sources["todos"]
    assert (meta.outcome, meta.degraded) == ("degraded", "deadline")
    assert "todos;reason=deadline" in result.headers()["x-sff-degraded"]


async def test_a_hanging_required_source_is_a_504_naming_it_in_time(base: str) -> None:
    fn = dashboard(base)
    started = time.monotonic()
    with pytest.raises(DeadlineError) as caught:
        await fn.invoke({"hang": "1"})
    assert time.monotonic() - started < 1.2
    assert caught.value.status == 504
    assert caught.value.detail["unfinished"] == ["todos"]


async def test_the_platform_time_left_shortens_the_deadline(base: str) -> None:
    fn = dashboard(base, fallback=Fallback.value([]))
    started = time.monotonic()
    result = await fn.invoke({"hang": "1"}, timeout=0.4)
    assert time.monotonic() - started < 0.6
    assert result.meta.sources["todos"].outcome == "degraded"


async def test_a_hanging_source_serves_its_cached_copy_at_the_deadline(base: str) -> None:
    fn = dashboard(base, fallback=Fallback.cache(max_stale="1h"))
    store = MemoryStore()
    good = await fn.invoke({}, cache=store)
    started = time.monotonic()
    result = await fn.invoke({}, headers={"x-demo-hang": "1"}, cache=store)
    assert time.monotonic() - started < 1.2
    assert result.data["todos"] == good.data["todos"] != []
    meta = result.meta.sources["todos"]
    assert (meta.degraded, meta.cache) == ("deadline", "stale")
    assert meta.stale_s is not None and meta.stale_s < 60


async def test_a_source_timeout_longer_than_the_deadline_shrinks_to_fit(base: str) -> None:
    fn = Function(
        "f",
        sources={
            "slow": todos(base).get(
                "/users/1", query={"_delay": 5000}, fallback=Fallback.value(None)
            )
        },
        timeout=0.5,
    )
    started = time.monotonic()
    result = await fn.invoke()
    assert time.monotonic() - started < 0.7
    assert result.meta.sources["slow"].outcome == "degraded"


async def test_503_503_200_from_a_real_backend_succeeds_with_3_attempts(base: str) -> None:
    source = todos(base).get("/users/1", query={"_fail": 2, "_key": "'three-attempts'"})
    result = await Function("f", sources={"user": source}).invoke()
    assert result.data["user"]["id"] == 1
    assert (result.meta.sources["user"].attempts, result.meta.sources["user"].status) == (3, 200)


async def test_a_hanging_post_without_idempotency_key_is_sent_once(base: str) -> None:
    source = todos(base).post(
        "/notifications",
        query={"_hang": 1},
        body={"to": "'a'"},
        timeout="200ms",
        fallback=Fallback.omit(),
    )
    result = await Function("f", sources={"sent": source}, timeout=2).invoke()
    meta = result.meta.sources["sent"]
    assert (meta.attempts, meta.outcome) == (1, "degraded") and "timed out" in (meta.error or "")


def test_the_budget_is_the_shorter_of_the_timeout_and_the_time_given_less_the_margin() -> None:
    from sff.resilience import budget_of

    assert budget_of(5, None) == (5, "its timeout (5s)")
    assert budget_of(5, 60, margin=0.5) == (5, "its timeout (5s)")
    budget, why = budget_of(5, 3, margin=0.5)
    assert budget == 2.5 and why.startswith("the platform's remaining time (3s, less the 0.5s")
    assert budget_of(5, 0.2, margin=0.5)[0] == 0.0  # already past: answer at once
    assert budget_of(5, 1) == (1, "the time it was given (1s)")  # a caller's cap, no margin
