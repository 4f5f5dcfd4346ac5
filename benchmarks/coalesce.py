"""7. Request coalescing: backend requests per client request under 64 concurrent identical
page requests (3 sources, 20 ms each), counted by the backend itself.

The page is served by sff's ASGI adapter under uvicorn: resident (one warm client lent to
every invocation, so identical GETs in flight are shared) and use-and-destroy (each
invocation on its own). With one identity, and with two (half the requests carry another
``Authorization``, which the page forwards: they must never share). For scale, published
figures of GraphQL routers on their own coalescing benchmark: Cosmo 0.63, Hive Router 0.64,
Apollo Router 16.0 backend requests per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import urllib.request
from functools import partial

import httpx

from benchmarks._backend import backend_process
from benchmarks._common import Metrics, Report, Settings, interleave, transpose
from benchmarks.resident import UVICORN, server

BENCH = "coalescing"
CONCURRENT = 64
SOURCES = 3


def backend_requests(api: str) -> int:
    with urllib.request.urlopen(f"{api}/_stats", timeout=10) as answer:
        return int(json.loads(answer.read())["requests"])


async def burst(url: str, identities: int) -> None:
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.get(url, headers={"authorization": f"Bearer user-{i % identities}"})
                for i in range(CONCURRENT)
            )
        )
    bad = [a.status_code for a in answers if a.status_code != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} of {CONCURRENT} page requests failed: {bad[:5]}")


def per_request(url: str, api: str, identities: int) -> Metrics:
    before = backend_requests(api)
    asyncio.run(burst(url, identities))
    sent = backend_requests(api) - before  # the backend does not count its /_ paths
    return {"per_request": sent / CONCURRENT}


def run(settings: Settings) -> Report:
    report = Report()
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(backend_process())
        py = [sys.executable, "-m", "uvicorn", "--port", "{port}", *UVICORN, "--factory"]
        urls = {
            "sff resident": stack.enter_context(
                server([*py, "benchmarks.apps.page_coalesce:resident"], api)
            ),
            "sff use-and-destroy": stack.enter_context(
                server([*py, "benchmarks.apps.page_coalesce:isolated"], api)
            ),
        }
        for identities in (2,) if settings.smoke else (1, 2):
            runs = interleave(
                max(settings.reps, 1),
                {name: partial(per_request, url, api, identities) for name, url in urls.items()},
                warmup=0 if settings.smoke else 1,
            )
            case = f"{CONCURRENT} concurrent identical pages, {identities} identit" + (
                "y" if identities == 1 else "ies"
            )
            report.add(
                BENCH,
                case,
                "backend requests / request",
                transpose(runs, "per_request"),
                "sff use-and-destroy",
            )
    report.notes.append(
        f"coalescing: {SOURCES} backend calls per page; without sharing a page costs "
        f"{SOURCES}.0 backend requests. Anchors (backend requests per request, their own "
        "benchmark): Cosmo 0.63, Hive Router 0.64, Apollo Router 16.0."
    )
    return report
