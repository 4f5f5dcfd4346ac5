"""Identical GETs in flight shared across concurrent invocations of one resident instance,
over real loopback HTTP: one backend request per identity, never one across identities."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from sff import Backend, Function, Retry
from sff.adapters import _settings, runtime
from sff.cache import MemoryStore
from tests.scripted_http import Reply, Script, Seen, serve

EVENTS = Path(__file__).parent / "events"


class Gate:
    """A backend answer held until released, echoing the caller's credentials."""

    def __init__(self) -> None:
        self.open = threading.Event()

    def __call__(self, seen: Seen) -> Reply:
        self.open.wait(10)
        who = seen.headers.get("authorization", "-")
        return Reply(200, json.dumps({"who": who, "path": seen.path}).encode())


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def base(script: Script) -> Iterator[str]:
    with serve(script) as url:
        yield url


@pytest.fixture
async def lent() -> AsyncIterator[httpx.AsyncClient]:
    """A client lent to every invocation, as a resident instance lends its warm one."""
    async with httpx.AsyncClient() as client:
        yield client


def board(base: str, **source: Any) -> Function:
    api = Backend("api", default=base, retry=Retry.none(), forward_headers=("authorization",))
    return Function("board", sources={"me": api.get("/me", **source)}, shape="me")


async def until(check: Any) -> None:
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_a_second_invocation_joins_the_get_in_flight(
    script: Script, base: str, lent: httpx.AsyncClient
) -> None:
    gate = Gate()
    script.on("/me", gate)
    fn = board(base)
    auth = {"authorization": "Bearer A"}
    first = asyncio.ensure_future(fn.invoke(headers=auth, client=lent, request_id="r1"))
    await until(lambda: script.count("/me") == 1)  # the first GET is at the backend
    second = asyncio.ensure_future(fn.invoke(headers=auth, client=lent, request_id="r2"))
    await asyncio.sleep(0.05)
    gate.open.set()
    one, two = await asyncio.gather(first, second)
    assert one.data == two.data == {"who": "Bearer A", "path": "/me"}
    assert script.count("/me") == 1
    assert one.meta.sources["me"].attempts == 1
    assert two.meta.sources["me"].attempts == 0 and two.meta.sources["me"].status == 200


async def test_never_across_identities(script: Script, base: str, lent: httpx.AsyncClient) -> None:
    gate = Gate()
    script.on("/me", gate)
    fn = board(base)
    a = asyncio.ensure_future(fn.invoke(headers={"authorization": "Bearer A"}, client=lent))
    await until(lambda: script.count("/me") == 1)
    b = asyncio.ensure_future(fn.invoke(headers={"authorization": "Bearer B"}, client=lent))
    await until(lambda: script.count("/me") == 2)
    gate.open.set()
    ra, rb = await asyncio.gather(a, b)
    assert ra.data["who"] == "Bearer A" and rb.data["who"] == "Bearer B"


async def test_a_declared_identity_separates_requests_that_look_alike(
    script: Script, base: str, lent: httpx.AsyncClient
) -> None:
    gate = Gate()
    script.on("/me", gate)
    fn = board(base, identity='headers."x-user"')
    store = MemoryStore()
    a = asyncio.ensure_future(fn.invoke(headers={"x-user": "ada"}, client=lent, cache=store))
    await until(lambda: script.count("/me") == 1)
    b = asyncio.ensure_future(fn.invoke(headers={"x-user": "bo"}, client=lent, cache=store))
    await until(lambda: script.count("/me") == 2)  # same bytes on the wire, still two
    gate.open.set()
    await asyncio.gather(a, b)


async def test_a_personal_source_without_identity_is_never_shared(
    script: Script, base: str, lent: httpx.AsyncClient
) -> None:
    gate = Gate()
    script.on("/me", gate)
    fn = board(base, personal=True)
    a = asyncio.ensure_future(fn.invoke(client=lent))
    await until(lambda: script.count("/me") == 1)
    b = asyncio.ensure_future(fn.invoke(client=lent))
    await until(lambda: script.count("/me") == 2)
    gate.open.set()
    await asyncio.gather(a, b)


async def test_use_and_destroy_invocations_share_nothing(script: Script, base: str) -> None:
    gate = Gate()
    script.on("/me", gate)
    fn = board(base)
    a = asyncio.ensure_future(fn.invoke())
    await until(lambda: script.count("/me") == 1)
    b = asyncio.ensure_future(fn.invoke())
    await until(lambda: script.count("/me") == 2)
    gate.open.set()
    await asyncio.gather(a, b)


async def test_a_joiner_sends_its_own_when_the_sender_gives_up(
    script: Script, base: str, lent: httpx.AsyncClient
) -> None:
    gate = Gate()
    script.on("/me", gate)
    api = Backend("api", default=base, retry=Retry.none())
    impatient = Function("board", sources={"me": api.get("/me")}, timeout=0.3)
    patient = Function("board", sources={"me": api.get("/me")}, timeout=10)
    first = asyncio.ensure_future(impatient.invoke(client=lent))
    await until(lambda: script.count("/me") == 1)
    second = asyncio.ensure_future(patient.invoke(client=lent))
    with pytest.raises(Exception) as caught:
        await first  # its deadline cancels the GET it was sending
    assert getattr(caught.value, "status", None) == 504
    await until(lambda: script.count("/me") == 2)  # the joiner sent its own
    gate.open.set()
    assert (await second).data == {"me": {"who": "-", "path": "/me"}}


def lambda_event(token: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "aws_apiGatewayProxyV2Event_GET.json").read_text())
    event.pop("cookies")
    event["headers"] = {"authorization": f"Bearer {token}"}
    return event


def test_64_concurrent_resident_requests_two_identities(script: Script, base: str) -> None:
    gate = Gate()
    script.on("/me", gate)
    fn = board(base)
    _settings.configure(resident=True)
    try:
        with ThreadPoolExecutor(64) as pool:
            tokens = ["A" if i % 2 else "B" for i in range(64)]
            calls = [pool.submit(fn.handler, lambda_event(t), None) for t in tokens]
            while script.count("/me") < 2:  # one GET per identity is at the backend
                time.sleep(0.01)
            time.sleep(0.5)  # the others join them meanwhile
            gate.open.set()
            answers = [json.loads(c.result(timeout=30)["body"]) for c in calls]
    finally:
        _settings.reset()
        runtime.stop()
    assert [a["who"] for a in answers] == [f"Bearer {t}" for t in tokens]  # never crossed
    sent = [s.headers["authorization"] for s in script.seen]
    assert sorted(set(sent)) == ["Bearer A", "Bearer B"]
    assert len(sent) <= 16, f"{len(sent)} backend requests for 64 identical page requests"


async def test_a_joiner_gets_a_copy_of_its_own(
    script: Script, base: str, lent: httpx.AsyncClient
) -> None:
    gate = Gate()
    script.on("/me", gate)
    fn = board(base)
    first = asyncio.ensure_future(fn.invoke(client=lent))
    await until(lambda: script.count("/me") == 1)
    second = asyncio.ensure_future(fn.invoke(client=lent))
    await asyncio.sleep(0.05)
    gate.open.set()
    one, two = await asyncio.gather(first, second)
    assert script.count("/me") == 1
    one.data["who"] = "mutated"
    assert two.data["who"] == "-"


async def test_within_an_invocation_a_sharer_sends_its_own_when_the_sender_is_cancelled(
    script: Script, base: str
) -> None:
    """Two sources of one invocation make the same GET; the one sending it is cancelled
    (its task only): the other is not left cancelled, it sends its own and answers."""
    from sff.http.fetch import HttpFetcher
    from sff.resilience import Deadline
    from sff.result import SourceMeta

    gate = Gate()
    script.on("/me", gate)
    api = Backend("api", default=base, retry=Retry.none())
    fn = Function("pair", sources={"a": api.get("/me"), "b": api.get("/me")})
    a, b = fn.plan.nodes["a"], fn.plan.nodes["b"]
    deadline = Deadline.after(10)
    context: dict[str, Any] = {"input": {}}
    async with HttpFetcher(fn.plan, None, {}, "rid") as fetcher:
        meta_a, meta_b = SourceMeta("a"), SourceMeta("b")
        sender = asyncio.ensure_future(fetcher.fetch(a, context, meta_a, deadline, None))
        await until(lambda: script.count("/me") == 1)
        sharer = asyncio.ensure_future(fetcher.fetch(b, context, meta_b, deadline, None))
        await asyncio.sleep(0.05)
        assert meta_b.attempts == 0  # it waits for the sender's answer
        sender.cancel()
        await until(lambda: script.count("/me") == 2)  # the sharer sent its own
        gate.open.set()
        assert await sharer == {"who": "-", "path": "/me"}
        assert meta_b.attempts == 1 and meta_b.status == 200
        with pytest.raises(asyncio.CancelledError):
            await sender


async def test_within_an_invocation_a_sharer_is_given_the_senders_answer(
    script: Script, base: str
) -> None:
    from sff.http.fetch import HttpFetcher
    from sff.resilience import Deadline
    from sff.result import SourceMeta

    gate = Gate()
    script.on("/me", gate)
    api = Backend("api", default=base, retry=Retry.none())
    fn = Function("pair", sources={"a": api.get("/me"), "b": api.get("/me")})
    a, b = fn.plan.nodes["a"], fn.plan.nodes["b"]
    deadline = Deadline.after(10)
    context: dict[str, Any] = {"input": {}}
    async with HttpFetcher(fn.plan, None, {}, "rid") as fetcher:
        meta_a, meta_b = SourceMeta("a"), SourceMeta("b")
        sender = asyncio.ensure_future(fetcher.fetch(a, context, meta_a, deadline, None))
        await until(lambda: script.count("/me") == 1)
        sharer = asyncio.ensure_future(fetcher.fetch(b, context, meta_b, deadline, None))
        await asyncio.sleep(0.05)
        gate.open.set()
        assert await sharer == await sender == {"who": "-", "path": "/me"}
        assert script.count("/me") == 1
        assert (meta_a.attempts, meta_b.attempts, meta_b.status) == (1, 0, 200)
