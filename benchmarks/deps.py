"""2. Dependencies and `each`: wall time against the critical-path ideal.

A chain of k sources, each waiting for the one before (ideal: k x 50 ms), and `each`
over n items with a concurrency cap c (ideal: ceil(n / c) x 50 ms). Baselines: the
same calls hand-written over one default httpx client (sequential awaits; a semaphore
and ``asyncio.gather``), and raw asyncio streams.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import BaseModel

from benchmarks._backend import DELAY_HEADER, backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave_async, transpose
from benchmarks._raw import RawClient
from sff import Backend, Function

DELAY_MS = 50
HEADERS = {DELAY_HEADER: str(DELAY_MS)}
BENCH = "deps/each"


class Items(BaseModel):
    ids: list[int]


def chain_function(url: str, k: int) -> Function:
    backend = Backend("bench", default=url, headers=HEADERS)
    sources = {"s0": backend.get("/todos/1")}
    for i in range(1, k):  # the step header keeps identical paths distinct requests
        sources[f"s{i}"] = backend.get(f"/todos/{{s{i - 1}.id}}", headers={"x-step": f"'{i}'"})
    return Function(f"chain{k}", sources=sources)


def each_function(url: str, cap: int) -> Function:
    backend = Backend("bench", default=url, headers=HEADERS, max_connections=cap)
    item = backend.get("/users/1", query={"k": "item"}, each="input.ids", concurrency=cap)
    return Function(f"each{cap}", input=Items, sources={"items": item})


def timed(ideal_ms: float, work: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Metrics]]:
    async def sample() -> Metrics:
        gc.collect()  # no collector debt carried over from the variant before
        wall = time.perf_counter()
        await work()
        wall_ms = (time.perf_counter() - wall) * 1000
        return {"wall_ms": wall_ms, "over_ideal": wall_ms / ideal_ms}

    return sample


async def chain_variants(url: str, k: int, reps: int) -> dict[str, list[Metrics]]:
    fn = chain_function(url, k)

    async def by_hand() -> None:
        async with httpx.AsyncClient() as client:
            todo_id = 1
            for i in range(k):
                headers = HEADERS if i == 0 else {**HEADERS, "x-step": str(i)}
                response = await client.get(f"{url}/todos/{todo_id}", headers=headers)
                response.raise_for_status()
                todo_id = response.json()["id"]

    async def raw() -> None:
        client = RawClient(url)
        todo_id = 1
        for i in range(k):
            data = await client.get_json(f"/todos/{todo_id}", {**HEADERS, "x-step": str(i)})
            todo_id = data["id"]
        await client.aclose()

    ideal = k * DELAY_MS
    return await interleave_async(
        reps,
        {
            "sff": timed(ideal, fn.invoke),
            "httpx": timed(ideal, by_hand),
            "raw asyncio": timed(ideal, raw),
        },
    )


async def each_variants(url: str, n: int, cap: int, reps: int) -> dict[str, list[Metrics]]:
    fn = each_function(url, cap)
    ids = list(range(n))

    async def by_hand() -> None:
        gate = asyncio.Semaphore(cap)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=cap)) as client:

            async def one(i: int) -> Any:
                async with gate:
                    response = await client.get(f"{url}/users/1?k={i}", headers=HEADERS)
                    response.raise_for_status()
                    return response.json()

            await asyncio.gather(*(one(i) for i in ids))

    async def raw() -> None:
        gate = asyncio.Semaphore(cap)
        client = RawClient(url)

        async def one(i: int) -> Any:
            async with gate:
                return await client.get_json(f"/users/1?k={i}", HEADERS)

        await asyncio.gather(*(one(i) for i in ids))
        await client.aclose()

    ideal = math.ceil(n / cap) * DELAY_MS
    return await interleave_async(
        reps,
        {
            "sff": timed(ideal, lambda: fn.invoke({"ids": ids})),
            "httpx": timed(ideal, by_hand),
            "raw asyncio": timed(ideal, raw),
        },
    )


def run(settings: Settings) -> Report:
    report = Report()
    chains = settings.sizes([2, 5], [2])
    eaches = [(10, 10)] if settings.smoke else [(10, 10), (100, 10), (100, 100), (1000, 100)]
    with backend_process() as url:
        for k in chains:
            runs = asyncio.run(chain_variants(url, k, settings.reps))
            record(report, f"chain of {k} (ideal {k * DELAY_MS} ms)", runs)
        for n, cap in eaches:
            runs = asyncio.run(each_variants(url, n, cap, settings.reps))
            ideal = math.ceil(n / cap) * DELAY_MS
            record(report, f"each {n} items, cap {cap} (ideal {ideal} ms)", runs)
    return report


def record(report: Report, case: str, runs: dict[str, list[Metrics]]) -> None:
    stats = report.add(BENCH, case, "wall ms", transpose(runs, "wall_ms"), "httpx")
    report.add(BENCH, case, "wall / ideal", transpose(runs, "over_ideal"))
    report.targets.append(
        Target(f"{case}: sff / httpx wall", stats["sff"].median / stats["httpx"].median, 1.0)
    )
