"""1. Fan-out: N independent sources against a 50 ms backend.

sff against the obvious hand-written code (``asyncio.gather`` over one default
``httpx.AsyncClient``, or over one ``aiohttp.ClientSession``: the peer a competent
developer picks for fan-out) and against raw asyncio streams (the floor), in two modes:
*fresh* (use-and-destroy: every invocation opens and closes its own client) and *warm*
(one client kept across invocations, as a resident server does).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

from benchmarks._backend import DELAY_HEADER, backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave_async, transpose
from benchmarks._raw import RawClient
from sff import Backend, Function
from sff.http.client import new_client

DELAY_MS = 50
HEADERS = {DELAY_HEADER: str(DELAY_MS)}
BENCH = "fan-out"
CPU_BUDGET_US = 200  # warm: aiohttp + jmespath + pydantic measured 260 us here (issue 18)


def paths(n: int) -> list[str]:
    return [f"/todos/{i + 1}" for i in range(n)]


def sff_function(url: str, n: int) -> Function:
    backend = Backend("bench", default=url, headers=HEADERS)
    return Function(f"fanout{n}", sources={f"s{i}": backend.get(p) for i, p in enumerate(paths(n))})


async def httpx_gather(client: httpx.AsyncClient, url: str, n: int) -> list[Any]:
    async def one(path: str) -> Any:
        response = await client.get(url + path, headers=HEADERS)
        response.raise_for_status()
        return response.json()

    return await asyncio.gather(*(one(p) for p in paths(n)))


async def aiohttp_gather(session: aiohttp.ClientSession, url: str, n: int) -> list[Any]:
    async def one(path: str) -> Any:
        async with session.get(url + path, headers=HEADERS) as response:
            response.raise_for_status()
            return await response.json()

    return await asyncio.gather(*(one(p) for p in paths(n)))


async def raw_gather(client: RawClient, n: int) -> list[Any]:
    return await asyncio.gather(*(client.get_json(p, HEADERS) for p in paths(n)))


def measured(n: int, work: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Metrics]]:
    async def sample() -> Metrics:
        gc.collect()  # no collector debt carried over from the variant before
        wall, cpu = time.perf_counter(), time.process_time()
        await work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"overhead_ms": wall * 1000 - DELAY_MS, "cpu_us": cpu * 1e6 / n}

    return sample


async def run_mode(url: str, n: int, warm: bool, reps: int) -> dict[str, list[Metrics]]:
    fn = sff_function(url, n)
    if warm:
        sff_client, hx_client, raw_client = new_client(), httpx.AsyncClient(), RawClient(url)
        session = aiohttp.ClientSession()
        variants = {
            "sff": measured(n, lambda: fn.invoke(client=sff_client)),
            "httpx": measured(n, lambda: httpx_gather(hx_client, url, n)),
            "aiohttp": measured(n, lambda: aiohttp_gather(session, url, n)),
            "raw asyncio": measured(n, lambda: raw_gather(raw_client, n)),
        }
        try:
            return await interleave_async(reps, variants)
        finally:
            await sff_client.aclose()
            await hx_client.aclose()
            await session.close()
            await raw_client.aclose()

    async def fresh_httpx() -> Any:
        async with httpx.AsyncClient() as client:
            return await httpx_gather(client, url, n)

    async def fresh_aiohttp() -> Any:
        async with aiohttp.ClientSession() as session:
            return await aiohttp_gather(session, url, n)

    async def fresh_raw() -> Any:
        client = RawClient(url)
        try:
            return await raw_gather(client, n)
        finally:
            await client.aclose()

    return await interleave_async(
        reps,
        {
            "sff": measured(n, lambda: fn.invoke()),
            "httpx": measured(n, fresh_httpx),
            "aiohttp": measured(n, fresh_aiohttp),
            "raw asyncio": measured(n, fresh_raw),
        },
    )


def run(settings: Settings) -> Report:
    report = Report()
    sizes = settings.sizes([1, 5, 20, 100], [1, 5])
    with backend_process() as url:
        for warm in (False, True):
            mode = "warm" if warm else "fresh"
            overheads: dict[int, dict[str, float]] = {}
            for n in sizes:
                runs = asyncio.run(run_mode(url, n, warm, settings.reps))
                case = f"N={n} {mode}"
                stats = report.add(
                    BENCH, case, "overhead ms", transpose(runs, "overhead_ms"), "httpx"
                )
                cpu = report.add(
                    BENCH, case, "CPU us/request", transpose(runs, "cpu_us"), "aiohttp"
                )
                overheads[n] = {k: s.median for k, s in stats.items()}
                for peer in ("httpx", "aiohttp"):
                    report.targets.append(
                        Target(
                            f"fan-out {case}: sff / {peer} overhead", ratio(stats, "sff", peer), 1.0
                        )
                    )
                if warm and n == max(sizes):
                    report.targets.append(
                        Target(
                            f"fan-out {case}: sff CPU per backend request (in-process)",
                            cpu["sff"].median,
                            CPU_BUDGET_US,
                            "us",
                        )
                    )
            if 1 in overheads and len(overheads) > 1:
                big = max(overheads)
                per = {k: (overheads[big][k] - overheads[1][k]) / (big - 1) for k in overheads[big]}
                report.notes.append(
                    f"fan-out {mode}: overhead per extra request from N=1 to N={big}: "
                    + ", ".join(f"{k} {v * 1000:.0f} us" for k, v in per.items())
                )
                report.targets.append(
                    Target(
                        f"fan-out N={big} {mode}: sff / raw asyncio, overhead per extra request",
                        per["sff"] / max(per["raw asyncio"], 1e-6),
                        3.0,
                    )
                )
    return report


def ratio(stats: dict[str, Any], a: str, b: str) -> float:
    return float(stats[a].median / max(stats[b].median, 1e-6))
