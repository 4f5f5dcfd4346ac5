"""The gateway: one HTTP request → route → an instance of the process model → answer.

Platform endpoints live under ``/_sff`` (page, invocations, stats) plus ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid
from typing import Any

from sff.serve import page
from sff.serve.catalog import Catalog, Route
from sff.serve.http import Request, Response, error_response, json_response
from sff.serve.instance import Crashed, Hung, InitFailed
from sff.serve.options import Options
from sff.serve.pool import OverCapacity, Pool
from sff.serve.protocol import Call
from sff.serve.report import Invocation, billed, platform_headers, report_line
from sff.serve.stats import Prices, Stats

BODYLESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class BadInput(Exception):
    pass


class Gateway:
    def __init__(self, options: Options, catalog: Catalog) -> None:
        self.options = options
        self.catalog = catalog
        self.pools: dict[str, Pool] = {}
        self.stats = Stats(Prices(options.price_per_million, options.price_per_gb_second))
        self.background: set[asyncio.Task[None]] = set()

    async def handle(self, request: Request) -> Response:
        if request.path == "/openapi.json" or request.path.startswith("/_sff"):
            return self.platform(request)
        matched = self.catalog.find(request.path)
        if not matched:
            return self.not_found(request)
        for route, params in matched:
            if route.method == request.method:
                return await self.invoke(route, params, request)
        allow = ", ".join(sorted({r.method for r, _ in matched}))
        response = error_response(405, "method_not_allowed", f"use {allow} at {request.path}")
        response.headers["allow"] = allow
        return response

    def platform(self, request: Request) -> Response:
        if request.method != "GET":
            return error_response(405, "method_not_allowed", "platform endpoints answer GET")
        if request.path == "/openapi.json":
            return json_response(200, self.catalog.openapi)
        if request.path == "/_sff/stats":
            return json_response(200, self.stats.summary())
        if request.path == "/_sff/invocations":
            return json_response(200, [inv.to_dict() for inv in self.stats.recent])
        if request.path.rstrip("/") == "/_sff":
            return Response(200, page.HTML.encode(), {"content-type": "text/html; charset=utf-8"})
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
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
        return error_response(404, "not_found", f"no function at {request.path}", routes=routes)

    async def invoke(self, route: Route, params: dict[str, str], request: Request) -> Response:
        started = time.perf_counter()
        inv = Invocation(
            request_id(request), route.spec.name, request.method, request.path,
            memory_mb=self.options.memory_mb,
        )  # fmt: skip
        try:
            call = Call(input=to_input(request, params), headers=request.headers,
                        request_id=inv.request_id)  # fmt: skip
        except BadInput as exc:
            return error_response(400, "invalid_input", str(exc), field="(body)")
        response = await self._run(self.pool(route), call, inv)
        inv.latency_ms = (time.perf_counter() - started) * 1000
        self.stats.add(inv)
        print(report_line(inv), flush=True)
        return response

    async def _run(self, pool: Pool, call: Call, inv: Invocation) -> Response:
        try:
            instance, inv.cold = await pool.acquire()
        except OverCapacity:
            return self._refuse(inv)
        except InitFailed as exc:
            return self._failed(inv, 500, "import_failed", str(exc))
        inv.instance, inv.init_ms = instance.id, instance.init_ms if inv.cold else 0.0
        try:
            reply = await instance.invoke(call)
        except Crashed as exc:
            status, code = (504, "instance_timeout") if isinstance(exc, Hung) else (502, "crash")
            return self._failed(inv, status, code, str(exc))
        finally:
            self._release(pool, instance)
        return self._answer(inv, reply)

    def _answer(self, inv: Invocation, reply: dict[str, Any]) -> Response:
        meta = reply.get("meta") or {}
        inv.status = int(reply["status"])
        inv.duration_ms = float(reply["duration_ms"])
        inv.max_memory_mb = reply["max_rss_kb"] / 1024
        inv.billed_ms = billed(inv.init_ms, inv.duration_ms, self.options.billing_granularity_ms)
        inv.degraded, inv.sources = meta.get("degraded", []), meta.get("sources", {})
        inv.plan = meta.get("plan", {})
        headers = dict(reply["headers"])
        headers.update(platform_headers(inv, headers.pop("server-timing", None)))
        return Response(inv.status, reply["body"].encode(), headers)

    def _refuse(self, inv: Invocation) -> Response:
        inv.status, inv.error = 503, "over capacity"
        message = f"every instance of {inv.function!r} is busy; retry shortly"
        response = error_response(503, "over_capacity", message, request_id=inv.request_id)
        response.headers.update({"retry-after": "1", "x-request-id": inv.request_id})
        return response

    def _failed(self, inv: Invocation, status: int, code: str, detail: str) -> Response:
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


def request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def to_input(request: Request, params: dict[str, str]) -> Any:
    """Query parameters, then a JSON body object, then path parameters (later wins)."""
    fields: dict[str, Any] = {}
    for key, value in request.query:
        previous = fields.get(key)
        fields[key] = value if previous is None else [*_listed(previous), value]
    body = None
    if request.method not in BODYLESS and request.body.strip():
        try:
            body = json.loads(request.body)
        except ValueError as exc:
            raise BadInput(f"the body is not valid JSON: {exc}") from None
    if body is not None and not isinstance(body, dict):
        if fields or params:
            raise BadInput("the JSON body must be an object when the query carries fields")
        return body
    return {**fields, **(body or {}), **params}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
