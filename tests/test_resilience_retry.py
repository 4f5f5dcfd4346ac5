"""Retry policy: idempotent calls only, on transport errors and 408/429/502/503/504, with
backoff and Retry-After, never past the deadline."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import httpx
import pytest
import respx

from sff import Backend, Fallback, Function, Retry, SourceError
from sff.resilience import Deadline, Retryable, retry_after_seconds, with_retries

BASE = "http://api.test"
api = Backend("api", default=BASE, retry=Retry(retries=2, backoff=0.001))


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


async def source_error(fn: Function, **kw: object) -> SourceError:
    with pytest.raises(SourceError) as caught:
        await fn.invoke(**kw)  # type: ignore[arg-type]
    return caught.value


async def test_503_503_200_succeeds_on_the_third_attempt(mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/todos").mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json=[1])]
    )
    fn = Function("f", sources={"todos": api.get("/todos")})
    result = await fn.invoke()
    assert result.data == {"todos": [1]}
    assert (result.meta.sources["todos"].attempts, result.meta.sources["todos"].status) == (3, 200)


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
async def test_listed_statuses_are_retried(mock: respx.MockRouter, status: int) -> None:
    route = mock.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(status), httpx.Response(200, json=1)]
    )
    result = await Function("f", sources={"x": api.get("/x")}).invoke()
    assert route.call_count == 2 and result.meta.sources["x"].attempts == 2


@pytest.mark.parametrize("status", [400, 404, 500, 501])
async def test_other_statuses_are_not_retried(mock: respx.MockRouter, status: int) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(status))
    error = await source_error(Function("f", sources={"x": api.get("/x")}))
    assert route.call_count == 1 and error.upstream_status == status


async def test_transport_errors_are_retried(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=1)]
    )
    result = await Function("f", sources={"x": api.get("/x")}).invoke()
    assert route.call_count == 2 and result.data == {"x": 1}


async def test_retries_stop_after_the_policy_and_count_every_attempt(
    mock: respx.MockRouter,
) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    fn = Function("f", sources={"x": api.get("/x", fallback=Fallback.value(0))})
    result = await fn.invoke()
    assert route.call_count == 3 and result.meta.sources["x"].attempts == 3


async def test_a_source_can_override_the_backend_policy(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(503))
    await source_error(Function("f", sources={"x": api.get("/x", retry=Retry.none())}))
    assert route.call_count == 1


async def test_a_post_that_times_out_without_an_idempotency_key_is_sent_once(
    mock: respx.MockRouter,
) -> None:
    route = mock.post(f"{BASE}/orders").mock(side_effect=httpx.ReadTimeout("slow"))
    fn = Function("f", sources={"order": api.post("/orders", body={"n": 1})})
    error = await source_error(fn)
    assert route.call_count == 1
    assert "timed out" in error.cause


async def test_a_post_with_an_idempotency_key_is_retried_and_sends_the_key(
    mock: respx.MockRouter,
) -> None:
    route = mock.post(f"{BASE}/orders").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201, json={"id": 7})]
    )
    source = api.post("/orders", body={"n": 1}, idempotency_key="input.order_key")
    result = await Function("f", sources={"order": source}).invoke({"order_key": "k-42"})
    assert route.call_count == 2 and result.data == {"order": {"id": 7}}
    assert {c.request.headers["idempotency-key"] for c in route.calls} == {"k-42"}


async def test_a_retry_after_past_the_deadline_is_not_slept(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(
        return_value=httpx.Response(503, headers={"retry-after": "99999"})
    )
    fn = Function("f", sources={"x": api.get("/x", fallback=Fallback.value(0))}, timeout=2)
    started = time.monotonic()
    result = await fn.invoke()
    assert time.monotonic() - started < 1.0
    assert route.call_count == 1 and result.meta.sources["x"].degraded == "value"


async def test_a_short_retry_after_is_honoured(mock: respx.MockRouter) -> None:
    route = mock.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "0.3"}),
            httpx.Response(200, json=1),
        ]
    )
    started = time.monotonic()
    await Function("f", sources={"x": api.get("/x")}).invoke()
    assert route.call_count == 2 and time.monotonic() - started >= 0.3


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-5") is None
    assert retry_after_seconds(None) is None


async def test_backoff_never_sleeps_past_the_deadline() -> None:
    slow = Retry(retries=5, backoff=10, max_backoff=10)
    attempts: list[int] = []

    async def attempt(_: float) -> int:
        raise Retryable("x", "HTTP 503", status=503)

    started = time.monotonic()
    with pytest.raises(Retryable):
        await with_retries(slow, Deadline.after(0.5), attempt, attempts.append)
    assert time.monotonic() - started < 0.5
    assert attempts[0] == 1


async def test_each_attempt_gets_only_the_time_left() -> None:
    given: list[float] = []

    async def attempt(time_left: float) -> int:
        given.append(time_left)
        return 1

    await with_retries(None, Deadline.after(0.25), attempt, lambda _: None)
    assert 0 < given[0] <= 0.25
