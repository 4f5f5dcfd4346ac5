"""2. Dependencies and `each`: wall time against the critical-path ideal.

A chain of k sources, each waiting for the one before (ideal: k x 50 ms), and `each`
over n items with a concurrency cap c (ideal: ceil(n / c) x 50 ms). Baselines: the
same calls hand-written over one default httpx client (sequential awaits; a semaphore
and ``asyncio.gather``), over one aiohttp session for `each`, and raw asyncio streams.
`each` also reports this process's CPU per backend request, against raw asyncio's.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
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


def each_function(url: str, cap: int, items: int = 1000) -> Function:
    backend = Backend("bench", default=url, headers=HEADERS, max_connections=cap)
    item = backend.get(
        "/users/1",
        query={"k": "item"},
        each="input.ids",
        concurrency=cap,
        max_items=max(items, 1000),  # the default bound is 1,000 items
    )
    return Function(f"each{cap}", input=Items, sources={"items": item})


def timed(
    ideal_ms: float, requests: int, work: Callable[[], Awaitable[Any]]
) -> Callable[[], Awaitable[Metrics]]:
    async def sample() -> Metrics:
        gc.collect()  # no collector debt carried over from the variant before
        wall, cpu = time.perf_counter(), time.process_time()
        await work()
        wall_ms = (time.perf_counter() - wall) * 1000
        cpu_us = (time.process_time() - cpu) * 1e6 / requests
        return {"wall_ms": wall_ms, "over_ideal": wall_ms / ideal_ms, "cpu_us": cpu_us}

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
            "sff": timed(ideal, k, fn.invoke),
            "httpx": timed(ideal, k, by_hand),
            "raw asyncio": timed(ideal, k, raw),
        },
    )


async def each_variants(
    url: str, n: int, cap: int, reps: int, with_httpx: bool = True
) -> dict[str, list[Metrics]]:
    fn = each_function(url, cap, n)
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

    async def with_aiohttp() -> None:
        gate = asyncio.Semaphore(cap)
        connector = aiohttp.TCPConnector(limit=cap)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(i: int) -> Any:
                async with gate, session.get(f"{url}/users/1?k={i}", headers=HEADERS) as answer:
                    answer.raise_for_status()
                    return await answer.json()

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
    variants = {
        "sff": timed(ideal, n, lambda: fn.invoke({"ids": ids})),
        "httpx": timed(ideal, n, by_hand),
        "aiohttp": timed(ideal, n, with_aiohttp),
        "raw asyncio": timed(ideal, n, raw),
    }
    if not with_httpx:
        del variants["httpx"]
    return await interleave_async(reps, variants)


def run(settings: Settings) -> Report:
    report = Report()
    chains = settings.sizes([2, 5], [2])
    eaches = (
        [(10, 10), (200, 100)]
        if settings.smoke
        else [(10, 10), (100, 10), (100, 100), (1000, 100), (5000, 100)]
    )
    with backend_process() as url:
        for k in chains:
            runs = asyncio.run(chain_variants(url, k, settings.reps))
            record(report, f"chain of {k} (ideal {k * DELAY_MS} ms)", runs)
        for n, cap in eaches:
            # httpx's pool takes ~12 s for 1,000 items and grows faster than linearly:
            # at 5,000 the peers are aiohttp and raw asyncio
            runs = asyncio.run(each_variants(url, n, cap, settings.reps, with_httpx=n < 5000))
            ideal = math.ceil(n / cap) * DELAY_MS
            case = f"each {n} items, cap {cap} (ideal {ideal} ms)"
            record(report, case, runs)
            cpu = report.add(
                BENCH, case, "CPU us/request", transpose(runs, "cpu_us"), "raw asyncio"
            )
            if n >= 1000 or (settings.smoke and n >= 200):
                report.targets.append(
                    Target(
                        f"each {n} items: sff / raw asyncio CPU per request",
                        cpu["sff"].median / cpu["raw asyncio"].median,
                        2.0,
                    )
                )
    return report


def record(report: Report, case: str, runs: dict[str, list[Metrics]]) -> None:
    reference = "httpx" if "httpx" in runs else "aiohttp"
    stats = report.add(BENCH, case, "wall ms", transpose(runs, "wall_ms"), reference)
    report.add(BENCH, case, "wall / ideal", transpose(runs, "over_ideal"))
    for peer in ("httpx", "aiohttp"):
        if peer in stats:
            report.targets.append(
                Target(f"{case}: sff / {peer} wall", stats["sff"].median / stats[peer].median, 1.0)
            )
