"""The async executor: dataflow scheduling, `each` fan-out, request dedup, deadline.

Every source is a task that waits only for its own dependencies, so an invocation takes
the critical path of backend latencies and nothing more.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from sff.errors import DeadlineError, InputError, SffError, SourceError
from sff.expr import truthy
from sff.fetch import HttpFetcher
from sff.plan import Node
from sff.resilience import Deadline
from sff.result import Meta, Result, SourceMeta
from sff.spec import CallSource

if TYPE_CHECKING:
    import httpx

    from sff.function import Function

SHAPE_MARGIN_S = 0.05  # kept back from the deadline for shaping and serialising
GRACE_S = 0.02  # lets a source whose own timeout is the deadline fall back before we cancel it


async def invoke(
    fn: Function,
    raw_input: Any,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    request_id: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> Result:
    meta = Meta(fn.name, request_id or uuid.uuid4().hex, plan=fn.plan.describe())
    started = time.perf_counter()
    try:
        context = {"input": validate_input(fn, raw_input)}
        budget = fn.timeout if timeout is None else min(fn.timeout, timeout)
        deadline = Deadline.after(max(0.0, budget - SHAPE_MARGIN_S))
        fetcher = HttpFetcher(fn.plan, client, headers or {}, meta.request_id)
        async with fetcher:
            await Invocation(fn, context, fetcher, deadline, meta, started).run()
        data = fn.shape.apply(context)
    except SffError as exc:
        exc.meta = meta
        raise
    finally:
        meta.duration_ms = (time.perf_counter() - started) * 1000
    return Result(data, meta)


def validate_input(fn: Function, raw: Any) -> Any:
    """The input as JSON-ready data; a mismatch is a 400 naming the field."""
    if fn.input is None:
        return raw if raw is not None else {}
    try:
        model = fn.input.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(input)", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        first = problems[0]
        raise InputError(
            f"invalid input: field {first['field']!r}: {first['message']}",
            field=first["field"],
            problems=problems,
        ) from None
    return model.model_dump(mode="json")


class Invocation:
    """One run of one function's plan."""

    def __init__(
        self,
        fn: Function,
        context: dict[str, Any],
        fetcher: HttpFetcher,
        deadline: Deadline,
        meta: Meta,
        started: float,
    ) -> None:
        self.fn, self.context, self.fetcher = fn, context, fetcher
        self.deadline, self.meta, self.started = deadline, meta, started
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def now_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    async def run(self) -> None:
        plan = self.fn.plan
        for name in plan.order:  # topological: every dependency's task already exists
            self.meta.sources[name] = SourceMeta(name)
            self.tasks[name] = asyncio.create_task(self.run_source(plan.nodes[name]))
        if not self.tasks:
            return
        done, pending = await asyncio.wait(
            self.tasks.values(),
            timeout=self.deadline.remaining() + GRACE_S,
            return_when=asyncio.FIRST_EXCEPTION,
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception():
                raise task.exception()  # type: ignore[misc]
        if pending:
            late = sorted(n for n, t in self.tasks.items() if t in pending)
            for name in late:
                self.meta.sources[name].outcome = "cancelled"
            raise DeadlineError(
                f"function {self.fn.name!r} ran out of time "
                f"({self.fn.timeout:g}s); unfinished: {', '.join(late)}",
                unfinished=late,
            )

    async def run_source(self, node: Node) -> None:
        if node.deps:
            await asyncio.gather(*(self.tasks[d] for d in node.deps))
        src = self.meta.sources[node.name]
        src.start_ms = self.now_ms()
        try:
            if node.when is not None and not truthy(node.when.search(self.context)):
                src.outcome, self.context[node.name] = "skipped", None
                return
            self.context[node.name] = await self.fetch(node, src)
            src.outcome = "ok"
        except SourceError as exc:
            self.context[node.name] = self.fall_back(node, src, exc)
        except SffError as exc:  # an expression failed on this data
            self.context[node.name] = self.fall_back(node, src, exc)
        finally:
            src.end_ms = self.now_ms()

    async def fetch(self, node: Node, src: SourceMeta) -> Any:
        timeout = node.source.options.timeout
        if node.each is None:
            return await self.fetch_one(node, self.context, src, timeout)
        items = node.each.search(self.context)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise SourceError(node.name, f"`each` gave {type(items).__name__}, expected an array")
        src.items = len(items)
        gate = asyncio.Semaphore(node.source.options.concurrency)

        async def one(item: Any) -> Any:
            async with gate:
                return await self.fetch_one(node, {**self.context, "item": item}, src, timeout)

        return list(await asyncio.gather(*(one(item) for item in items)))

    async def fetch_one(
        self, node: Node, context: Mapping[str, Any], src: SourceMeta, timeout: float | None
    ) -> Any:
        if isinstance(node.source, CallSource):
            src.attempts += 1
            return await self.call(node, context, timeout)
        return await self.fetcher.fetch(node, context, src, self.deadline, timeout)

    async def call(self, node: Node, context: Mapping[str, Any], timeout: float | None) -> Any:
        from sff.function import Function

        assert isinstance(node.source, CallSource) and node.args is not None
        args = node.args.render(context)
        left = (
            self.deadline.remaining()
            if timeout is None
            else min(timeout, self.deadline.remaining())
        )
        target = node.source.target
        try:
            if isinstance(target, Function):
                result = await target.invoke(
                    args, timeout=left, request_id=self.meta.request_id, client=self.fetcher.client
                )
                return result.json()
            async with asyncio.timeout(left):
                value = await target(**args)
        except TimeoutError:
            raise SourceError(node.name, f"timed out after {left:.3g}s") from None
        except SffError as exc:
            raise SourceError(node.name, exc.message) from None
        except Exception as exc:  # a user's service call: report it, never crash the caller
            raise SourceError(node.name, f"{type(exc).__name__}: {str(exc)[:200]}") from None
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value

    def fall_back(self, node: Node, src: SourceMeta, error: SffError) -> Any:
        """The first value fallback in the chain stands in; without one the source is required."""
        src.error = error.message
        for step in node.source.options.fallback:
            if step.kind in ("value", "omit"):
                src.outcome, src.degraded = "degraded", step.kind
                return step.data if step.kind == "value" else None
        src.outcome = "failed"
        raise error
