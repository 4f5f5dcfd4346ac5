"""One large response, end to end, in this fresh process: fetch, parse, shape to 2 of 20
fields, validate into the contract, serialize. Prints ``{"ms", "growth_kib", "out"}``.

``python -m benchmarks.apps.large_app VARIANT BASE_URL MIB``: a first run over a small body
(``/wide?mib=0``, 100 KiB) pays the one-time costs (imports, a pool's connection, decoders),
then the peak RSS is reset to the current one (``/proc/self/clear_refs``) and the
``/wide?mib=MIB`` body is measured.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from benchmarks.apps._peak import peak_kib

SHAPE = "rows[*].{id: id, name: f1}"


class Item(BaseModel):
    id: int
    name: str


class Page(BaseModel):
    items: list[Item]


Run = Callable[[str], Awaitable[bytes]]


def sff_variant(base: str) -> Run:
    from sff import Backend, Function

    api = Backend("wide", default=base, max_response_bytes=64 * 1024 * 1024)
    rows = api.get("/wide", query={"mib": "input.mib"})
    fn = Function("wide", sources={"rows": rows}, shape={"items": SHAPE}, contract=Page)

    async def run(mib: str) -> bytes:
        return (await fn.invoke({"mib": mib})).body()

    return run


def hand_variant(parse: str, base: str) -> Run:
    """Hand-written with httpx: ``json`` + jmespath + pydantic, orjson + a comprehension +
    pydantic, or msgspec decoding straight into typed structs (no pydantic at all)."""
    import httpx

    client = httpx.AsyncClient()
    if parse == "json":
        import jmespath

        expr = jmespath.compile(SHAPE.removeprefix("rows"))  # over the body itself

        def work(body: bytes) -> bytes:
            shaped = {"items": expr.search(json.loads(body))}
            return Page.model_validate(shaped).model_dump_json().encode()

    elif parse == "orjson":
        import orjson

        def work(body: bytes) -> bytes:
            rows = orjson.loads(body)
            shaped = {"items": [{"id": r.get("id"), "name": r.get("f1")} for r in rows]}
            return Page.model_validate(shaped).model_dump_json().encode()

    else:
        import msgspec

        class Row(msgspec.Struct):
            id: int
            f1: str

        decoder, encoder = msgspec.json.Decoder(list[Row]), msgspec.json.Encoder()

        def work(body: bytes) -> bytes:
            rows = decoder.decode(body)
            return encoder.encode({"items": [{"id": r.id, "name": r.f1} for r in rows]})

    async def run(mib: str) -> bytes:
        response = await client.get(f"{base}/wide", params={"mib": mib})
        return work(response.content)

    return run


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # the peak RSS starts over from the current RSS
        return True
    except OSError:
        return False


def current_kib() -> int:
    with open("/proc/self/statm") as statm:
        import os

        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


async def main(variant: str, base: str, mib: str) -> dict[str, Any]:
    if variant == "sff-full":  # what sff did before projection pushdown: every body parsed whole
        from sff.http import response

        setattr(response, "MIN_BYTES", 1 << 40)  # noqa: B010 (a module global, on purpose)
    run = sff_variant(base) if variant.startswith("sff") else hand_variant(variant, base)
    await run("0")
    import gc

    gc.collect()
    reset_peak()
    before = current_kib()
    started = time.perf_counter()
    out = await run(mib)
    ms = (time.perf_counter() - started) * 1000
    return {"ms": ms, "growth_kib": peak_kib() - before, "out": len(out)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4]))))
