"""A retried request keeps each attempt's span in its source's meta (issue 13): start and
end offsets on the invocation's clock, the status, and the failed attempts' causes.
Against the demo backend on loopback (``_fail=N`` answers 503 to the first N requests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo.backend import serve_in_thread
from sff import Backend, Function, Retry, SffError


@pytest.fixture
def api() -> Iterator[Backend]:
    with serve_in_thread() as url:
        yield Backend("api", default=url, retry=Retry(retries=3, backoff=0.01))


async def test_each_attempt_of_a_retried_source_is_a_span_in_order(api: Backend) -> None:
    fn = Function("f", sources={
        "user": api.get("/users/1", query={"_fail": "`2`", "_key": "'spans-a'"}),
        "todos": api.get("/todos", query={"limit": "`2`"}),
    })  # fmt: skip
    result = await fn.invoke()
    user, todos = result.meta.sources["user"], result.meta.sources["todos"]
    assert user.attempts == 3 and user.spans is not None and len(user.spans) == 3
    assert [s.get("status") for s in user.spans] == [503, 503, 200]
    assert all("HTTP 503" in s["error"] for s in user.spans[:2]) and "error" not in user.spans[2]
    assert user.start_ms is not None and user.end_ms is not None
    bounds = [user.start_ms, *(t for s in user.spans for t in (s["start_ms"], s["end_ms"]))]
    assert bounds == sorted(bounds) and bounds[-1] <= user.end_ms  # in order, inside the source
    assert todos.spans is None and "spans" not in todos.to_dict()  # one attempt: no spans
    assert result.meta.to_dict()["sources"]["user"]["spans"] == user.spans


async def test_a_source_that_gives_up_keeps_every_attempt(api: Backend) -> None:
    fn = Function("f", sources={
        "user": api.get("/users/1", query={"_fail": "`9`", "_key": "'spans-b'"},
                        retry=Retry(retries=1, backoff=0.01)),
    })  # fmt: skip
    with pytest.raises(SffError) as caught:
        await fn.invoke()
    meta = caught.value.meta  # the meta of a failed invocation travels on its error
    assert caught.value.code == "source_failed" and meta is not None
    spans = meta.sources["user"].spans
    assert spans is not None and [s.get("status") for s in spans] == [503, 503]
