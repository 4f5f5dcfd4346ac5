"""The gateway: an ASGI app (under uvicorn, see `sff.serve.front`) that routes each
request to an instance of the process model and answers as a platform would.

Platform endpoints live under ``/_sff`` (page, invocations, stats), plus ``/openapi.json``
and its Swagger UI at ``/docs``. The request becomes an input through `sff.inbound`, the
parser every front shares, before any instance is involved.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

from sff import bounded
from sff.answer import conditional
from sff.errors import SffError
from sff.inbound import HttpRequest, HttpResponse, PayloadTooLarge, to_input
from sff.serve import docs, page
from sff.serve.answers import Send, error_response, html_response, json_response, send_response
from sff.serve.catalog import Catalog, Route
from sff.serve.instance import Crashed, Hung, InitFailed
from sff.serve.options import Options
from sff.serve.pool import OverCapacity, Pool
from sff.serve.protocol import Call, encode
from sff.serve.reading import Receive, read_request
from sff.serve.report import Invocation, billed, platform_headers, report_line
from sff.serve.stats import Prices, Stats

SAFE_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class Gateway:
    def __init__(self, options: Options, catalog: Catalog, hosts: frozenset[str]) -> None:
        self.options = options
        self.catalog = catalog
        self.hosts = hosts
        self.pools: dict[str, Pool] = {}
        self.stats = Stats(Prices(options.price_per_million, options.price_per_gb_second))
        self.background: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off and websockets are not served
        try:
            request = await read_request(
                scope, receive, hosts=self.hosts, body_timeout=self.options.body_timeout
            )
        except SffError as exc:
            response = error_response(exc.status, exc.code, exc.message, **exc.detail)
            response.headers["connection"] = "close"  # the rest of the stream is not trusted
            await send_response(send, response)
            return
        response = await self.handle(request)
        await send_response(send, response, head_only=request.method == "HEAD")

    async def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path in ("/openapi.json", "/docs") or path.startswith(("/_sff", "/docs/")):
            return self.platform(request)
        matched = self.catalog.find(path)
        if not matched:
            return self.not_found(request)
        for route, params in matched:
            if route.method == request.method:
                request.path_params = params
                return await self.invoke(route, request)
        allow = ", ".join(sorted({r.method for r, _ in matched}))
        response = error_response(405, "method_not_allowed", f"use {allow} at {path[:200]}")
        response.headers["allow"] = allow
        return response

    def platform(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return error_response(405, "method_not_allowed", "platform endpoints answer GET")
        path = request.path
        if path == "/openapi.json":
            return json_response(200, self.catalog.openapi)
        if path == "/docs" or path.startswith("/docs/"):
            return docs.answer(path) or self.not_found(request)
        if path == "/_sff/stats":
            return json_response(200, self.stats.summary())
        if path == "/_sff/invocations":
            return json_response(200, [inv.to_dict() for inv in self.stats.recent])
        if path.rstrip("/") == "/_sff":
            return html_response(page.render(self.stats, self.options.model))
        return self.not_found(request)

    def not_found(self, request: HttpRequest) -> HttpResponse:
        broken = self.catalog.broken_at(request.path)
        if broken is not None:
            print(
                f"sff serve: {request.method} {request.path}: {broken.where} ({broken.module}) "
                f"failed to import: {broken.error}",
                file=sys.stderr,
                flush=True,
            )
            message = f"function module {broken.module!r} failed to import (see the server log)"
            return error_response(500, "import_failed", message)
        routes = self.catalog.listing()
        message = f"no function at {request.path[:200]}"
        return error_response(404, "not_found", message, routes=routes)

    async def invoke(self, route: Route, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        inv = Invocation(
            request_id(request), route.spec.name, request.method, request.path,
            memory_mb=self.options.memory_mb,
        )  # fmt: skip
        try:
            limit = int(route.info.get("max_input_bytes") or len(request.body))
            if len(request.body) > limit:  # refused before parsing, as every adapter does
                raise PayloadTooLarge(
                    f"request body of {len(request.body)} bytes is over max_input_bytes "
                    f"({limit}) of function {route.spec.name!r}",
                    limit=limit,
                )
            # a large body is parsed and re-encoded for the instance off the loop
            call = await bounded.off_loop(
                lambda: encode(Call(input=to_input(request), headers=request.headers,
                                    request_id=inv.request_id)),
                large=len(request.body) > bounded.LARGE_BODY,
            )  # fmt: skip
        except SffError as exc:
            return error_response(exc.status, exc.code, exc.message, **exc.detail)
        response = conditional(request.method, request.headers,
                               await self._run(self.pool(route), call, inv))  # fmt: skip
        inv.status = response.status  # a 304 is what the caller got
        inv.latency_ms = (time.perf_counter() - started) * 1000
        self.stats.add(inv)
        print(report_line(inv), flush=True)
        return response

    async def _run(self, pool: Pool, call: bytes, inv: Invocation) -> HttpResponse:
        try:
            instance, inv.cold = await pool.acquire()
        except OverCapacity:
            return self._refuse(inv)
        except InitFailed as exc:
            return self._failed(inv, 500, "import_failed", str(exc))
        inv.instance, inv.init_ms = instance.id, instance.init_ms if inv.cold else 0.0
        inv.starting_together = instance.starting_together if inv.cold else 0
        try:
            reply = await instance.invoke(call)
        except Crashed as exc:
            status, code = (504, "instance_timeout") if isinstance(exc, Hung) else (502, "crash")
            return self._failed(inv, status, code, str(exc))
        finally:
            self._release(pool, instance)
        return self._answer(inv, reply)

    def _answer(self, inv: Invocation, reply: dict[str, Any]) -> HttpResponse:
        meta = reply.get("meta") or {}
        inv.status = int(reply["status"])
        inv.duration_ms = float(reply["duration_ms"])
        inv.max_memory_mb = reply["max_rss_kb"] / 1024
        inv.billed_ms = billed(inv.init_ms, inv.duration_ms, self.options.billing_granularity_ms)
        inv.degraded, inv.sources = meta.get("degraded", []), meta.get("sources", {})
        inv.plan = meta.get("plan", {})
        headers = dict(reply["headers"])
        headers.update(platform_headers(inv, headers.pop("server-timing", None)))
        return HttpResponse(inv.status, headers, reply["body"].encode())

    def _refuse(self, inv: Invocation) -> HttpResponse:
        inv.status, inv.error = 503, "over capacity"
        message = f"every instance of {inv.function!r} is busy; retry shortly"
        response = error_response(503, "over_capacity", message, request_id=inv.request_id)
        response.headers.update({"retry-after": "1", "x-request-id": inv.request_id})
        return response

    def _failed(self, inv: Invocation, status: int, code: str, detail: str) -> HttpResponse:
        """The platform's own failure: the log gets the detail, the caller a short message."""
        print(f"sff serve: {inv.function} [{inv.request_id}]: {detail}", file=sys.stderr)
        inv.status, inv.error = status, code
        if inv.instance != "-":  # an instance ran (and was billed) until it failed
            inv.billed_ms = billed(inv.init_ms, 0.0, self.options.billing_granularity_ms)
        message = {
            "import_failed": f"function {inv.function!r} could not start (see the server log)",
            "crash": f"the instance running {inv.function!r} crashed",
            "instance_timeout": f"the instance running {inv.function!r} stopped answering",
        }[code]
        response = error_response(status, code, message, request_id=inv.request_id)
        response.headers.update(platform_headers(inv, None))
        return response

    def _release(self, pool: Pool, instance: Any) -> None:
        task = asyncio.create_task(pool.release(instance))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def pool(self, route: Route) -> Pool:
        pool = self.pools.get(route.spec.name)
        if pool is None or pool.spec != route.spec:
            pool = self.pools[route.spec.name] = Pool(
                route.spec,
                resident=self.options.model == "resident",
                max_instances=self.options.max_instances,
                wait=self.options.wait_limit,
                queue=self.options.queue_depth,
            )
        return pool

    async def reclaim_idle(self) -> None:
        for pool in list(self.pools.values()):
            await pool.reclaim(self.options.idle_timeout, self._reclaimed)

    def _reclaimed(self, instance: Any) -> None:
        idle = time.monotonic() - instance.last_used
        print(f"RECLAIM Instance: {instance.id}\tIdle: {idle:.1f} s", flush=True)

    async def close(self) -> None:
        await asyncio.gather(*self.background, return_exceptions=True)
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))


def request_id(request: HttpRequest) -> str:
    given = request.headers.get("x-request-id", "")
    return given if 0 < len(given) <= 64 and set(given) <= SAFE_ID else uuid.uuid4().hex
