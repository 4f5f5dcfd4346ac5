"""7. Bounds: one large input must not stall the instance for everyone else.

One resident instance (sff's ASGI app under uvicorn) is sent a heavy request while a
client pings ``/ping`` on the same instance back to back; the row is the slowest ping
answered while the heavy request ran, against pings with nothing heavy going on. Heavy
requests: ``each`` over 200,000 input ids under a 2 s deadline (refused past max_items
before any call), a 6 MB input under the default input bounds (a 413 before it is parsed),
and the same input with the bounds raised, sorted and grouped (a large body is
parsed and validated on `sff.bounded`'s thread pool and shaped off the event loop; the C
stretches of parsing and validation still hold the interpreter: the cost of opting in,
shown without a target).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from functools import partial

import httpx

from benchmarks._backend import ROOT, backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from benchmarks.resident import UVICORN, free_port

BENCH = "bounds"


@contextlib.contextmanager
def instance(api: str) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--port",
        str(port),
        *UVICORN,
        "--factory",
        "benchmarks.apps.bounds_sff:asgi",
    ]
    env = {**os.environ, "BENCH_API": api, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/ping", timeout=5).read()
                break
            if proc.poll() is not None or time.monotonic() > until:
                raise RuntimeError("the bounds instance did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # stuck in a blocked event loop: the point of it
            proc.kill()
            proc.wait()


def rows_body(megabytes: float) -> bytes:
    rows: list[dict[str, object]] = []
    size = 0
    while size < megabytes * 1e6:
        i = len(rows)
        row = {"id": i, "group": f"g{i % 50}", "score": (i * 7919) % 1000 / 10, "title": "t" * 40}
        rows.append(row)
        size += len(json.dumps(row)) + 2
    return json.dumps({"rows": rows}).encode()


async def sample(url: str, path: str | None, body: bytes, quiet_s: float) -> Metrics:
    """The slowest ping while ``path`` (or, without one, a quiet pause) is in progress."""
    async with httpx.AsyncClient(timeout=30) as pings, httpx.AsyncClient(timeout=30) as heavy:
        await pings.get(f"{url}/ping")
        during: list[float] = []
        busy = True

        async def ping() -> None:
            while busy:
                started = time.perf_counter()
                await pings.get(f"{url}/ping")
                during.append(time.perf_counter() - started)

        pinger = asyncio.create_task(ping())
        await asyncio.sleep(0.05)
        during.clear()
        started, status = time.perf_counter(), 0
        if path is None:
            await asyncio.sleep(quiet_s)
        else:
            answer = await heavy.post(
                f"{url}{path}", content=body, headers={"content-type": "application/json"}
            )
            status = answer.status_code
        elapsed = time.perf_counter() - started
        busy = False
        await pinger
    return {"ping_max_ms": max(during) * 1000, "request_ms": elapsed * 1000, "status": status}


def during(url: str, path: str, body: bytes) -> Metrics:
    return asyncio.run(sample(url, path, body, 0))


def run(settings: Settings) -> Report:
    report = Report()
    ids = 2_000 if settings.smoke else 200_000
    megabytes = 0.2 if settings.smoke else 6.0
    heavy = {
        f"each over {ids:,} ids": ("/many", json.dumps({"ids": list(range(ids))}).encode()),
        f"{megabytes:g} MB sort_by/group_by": ("/big", rows_body(megabytes)),
        f"{megabytes:g} MB, default input bound": ("/bounded", rows_body(megabytes)),
    }
    with backend_process() as api, instance(api) as url:
        for case, (path, body) in heavy.items():
            runs = interleave(
                settings.reps,
                {
                    "ping alone": lambda: asyncio.run(sample(url, None, b"", 0.3)),
                    "ping during": partial(during, url, path, body),
                },
            )
            statuses = sorted({int(m["status"]) for m in runs["ping during"]})
            stats = report.add(
                BENCH, case, "slowest ping ms", transpose(runs, "ping_max_ms"), "ping alone"
            )
            request = transpose({"heavy request": runs["ping during"]}, "request_ms")
            answered = report.add(BENCH, case, "ms to answer", request)
            report.notes.append(
                f"bounds {case}: answered HTTP {'/'.join(map(str, statuses))} in a median "
                f"{answered['heavy request'].median:.0f} ms; slowest concurrent ping median "
                f"{stats['ping during'].median:.0f} ms (alone {stats['ping alone'].median:.0f} ms)"
            )
            if path == "/big":  # bounds raised on purpose: the cost of opting in, no target
                continue
            report.targets.append(
                Target(
                    f"bounds {case}: slowest concurrent /ping",
                    stats["ping during"].median,
                    100,
                    unit="ms",
                )
            )
    return report
