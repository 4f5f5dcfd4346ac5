"""Batch endpoints instead of N+1: 100 comment authors, one request each vs `batch=`.

The demo backend runs in its own process with todo 37 given 100 distinct commenters
(``--crowd 37:100``). Both variants are todo_detail's comments + authors sources, the
authors either per item (``GET /users/{id}``, concurrency 8) or batched
(``GET /users?id=..``, 50 per request). Backend requests are counted by the backend's
own request log (``/_stats``, reset before every sample), wall time around the
invocation; at 0 ms and at 20 ms of backend latency per request.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable

import httpx

from benchmarks._backend import DELAY_HEADER, backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave_async, transpose
from sff import Backend, Batch, Fallback, Function

BENCH = "batch"
TODO, AUTHORS = 37, 100
JOINED = "join_on(comments, authors, 'user_id', 'id', 'author')[*].author.name"


def detail(url: str, delay_ms: int, batched: bool) -> Function:
    api = Backend("users", default=url, headers={DELAY_HEADER: str(delay_ms)}, timeout="5s")
    each = "keys(index_by(comments, 'user_id'))"
    common = {"each": each, "concurrency": 8, "fallback": Fallback.value([])}
    if batched:
        authors = api.get("/users", query={"id": "item"}, batch=Batch(size=50), **common)
    else:
        authors = api.get("/users/{item}", **common)
    return Function(
        "batched" if batched else "per_item",
        sources={"comments": api.get(f"/todos/{TODO}/comments"), "authors": authors},
        shape=JOINED,
        timeout="30s",
    )


def measured(fn: Function, stats: httpx.AsyncClient) -> Callable[[], Awaitable[Metrics]]:
    async def sample() -> Metrics:
        await stats.post("/_reset")
        gc.collect()
        wall = time.perf_counter()
        result = await fn.invoke()
        wall = time.perf_counter() - wall
        names = result.json()
        assert len(set(names)) == AUTHORS and None not in names, "an author is missing"
        requests = (await stats.get("/_stats")).json()["requests"]
        return {"wall_ms": wall * 1000, "requests": float(requests)}

    return sample


async def run_case(url: str, delay_ms: int, reps: int) -> dict[str, list[Metrics]]:
    async with httpx.AsyncClient(base_url=url) as stats:
        return await interleave_async(
            reps,
            {
                "per item": measured(detail(url, delay_ms, batched=False), stats),
                "batched": measured(detail(url, delay_ms, batched=True), stats),
            },
        )


def run(settings: Settings) -> Report:
    report = Report()
    with backend_process("--crowd", f"{TODO}:{AUTHORS}") as url:
        for delay_ms in settings.sizes([0, 20], [0]):
            runs = asyncio.run(run_case(url, delay_ms, settings.reps))
            case = f"{AUTHORS} authors, backend {delay_ms} ms"
            walls = report.add(BENCH, case, "wall ms", transpose(runs, "wall_ms"), "per item")
            counts = report.add(
                BENCH, case, "backend requests", transpose(runs, "requests"), "per item"
            )
            report.notes.append(
                f"batch {case}: backend requests per invocation "
                f"{counts['per item'].median:.0f} per item vs {counts['batched'].median:.0f} "
                "batched (the backend's request log)"
            )
            report.targets.append(
                Target(
                    f"batch {case}: batched / per item wall time",
                    walls["batched"].median / max(walls["per item"].median, 1e-6),
                    1.0,
                )
            )
    return report
